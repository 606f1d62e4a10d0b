/** `FakeStt`: a scriptable `Stt` for tests. Queue answers, read back the calls. It checks the WAV as engines do. */
import { abortError } from './errors.ts';
import { type Stt, type TranscribeOptions, type Transcript, utterance } from './stt.ts';
import { durationSeconds } from './wav.ts';

export interface FakeSttAnswer {
  text: string;
  /** Waits this long first (an abort ends the wait). */
  delayMs?: number;
}

export class FakeStt implements Stt {
  readonly name = 'fake-stt';
  /** Every call: the audio's duration in seconds and what was answered (or the error's message). */
  readonly calls: { seconds: number; text?: string; error?: string }[] = [];
  private readonly answers: (FakeSttAnswer | Error)[] = [];

  constructor(private readonly opts: { defaultText?: string; maxSeconds?: number } = {}) {}

  /** The next calls' answers, in order; an `Error` is thrown by its call. */
  queue(...answers: (FakeSttAnswer | Error | string)[]): this {
    for (const a of answers) this.answers.push(typeof a === 'string' ? { text: a } : a);
    return this;
  }

  async transcribe(wav: Uint8Array, opts: TranscribeOptions = {}): Promise<Transcript> {
    const started = performance.now();
    const audio = utterance(wav, opts, this.opts.maxSeconds);
    const call: (typeof this.calls)[number] = { seconds: durationSeconds(audio) };
    this.calls.push(call);
    const next = this.answers.shift() ?? { text: this.opts.defaultText ?? '' };
    if (next instanceof Error) {
      call.error = next.message;
      throw next;
    }
    if (next.delayMs) await delay(next.delayMs, opts.signal);
    call.text = next.text;
    return { text: next.text, ms: performance.now() - started };
  }
}

/** Resolves after `ms`, or rejects with an `AbortError` when the signal aborts first. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
