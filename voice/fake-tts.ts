/** `FakeTts`: a scriptable `Tts` for tests. Queue answers, read back the calls; by default a quiet tone. */
import { abortError } from './errors.ts';
import { delay } from './fake-stt.ts';
import { checkText, DEFAULT_MAX_TEXT_CHARS, type SynthesizeOptions, type Tts } from './tts.ts';
import { encodeWav, tone } from './wav.ts';

export interface FakeTtsAnswer {
  /** The WAV bytes to answer (default: a 440 Hz tone, 60 ms per character). */
  wav?: Uint8Array;
  delayMs?: number;
}

export class FakeTts implements Tts {
  readonly name = 'fake-tts';
  /** Every call's text (trimmed) and, where it failed, the error's message. */
  readonly calls: { text: string; error?: string }[] = [];
  private readonly answers: (FakeTtsAnswer | Error)[] = [];

  constructor(private readonly opts: { maxChars?: number } = {}) {}

  queue(...answers: (FakeTtsAnswer | Error)[]): this {
    this.answers.push(...answers);
    return this;
  }

  async synthesize(text: string, opts: SynthesizeOptions = {}): Promise<Uint8Array> {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const t = checkText(text, this.opts.maxChars ?? DEFAULT_MAX_TEXT_CHARS);
    const call: (typeof this.calls)[number] = { text: t };
    this.calls.push(call);
    const next = this.answers.shift() ?? {};
    if (next instanceof Error) {
      call.error = next.message;
      throw next;
    }
    if (next.delayMs) await delay(next.delayMs, opts.signal);
    return next.wav ?? encodeWav(tone(Math.max(0.3, t.length * 0.06), { hz: 440 }));
  }
}
