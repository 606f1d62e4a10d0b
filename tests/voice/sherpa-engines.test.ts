/**
 * The sherpa-onnx engines as far as this machine can test them: no STT or neural TTS model exists in npm or
 * Debian, so what is tested is that a missing model, a directory of the wrong files and a corrupt .onnx file
 * are each refused with an error naming what is missing and how to fetch it, and the process lives on
 * (sherpa-onnx's synchronous constructors abort the process on a corrupt file: the engines must not use them).
 * Which file plays which part is tested on empty files laid out as the real archives are.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { VoiceEngineError, VoiceEngineMissingError } from '../../voice/errors.ts';
import { sherpaOnnxVersion } from '../../voice/sherpa-onnx.ts';
import { detectSttModel, SherpaStt, sttModelConfig } from '../../voice/sherpa-stt.ts';
import { detectTtsModel, SherpaTts, ttsModelConfig } from '../../voice/sherpa-tts.ts';
import { SileroVad } from '../../voice/silero-vad.ts';

const root = mkdtempSync(join(tmpdir(), 'timmy-sherpa-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A directory holding `files` (name → content; '' for an empty placeholder). */
function layout(name: string, files: Record<string, string | Uint8Array>): string {
  const dir = join(root, name);
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), content);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Starts like an ONNX model (ir_version) and is garbage after: passes the header check, fails the load. */
const FAKE_ONNX = new Uint8Array([
  0x08,
  0x08,
  0x12,
  0x04,
  0x66,
  0x61,
  0x6b,
  0x65,
  ...new Array(64).fill(0x41),
]);

const missingErr = (what: RegExp) => (e: unknown) => {
  assert.ok(e instanceof VoiceEngineMissingError, `expected VoiceEngineMissingError, got ${String(e)}`);
  assert.match(e.message, what);
  assert.match(e.message, /timmy models fetch/);
  return true;
};
const engineErr = (what: RegExp) => (e: unknown) => {
  assert.ok(e instanceof VoiceEngineError, `expected VoiceEngineError, got ${String(e)}`);
  assert.match(e.message, what);
  return true;
};

describe('sherpa-onnx model directories: which file plays which part', () => {
  it('recognizes Whisper, Moonshine and transducer archives, preferring int8 files', () => {
    const w = detectSttModel(
      layout('sherpa-onnx-whisper-tiny.en', {
        'tiny.en-encoder.onnx': '',
        'tiny.en-encoder.int8.onnx': '',
        'tiny.en-decoder.onnx': '',
        'tiny.en-decoder.int8.onnx': '',
        'tiny.en-tokens.txt': '',
      }),
    );
    assert.equal(w.kind, 'whisper');
    assert.match(w.files.encoder!, /tiny\.en-encoder\.int8\.onnx$/);
    assert.match(w.files.tokens!, /tiny\.en-tokens\.txt$/);
    const m = detectSttModel(
      layout('sherpa-onnx-moonshine-tiny-en-int8', {
        'preprocess.onnx': '',
        'encode.int8.onnx': '',
        'uncached_decode.int8.onnx': '',
        'cached_decode.int8.onnx': '',
        'tokens.txt': '',
      }),
    );
    assert.equal(m.kind, 'moonshine');
    assert.deepEqual(Object.keys(sttModelConfig(m, 1).moonshine ?? {}).sort(), [
      'cachedDecoder',
      'encoder',
      'preprocessor',
      'uncachedDecoder',
    ]);
    // An archive's top folder inside the directory is looked into.
    const p = detectSttModel(
      layout('parakeet/sherpa-onnx-nemo-parakeet-tdt-0.6b-v2-int8', {
        'encoder.int8.onnx': '',
        'decoder.int8.onnx': '',
        'joiner.int8.onnx': '',
        'tokens.txt': '',
      }).replace(/\/sherpa-onnx-nemo[^/]*$/, ''),
    );
    assert.equal(p.kind, 'transducer');
    assert.equal(sttModelConfig(p, 1).modelType, 'nemo_transducer');
  });

  it('recognizes Piper (VITS), Kokoro and Kitten voices', () => {
    const v = detectTtsModel(
      layout('vits-piper-en_US-amy-low', {
        'en_US-amy-low.onnx': '',
        'tokens.txt': '',
        'espeak-ng-data/phontab': '',
      }),
    );
    assert.equal(v.kind, 'vits');
    assert.match(ttsModelConfig(v, 1).model.vits?.dataDir ?? '', /espeak-ng-data$/);
    const files = { 'model.int8.onnx': '', 'voices.bin': '', 'tokens.txt': '' };
    assert.equal(detectTtsModel(layout('kokoro-int8-en-v0_19', files)).kind, 'kokoro');
    const kitten = detectTtsModel(layout('kitten-nano-en-v0_2-fp16', files));
    assert.equal(kitten.kind, 'kitten');
    assert.ok(ttsModelConfig(kitten, 1).model.kitten);
  });
});

