import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Stt } from '../../voice/stt.ts';
import { encodeWav, tone, WavError, type WavErrorCode } from '../../voice/wav.ts';
import { wordErrorRate } from '../../voice/wer.ts';

/**
 * The `Stt` contract: one suite, run against every engine (the fake and pocketsphinx). `speech()` gives a WAV
 * of someone saying `text` (for the fake, the answer it was scripted to give); `maxWer` is how far the
 * transcript may be from it. Bad audio is refused with a `WavError` before the engine runs; an aborted call
 * rejects with an `AbortError`.
 */
export interface SttContractSetup {
  /** An engine that refuses audio longer than `maxSeconds` (the default when undefined). */
  makeStt(opts?: { maxSeconds?: number }): Stt | Promise<Stt>;
  speech(stt: Stt): Promise<{ wav: Uint8Array; text: string }>;
  maxWer: number;
  /** Each call's bound; generous on a loaded machine. */
  timeoutMs?: number;
}

/** A WAV header that claims `seconds` of 16 kHz audio and carries none (a 2-hour file costs 44 bytes). */
export function claimedWav(seconds: number): Uint8Array {
  const bytes = encodeWav(tone(0));
  new DataView(bytes.buffer).setUint32(40, Math.round(seconds * 16000) * 2, true);
  return bytes;
}

async function refused(p: Promise<unknown>, code: WavErrorCode, message: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof WavError, `expected a WavError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

export function sttContract(name: string, setup: SttContractSetup): void {
  const timeout = setup.timeoutMs ?? 60_000;
  describe(`Stt contract: ${name}`, () => {
    it('transcribes speech close to what was said, with its time and any words in order', {
      timeout,
    }, async () => {
      const stt = await setup.makeStt();
      assert.ok(stt.name.length > 0);
      const { wav, text } = await setup.speech(stt);
      const r = await stt.transcribe(wav);
      const wer = wordErrorRate(text, r.text);
      assert.ok(
        wer <= setup.maxWer,
        `WER ${wer.toFixed(2)} > ${setup.maxWer}: said "${text}", heard "${r.text}"`,
      );
      assert.ok(Number.isFinite(r.ms) && r.ms >= 0, `ms: ${r.ms}`);
      let last = 0;
      for (const w of r.words ?? []) {
        assert.ok(w.startMs >= last && w.endMs >= w.startMs, `word times out of order: ${JSON.stringify(w)}`);
        last = w.startMs;
      }
    });

    it('refuses what is not a WAV, a wrong format, an empty file, a 2-hour file and a 44.1 kHz file', {
      timeout,
    }, async () => {
      const stt = await setup.makeStt();
      await refused(
        stt.transcribe(new TextEncoder().encode('not audio at all')),
        'not-wav',
        /not a WAV file/,
      );
      await refused(stt.transcribe(encodeWav(tone(0))), 'empty', /no audio/);
      await refused(stt.transcribe(claimedWav(2 * 3600)), 'too-long', /7200\.0 s long/);
      await refused(
        stt.transcribe(encodeWav(tone(0.5, { sampleRate: 44100 }))),
        'sample-rate',
        /44100 Hz; 16000 Hz is required/,
      );
      const stereo = encodeWav(tone(0.5));
      new DataView(stereo.buffer).setUint16(22, 2, true);
      await refused(stt.transcribe(stereo), 'format', /2 channels; mono is required/);
    });

    it('honours its maximum duration', { timeout }, async () => {
      const stt = await setup.makeStt({ maxSeconds: 1 });
      await refused(stt.transcribe(encodeWav(tone(1.5))), 'too-long', /1\.5 s long; at most 1 s/);
    });

    it('an aborted call rejects with an AbortError, before or during the work', { timeout }, async () => {
      const stt = await setup.makeStt();
      const { wav } = await setup.speech(stt);
      await assert.rejects(stt.transcribe(wav, { signal: AbortSignal.abort() }), { name: 'AbortError' });
      const ac = new AbortController();
      const p = stt.transcribe(wav, { signal: ac.signal });
      setTimeout(() => ac.abort(), 20);
      await assert.rejects(p, { name: 'AbortError' });
    });
  });
}
