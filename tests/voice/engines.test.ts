import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { VoiceEngineError, VoiceInputError } from '../../voice/errors.ts';
import { FakeStt } from '../../voice/fake-stt.ts';
import { FakeTts } from '../../voice/fake-tts.ts';
import { FliteTts } from '../../voice/flite-tts.ts';
import { POCKETSPHINX_INSTALL, PocketsphinxStt, pocketsphinxMissing } from '../../voice/pocketsphinx-stt.ts';
import { findExecutable } from '../../voice/subprocess.ts';
import { durationSeconds, encodeWav, parseWav, tone } from '../../voice/wav.ts';

test('the fakes answer what was queued, in order, throw queued errors, and record every call', async () => {
  const stt = new FakeStt({ defaultText: 'nothing' }).queue('first', new Error('engine down'), {
    text: 'third',
  });
  const wav = encodeWav(tone(1));
  assert.equal((await stt.transcribe(wav)).text, 'first');
  await assert.rejects(stt.transcribe(wav), /engine down/);
  assert.equal((await stt.transcribe(wav)).text, 'third');
  assert.equal((await stt.transcribe(wav)).text, 'nothing');
  assert.deepEqual(stt.calls, [
    { seconds: 1, text: 'first' },
    { seconds: 1, error: 'engine down' },
    { seconds: 1, text: 'third' },
    { seconds: 1, text: 'nothing' },
  ]);
  const given = encodeWav(tone(0.5, { hz: 100 }));
  const tts = new FakeTts().queue({ wav: given }, new VoiceInputError('scripted refusal'));
  assert.equal(await tts.synthesize(' Hi. '), given);
  await assert.rejects(tts.synthesize('Again.'), /scripted refusal/);
  assert.ok(durationSeconds(parseWav(await tts.synthesize('Default tone.'))) > 0.3);
  assert.deepEqual(tts.calls, [
    { text: 'Hi.' },
    { text: 'Again.', error: 'scripted refusal' },
    { text: 'Default tone.' },
  ]);
});

const missing = pocketsphinxMissing();
describe('pocketsphinx subprocess bounds', {
  skip: missing.length > 0 && `not installed: ${missing.join(', ')} (${POCKETSPHINX_INSTALL})`,
}, () => {
  // 30 s of a tone: several seconds of decoding, so the abort and the timeout land while it runs.
  const long = encodeWav(tone(30, { hz: 220 }));

  it('an abort during decoding kills the process and rejects at once', { timeout: 30_000 }, async () => {
    const ac = new AbortController();
    const p = new PocketsphinxStt().transcribe(long, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 700));
    const at = performance.now();
    ac.abort();
    await assert.rejects(p, { name: 'AbortError' });
    assert.ok(
      performance.now() - at < 3_000,
      `rejected ${Math.round(performance.now() - at)} ms after the abort`,
    );
  });

  it('a call past its timeout is stopped with a VoiceEngineError', { timeout: 30_000 }, async () => {
    await assert.rejects(
      new PocketsphinxStt({ timeoutMs: 500 }).transcribe(long),
      (e: unknown) => e instanceof VoiceEngineError && /no answer within 500 ms; stopped/.test(e.message),
    );
  });
});

test('flite: an unknown voice is refused (flite itself would fall back to another voice silently)', {
  skip: !findExecutable('flite') && 'flite is not installed (apt-get install flite)',
}, () => {
  assert.throws(() => new FliteTts({ voice: 'nosuch' }), /flite has no voice "nosuch"; its voices: slt, rms/);
  assert.equal(new FliteTts({ voice: 'rms' }).name, 'flite:rms');
});
