/**
 * Streaming speech to text (docs/voice.md "The pipeline"): audio pushed as it arrives, a transcript that grows
 * while the person speaks, the whole transcript at the end. Built from any `Stt` (which takes whole files) and a
 * `Vad`: each speech segment the VAD closes is transcribed at once, with a little audio around it, and what is
 * heard so far is reported as a partial transcript. The shipped engines do not stream within a segment, so a
 * partial transcript is the words of the segments finished so far. Without a VAD the whole stream is one
 * segment, transcribed at `end`.
 */
import { VoiceInputError } from './errors.ts';
import type { Stt } from './stt.ts';
import type { SpeechSegment, Vad, VadStream } from './vad.ts';
import { encodeWav, VOICE_SAMPLE_RATE } from './wav.ts';

/**
 * Audio kept on each side of a VAD segment when it is transcribed: detectors start a segment a little after
 * the first sound, and a clipped first phoneme was misheard (once, "now are things" for "how are things").
 * Not more before: with 150-300 ms of silence in front, pocketsphinx heard flite's "How are things?" as
 * "keller things" (its whole-file transcript does the same).
 */
export const SEGMENT_PAD_BEFORE_MS = 100;
export const SEGMENT_PAD_AFTER_MS = 200;

/** Pushed past `maxSeconds` of audio. */
export class SttStreamTooLongError extends VoiceInputError {
  constructor(maxSeconds: number) {
    super(`the recording is over ${maxSeconds} s`);
    this.name = 'SttStreamTooLongError';
  }
}

export interface SttStreamOptions {
  stt: Stt;
  /** Without one, the whole stream is one segment (no partial transcripts). */
  vad?: Vad;
  /** The most audio taken (default 30 s): past it `push` throws `SttStreamTooLongError`. */
  maxSeconds?: number;
  /** Stops the engine's work; the stream fails with the abort. */
  signal?: AbortSignal;
  /** The transcript so far, each time a segment finished before `end` adds words. */
  onPartial?: (text: string) => void;
  /** The VAD's view changed: speech started or stopped. */
  onSpeech?: (speaking: boolean) => void;
  /** The first failure (an engine error, bad audio, an abort), as soon as it happens; `end` rejects with it too. */
  onError?: (err: unknown) => void;
}

export class SttStream {
  private readonly vad: VadStream | undefined;
  private readonly maxSeconds: number;
  /** Transcriptions run one after another, in the order the segments ended. */
  private chain: Promise<void> = Promise.resolve();
  private readonly heard: string[] = [];
  /** The audio so far (at most `maxSeconds`): segments are cut from it with some padding. */
  private pcm = new Int16Array(VOICE_SAMPLE_RATE * 4);
  private count = 0;
  private wasSpeaking = false;
  private ended = false;
  private failure: { err: unknown } | undefined;

  constructor(private readonly opts: SttStreamOptions) {
    this.vad = opts.vad?.stream();
    this.maxSeconds = opts.maxSeconds ?? 30;
  }

  /** Whether the VAD hears speech now (false without a VAD). */
  get speaking(): boolean {
    return this.vad?.speaking ?? false;
  }

  /** Samples pushed so far. */
  get samples(): number {
    return this.count;
  }

  /** 16 kHz mono samples as they arrive; throws `SttStreamTooLongError` past `maxSeconds`, ignored after `end`. */
  push(samples: Int16Array): void {
    if (this.ended || this.failure) return;
    if (this.count + samples.length > this.maxSeconds * VOICE_SAMPLE_RATE) {
      const err = new SttStreamTooLongError(this.maxSeconds);
      this.fail(err);
      throw err;
    }
    this.count += samples.length;
    if (this.count > this.pcm.length) {
      const grown = new Int16Array(Math.max(this.count, this.pcm.length * 2));
      grown.set(this.pcm);
      this.pcm = grown;
    }
    this.pcm.set(samples, this.count - samples.length);
    if (!this.vad) return;
    for (const segment of this.vad.push(samples)) this.transcribe(this.padded(segment), true);
    if (this.vad.speaking !== this.wasSpeaking) {
      this.wasSpeaking = this.vad.speaking;
      this.opts.onSpeech?.(this.wasSpeaking);
    }
  }

  /** The stream is over: the last segment is transcribed and the whole transcript returned ('' for silence). */
  async end(): Promise<string> {
    if (!this.ended) {
      this.ended = true;
      if (this.vad) for (const segment of this.vad.flush()) this.transcribe(this.padded(segment), false);
      else if (this.count > 0)
        this.transcribe(this.padded({ startMs: 0, endMs: Number.POSITIVE_INFINITY }), false);
    }
    await this.chain;
    if (this.failure) throw this.failure.err;
    return this.heard.join(' ').replace(/\s+/g, ' ').trim();
  }

  /** The segment's stretch of the audio, with SEGMENT_PAD_*_MS around it where there is some. */
  private padded(segment: Pick<SpeechSegment, 'startMs' | 'endMs'>): Int16Array {
    const at = (ms: number) => Math.round((ms * VOICE_SAMPLE_RATE) / 1000);
    const from = Math.max(0, at(segment.startMs - SEGMENT_PAD_BEFORE_MS));
    const to = Math.min(this.count, at(segment.endMs + SEGMENT_PAD_AFTER_MS));
    return this.pcm.slice(from, Math.max(from, to));
  }

  private transcribe(samples: Int16Array, partial: boolean): void {
    const wav = encodeWav({ sampleRate: VOICE_SAMPLE_RATE, samples });
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        const t = await this.opts.stt.transcribe(wav, this.opts.signal ? { signal: this.opts.signal } : {});
        if (this.failure) return;
        if (t.text.trim() !== '') this.heard.push(t.text.trim());
        if (partial && !this.ended) this.opts.onPartial?.(this.heard.join(' '));
      } catch (err) {
        this.fail(err);
      }
    });
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = { err };
    this.opts.onError?.(err);
  }
}
