/** Speech to text: the `Stt` interface every engine and the fake implement (docs/voice.md). */
import { abortError } from './errors.ts';
import { DEFAULT_MAX_SECONDS, type PcmAudio, parseWav, VOICE_SAMPLE_RATE } from './wav.ts';

export { VoiceEngineError, VoiceEngineMissingError, VoiceInputError } from './errors.ts';

/** One recognized word and where it is in the audio. */
export interface SttWord {
  word: string;
  startMs: number;
  endMs: number;
  /** The engine's confidence in [0, 1], where it gives one. */
  confidence?: number;
}

export interface Transcript {
  /** The words heard, lower-case for engines that do not case, '' for silence. */
  text: string;
  words?: SttWord[];
  /** How long the engine took, in milliseconds. */
  ms: number;
}

export interface TranscribeOptions {
  /** Aborting rejects the call with an `AbortError` and stops the engine's work. */
  signal?: AbortSignal;
}

export interface Stt {
  readonly name: string;
  /**
   * Transcribes a WAV file (16-bit PCM mono; 16 kHz, or an integer multiple that is averaged down). Bad audio
   * rejects with a `WavError` (a `VoiceInputError`), a failing engine with a `VoiceEngineError`.
   */
  transcribe(wav: Uint8Array, opts?: TranscribeOptions): Promise<Transcript>;
}

/**
 * The audio a transcription takes, checked as every engine checks it (the fake too, so tests see the same
 * refusals): not aborted, a WAV of the voice rate (or a multiple), at most `maxSeconds` long.
 */
export function utterance(wav: Uint8Array, opts: TranscribeOptions, maxSeconds?: number): PcmAudio {
  if (opts.signal?.aborted) throw abortError(opts.signal);
  return parseWav(wav, { sampleRate: VOICE_SAMPLE_RATE, maxSeconds: maxSeconds ?? DEFAULT_MAX_SECONDS });
}
