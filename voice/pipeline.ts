/**
 * The voice pipeline (docs/voice.md): audio in → VAD → STT → intent → Timmy → TTS → audio out, streaming.
 * One `VoiceTurn` is one press of a talk button: audio is pushed as it arrives; each speech segment the VAD
 * closes is transcribed at once (a "partial" transcript: the words of the segments finished so far — the
 * shipped engines do not stream within a segment); on `end` the last segment is transcribed, the intent
 * parsed, Timmy answers, and the answer is cut into sentences, each synthesized and sent as soon as it is
 * ready, so the first sentence is heard while the rest is still being written or synthesized.
 */
import type { Logger } from '../core/logger.ts';
import { VoiceEngineError, VoiceEngineMissingError, VoiceInputError } from './errors.ts';
import type { Intent, IntentParser } from './intents.ts';
import { SentenceSplitter } from './pipeline-sentences.ts';
import { answerIntent, type Timmy, type VoiceAction } from './pipeline-timmy.ts';
import type { Stt } from './stt.ts';
import { SttStream, SttStreamTooLongError } from './stt-stream.ts';
import type { Tts } from './tts.ts';
import type { Vad } from './vad.ts';

export { SEGMENT_PAD_AFTER_MS, SEGMENT_PAD_BEFORE_MS } from './stt-stream.ts';

export type PipelineErrorCode = 'bad-audio' | 'too-long' | 'engine' | 'timmy' | 'aborted';

export type PipelineEvent =
  /** The VAD's view: speech started or stopped. */
  | { type: 'speech'; speaking: boolean }
  /** The transcript so far (the segments finished while the person speaks). */
  | { type: 'partial'; text: string }
  | { type: 'final'; text: string }
  | { type: 'intent'; intent: Intent }
  | { type: 'action'; action: VoiceAction }
  /** A sentence of the answer, as soon as it is complete (before its audio). */
  | { type: 'sentence'; index: number; text: string }
  /** A sentence's audio: a 16 kHz mono WAV. */
  | { type: 'audio'; index: number; text: string; wav: Uint8Array }
  | { type: 'done'; transcript: string; answer: string; timings: TurnTimings }
  | { type: 'error'; code: PipelineErrorCode; message: string };

export interface TurnTimings {
  /** From `end` to the final transcript. */
  sttMs: number;
  /** From `end` to the first audio out (undefined when nothing was spoken). */
  firstAudioMs?: number;
  /** From `end` to the last audio out. */
  totalMs: number;
}

export interface VoicePipelineOptions {
  stt: Stt;
  tts: Tts;
  intents: IntentParser;
  timmy: Timmy;
  /** Without one, the whole press is one segment (no partial transcripts). */
  vad?: Vad;
  logger: Logger;
  /** The longest press accepted (default 30 s): past it the turn fails with `too-long`. */
  maxSeconds?: number;
}

export interface VoiceTurn {
  /** 16 kHz mono samples as they arrive. Ignored once the turn has ended, failed or been aborted. */
  push(samples: Int16Array): void;
  /** The person stopped speaking: resolves when the answer has been spoken (or the turn failed). */
  end(): Promise<void>;
  /** Stops every engine of the turn; one `error` event with code `aborted`, nothing after it. */
  abort(reason?: string): void;
  readonly speaking: boolean;
}

export class VoicePipeline {
  constructor(private readonly opts: VoicePipelineOptions) {}

  get maxSeconds(): number {
    return this.opts.maxSeconds ?? 30;
  }

  /** A new turn whose events go to `onEvent`, in order. */
  turn(onEvent: (e: PipelineEvent) => void, signal?: AbortSignal): VoiceTurn {
    return new Turn(this.opts, this.maxSeconds, onEvent, signal);
  }
}

class Turn implements VoiceTurn {
  private readonly ac = new AbortController();
  private readonly log: Logger;
  /** The press's speech to text: a partial transcript per finished segment, the whole one at `end`. */
  private readonly heard: SttStream;
  private state: 'open' | 'ending' | 'over' = 'open';

  constructor(
    private readonly opts: VoicePipelineOptions,
    maxSeconds: number,
    private readonly onEvent: (e: PipelineEvent) => void,
    signal: AbortSignal | undefined,
  ) {
    this.log = opts.logger.child({ component: 'voice-pipeline' });
    this.heard = new SttStream({
      stt: opts.stt,
      ...(opts.vad ? { vad: opts.vad } : {}),
      maxSeconds,
      signal: this.ac.signal,
      onPartial: (text) => {
        if (this.state === 'open') this.emit({ type: 'partial', text });
      },
      onSpeech: (speaking) => this.emit({ type: 'speech', speaking }),
      onError: (err) => this.failWith(err),
    });
    signal?.addEventListener('abort', () => this.abort('the caller aborted'), { once: true });
    if (signal?.aborted) this.abort('the caller aborted');
  }

