import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoiceInputError } from '../../voice/errors.ts';
import type { Tts } from '../../voice/tts.ts';
import { durationSeconds, parseWav } from '../../voice/wav.ts';

/**
 * The `Tts` contract: one suite, run against every engine (the fake and flite). Speech comes back as a 16 kHz
 * mono 16-bit WAV of a plausible length; empty and too long text is refused with a `VoiceInputError`; an
 * aborted call rejects with an `AbortError`.
 */
export interface TtsContractSetup {
  makeTts(opts?: { maxChars?: number }): Tts | Promise<Tts>;
  timeoutMs?: number;
}

export function ttsContract(name: string, setup: TtsContractSetup): void {
  const timeout = setup.timeoutMs ?? 60_000;
  describe(`Tts contract: ${name}`, () => {
    it('speaks text as a 16 kHz mono WAV whose length grows with the text', { timeout }, async () => {
      const tts = await setup.makeTts();
      assert.ok(tts.name.length > 0);
      const short = parseWav(await tts.synthesize('Hello.'), { sampleRate: 16000 });
      const long = parseWav(
        await tts.synthesize('Hello. The agents finished every job on the relay before the sun went down.'),
        { sampleRate: 16000 },
      );
      assert.equal(short.sampleRate, 16000);
      assert.ok(durationSeconds(short) > 0.2, `short: ${durationSeconds(short)} s`);
      assert.ok(durationSeconds(long) > durationSeconds(short) * 2, 'longer text, longer audio');
      assert.ok(durationSeconds(long) < 30, `long: ${durationSeconds(long)} s`);
      assert.ok(
        long.samples.some((s) => Math.abs(s) > 500),
        'the audio is not silent',
      );
    });

    it('speaks text that looks like an option or a file name, and text with quotes, as text', {
      timeout,
    }, async () => {
      const tts = await setup.makeTts();
      for (const t of ['-o', '/etc/passwd', `it's "quoted"; $(echo no) && rm -rf /`])
        assert.ok(durationSeconds(parseWav(await tts.synthesize(t))) > 0.1, t);
    });

    it('refuses empty and too long text with a VoiceInputError', { timeout }, async () => {
      const tts = await setup.makeTts({ maxChars: 40 });
      await assert.rejects(
        tts.synthesize('   '),
        (e: unknown) => e instanceof VoiceInputError && /no text/.test(e.message),
      );
      await assert.rejects(
        tts.synthesize('x'.repeat(41)),
        (e: unknown) => e instanceof VoiceInputError && /41 characters long; at most 40/.test(e.message),
      );
    });

    it('an aborted call rejects with an AbortError; calls at the same time all answer', {
      timeout,
    }, async () => {
      const tts = await setup.makeTts();
      await assert.rejects(tts.synthesize('Hello.', { signal: AbortSignal.abort() }), { name: 'AbortError' });
      const all = await Promise.all(['One.', 'Two.', 'Three.'].map((t) => tts.synthesize(t)));
      for (const wav of all) assert.ok(durationSeconds(parseWav(wav)) > 0.2);
    });
  });
}
