import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pocketsphinxMissing } from '../../voice/pocketsphinx-stt.ts';
import { findExecutable } from '../../voice/subprocess.ts';
import { durationSeconds, encodeWav, parseWav, tone } from '../../voice/wav.ts';
import { wordErrorRate } from '../../voice/wer.ts';
import { runTimmy } from '../cli/harness.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'timmy-voice-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const missing = [...pocketsphinxMissing(), ...(findExecutable('flite') ? [] : ['flite'])];

describe('timmy voice, through the real binary', { timeout: 120_000 }, () => {
  it('engines: which are installed, what is missing, how to install it', async () => {
    const r = await runTimmy(['voice', 'engines', '--json']);
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      engines: { name: string; role: string; installed: boolean; missing: string[]; install: string }[];
    };
    assert.deepEqual(
      doc.engines.map((e) => e.name),
      ['pocketsphinx', 'flite', 'silero-vad', 'sherpa-onnx', 'sox'],
    );
    for (const e of doc.engines) assert.match(e.install, /^(apt-get|npm) install /);
    assert.equal(doc.ok, missing.length === 0);
    assert.equal(r.code, doc.ok ? 0 : 1);
    const text = await runTimmy(['voice', 'engines']);
    assert.match(text.stdout, /pocketsphinx\s+stt\s+(installed|MISSING)/);
  });

  it('transcribe: a missing file and a file that is not a WAV fail with a clear message, exit 1', async () => {
    const none = await runTimmy(['voice', 'transcribe', join(dir, 'nope.wav')]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^timmy: cannot read .*nope\.wav: ENOENT/);
    const text = join(dir, 'notes.wav');
    await writeFile(text, 'these are my notes, not audio\n');
    const bad = await runTimmy(['voice', 'transcribe', text]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, `timmy: ${text}: not a WAV file (no RIFF/WAVE header)\n`);
    assert.equal(bad.stdout, '');
    const at44 = join(dir, 'cd.wav');
    await writeFile(at44, encodeWav(tone(0.5, { sampleRate: 44100 })));
    const rate = await runTimmy(['voice', 'transcribe', at44]);
    assert.equal(rate.code, 1);
    assert.match(rate.stderr, /44100 Hz; 16000 Hz is required; convert it with: sox /);
    const long = join(dir, 'long.wav');
    await writeFile(long, encodeWav(tone(3)));
    const tooLong = await runTimmy(['voice', 'transcribe', long, '--max-seconds', '2']);
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.stderr, /3\.0 s long; at most 2 s/);
    const usage = await runTimmy(['voice', 'transcribe', long, '--max-seconds', 'x']);
    assert.equal(usage.code, 2);
  });

  it('say: empty text and an unknown voice are refused, exit 1', {
    skip: !findExecutable('flite') && 'flite is not installed (apt-get install flite)',
  }, async () => {
    const empty = await runTimmy(['voice', 'say', '  ', '-o', join(dir, 'x.wav')]);
    assert.equal(empty.code, 1);
    assert.equal(empty.stderr, 'timmy: there is no text to speak\n');
    const voice = await runTimmy(['voice', 'say', 'Hi.', '-o', join(dir, 'x.wav'), '--voice', 'nosuch']);
    assert.equal(voice.code, 1);
    assert.match(voice.stderr, /flite has no voice "nosuch"; its voices: slt, /);
  });

  it('say then transcribe: speech written to a file and read back', {
    skip: missing.length > 0 && `not installed: ${missing.join(', ')}`,
  }, async () => {
    const out = join(dir, 'status.wav');
    const said = 'Can you tell me the status of the network?';
    const say = await runTimmy(['voice', 'say', said, '-o', out, '--json']);
    assert.equal(say.code, 0, say.stderr);
    const s = JSON.parse(say.stdout) as { file: string; seconds: number; engine: string };
    assert.equal(s.engine, 'flite:slt');
    const audio = parseWav(await readFile(out), { sampleRate: 16000 });
    assert.ok(Math.abs(durationSeconds(audio) - s.seconds) < 0.01);
    const plain = await runTimmy(['voice', 'transcribe', out]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.ok(wordErrorRate(said, plain.stdout) <= 0.34, `heard: ${plain.stdout}`);
    const json = await runTimmy(['voice', 'transcribe', out, '--json']);
    const t = JSON.parse(json.stdout) as { text: string; engine: string; words: { word: string }[] };
    assert.equal(t.text, plain.stdout.trim());
    assert.equal(t.engine, 'pocketsphinx:en-us');
    assert.ok(t.words.length >= 5);
  });
});