  get speaking(): boolean {
    return this.heard.speaking;
  }

  push(samples: Int16Array): void {
    if (this.state !== 'open') return;
    try {
      this.heard.push(samples);
    } catch {
      // Too long: already reported through onError, which ended the turn.
    }
  }

  async end(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'ending';
    const started = performance.now();
    const signal = this.ac.signal;
    try {
      const transcript = await this.heard.end();
      if (this.isOver()) return;
      const sttMs = performance.now() - started;
      this.emit({ type: 'final', text: transcript });
      const intent = await this.opts.intents.parse(transcript, signal);
      if (this.isOver()) return;
      this.emit({ type: 'intent', intent });
      let reply: Awaited<ReturnType<typeof answerIntent>>;
      try {
        reply = await answerIntent(this.opts.timmy, intent, signal);
      } catch (err) {
        if (signal.aborted) throw err;
        throw new TimmyError(err);
      }
      if (this.isOver()) return;
      if (reply.action) this.emit({ type: 'action', action: reply.action });
      const spoken = await this.speak(reply.text, started);
      if (this.isOver()) return;
      this.state = 'over';
      this.emit({
        type: 'done',
        transcript,
        answer: spoken.answer,
        timings: {
          sttMs,
          ...(spoken.firstAudioMs !== undefined ? { firstAudioMs: spoken.firstAudioMs } : {}),
          totalMs: performance.now() - started,
        },
      });
    } catch (err) {
      this.failWith(err);
    }
  }

  abort(reason = 'aborted'): void {
    if (this.state === 'over') return;
    this.state = 'over';
    this.ac.abort(abortReason(reason));
    this.onEvent({ type: 'error', code: 'aborted', message: reason });
  }

  private isOver(): boolean {
    return this.state === 'over';
  }

  private emit(e: PipelineEvent): void {
    if (this.state === 'over' && e.type !== 'done') return;
    this.onEvent(e);
  }

  /** Speaks `text` sentence by sentence; each sentence's audio is sent as soon as it is synthesized. */
  private async speak(
    text: string | AsyncIterable<string>,
    started: number,
  ): Promise<{ answer: string; firstAudioMs?: number }> {
    const splitter = new SentenceSplitter();
    const all: string[] = [];
    let synth: Promise<void> = Promise.resolve();
    let firstAudioMs: number | undefined;
    let failure: unknown;
    const say = (sentence: string): void => {
      const index = all.length;
      all.push(sentence);
      this.emit({ type: 'sentence', index, text: sentence });
      synth = synth.then(async () => {
        if (this.isOver() || failure !== undefined) return;
        try {
          const wav = await this.opts.tts.synthesize(sentence, { signal: this.ac.signal });
          if (this.isOver()) return;
          firstAudioMs ??= performance.now() - started;
          this.emit({ type: 'audio', index, text: sentence, wav });
        } catch (err) {
          failure = err;
        }
      });
    };
    const pieces = typeof text === 'string' ? [text] : text;
    for await (const piece of pieces) {
      if (this.isOver() || failure !== undefined) break;
      for (const s of splitter.push(piece)) say(s);
    }
    if (!this.isOver()) for (const s of splitter.flush()) say(s);
    await synth;
    if (failure !== undefined) throw failure;
    return { answer: all.join(' '), ...(firstAudioMs !== undefined ? { firstAudioMs } : {}) };
  }

  private failWith(err: unknown): void {
    if (this.isOver()) return;
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof Error && err.name === 'AbortError') this.abort(message);
    else if (err instanceof SttStreamTooLongError)
      this.fail('too-long', `${message}; release the button sooner`);
    else if (err instanceof TimmyError) this.fail('timmy', `Timmy could not answer: ${message}`);
    else if (err instanceof VoiceInputError) this.fail('bad-audio', message);
    else {
      if (!(err instanceof VoiceEngineError || err instanceof VoiceEngineMissingError))
        this.log.warn({ err: message }, 'voice turn failed');
      this.fail('engine', message);
    }
  }

  private fail(code: PipelineErrorCode, message: string): void {
    if (this.isOver()) return;
    this.state = 'over';
    this.ac.abort(abortReason(message));
    this.onEvent({ type: 'error', code, message });
  }
}

class TimmyError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'TimmyError';
  }
}

function abortReason(message: string): Error {
  const e = new Error(message);
  e.name = 'AbortError';
  return e;
}

/** PCM bytes as they come off a socket (16-bit little-endian mono) → samples; an odd length is refused. */
export function pcmFromBytes(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0)
    throw new VoiceInputError(`PCM audio is 16-bit: ${bytes.length} bytes is not a whole number of samples`);
  const out = new Int16Array(bytes.length / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}