describe('sherpa-onnx STT refuses what it cannot load, clearly, and the process lives on', () => {
  it('a missing directory names it and the fetch command', async () => {
    await assert.rejects(SherpaStt.open({ modelDir: join(root, 'nope') }), missingErr(/nope/));
  });

  it('a directory of other files lists what it found and what each kind of model needs', async () => {
    const dir = layout('stt-wrong', { 'README.md': 'hello', 'model.bin': '' });
    await assert.rejects(
      SherpaStt.open({ modelDir: dir }),
      engineErr(
        /found: (README\.md, model\.bin|model\.bin, README\.md).*moonshine.*transducer.*whisper.*timmy models fetch/,
      ),
    );
    await assert.rejects(SherpaStt.open({ modelDir: layout('stt-empty', {}) }), engineErr(/found: no files/));
  });

  it('a model missing some of its files names the missing ones', async () => {
    const dir = layout('moonshine-half', { 'preprocess.onnx': '', 'tokens.txt': '' });
    await assert.rejects(
      SherpaStt.open({ modelDir: dir }),
      missingErr(/moonshine model.*encode\(\.int8\)\.onnx, uncached_decode\(\.int8\)\.onnx, cached_decode/),
    );
    const t = layout('transducer-no-decoder', { 'encoder.onnx': '', 'joiner.onnx': '', 'tokens.txt': '' });
    await assert.rejects(SherpaStt.open({ modelDir: t }), missingErr(/transducer model.*decoder\*\.onnx/));
  });

  it('a file that is not an ONNX model, and one that is corrupt inside, are refused', async () => {
    const html = layout('whisper-html', {
      'tiny-encoder.onnx': '<html>rate limited</html>',
      'tiny-decoder.onnx': '<html>rate limited</html>',
      'tiny-tokens.txt': 'a 0\n',
    });
    await assert.rejects(
      SherpaStt.open({ modelDir: html }),
      engineErr(/tiny-(en|de)coder\.onnx is not an ONNX model file/),
    );
    const corrupt = layout('whisper-corrupt', {
      'tiny-encoder.onnx': FAKE_ONNX,
      'tiny-decoder.onnx': FAKE_ONNX,
      'tiny-tokens.txt': 'a 0\n',
    });
    await assert.rejects(
      SherpaStt.open({ modelDir: corrupt }),
      engineErr(/whisper model in .*whisper-corrupt does not load .*fetch it again/),
    );
  });
});

describe('sherpa-onnx TTS refuses what it cannot load, clearly, and the process lives on', () => {
  it('a missing directory, other files, a Kokoro voice without its voices, a corrupt model', async () => {
    await assert.rejects(SherpaTts.open({ modelDir: join(root, 'no-voice') }), missingErr(/no-voice/));
    await assert.rejects(
      SherpaTts.open({ modelDir: layout('tts-wrong', { 'notes.txt': '' }) }),
      engineErr(/found: notes\.txt.*kokoro.*vits/),
    );
    await assert.rejects(
      SherpaTts.open({ modelDir: layout('vits-no-tokens', { 'en_US-amy-low.onnx': FAKE_ONNX }) }),
      missingErr(/vits model.*tokens\.txt/),
    );
    await assert.rejects(
      SherpaTts.open({ modelDir: layout('vits-html', { 'voice.onnx': 'Not Found', 'tokens.txt': 'a 0\n' }) }),
      engineErr(/voice\.onnx is not an ONNX model file/),
    );
    await assert.rejects(
      SherpaTts.open({
        modelDir: layout('vits-corrupt', { 'voice.onnx': FAKE_ONNX, 'tokens.txt': 'a 0\n' }),
      }),
      engineErr(/vits model in .*vits-corrupt does not load/),
    );
  });
});

describe('silero VAD refuses a missing or corrupt model', () => {
  it('names the missing file, refuses a corrupt one before the native load', {
    skip: sherpaOnnxVersion() ? false : 'sherpa-onnx-node is not installed',
  }, () => {
    assert.throws(
      () => new SileroVad({ modelPath: join(root, 'silero.onnx') }),
      (e: unknown) => e instanceof VoiceEngineMissingError && /silero\.onnx.*npm install/.test(e.message),
    );
    const bad = join(layout('silero-bad', { 'silero.onnx': 'not a model at all' }), 'silero.onnx');
    assert.throws(() => new SileroVad({ modelPath: bad }), engineErr(/not an ONNX model file/));
  });
});
