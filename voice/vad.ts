/** Voice activity detection: the `Vad` interface every detector and the fake implement (docs/voice.md). */
import type { PcmAudio } from './wav.ts';

/** One stretch of speech found in the audio. */
export interface SpeechSegment {
  /** Where it starts and ends in the audio given so far, in milliseconds. */
  startMs: number;
  endMs: number;
  /** Its samples (16 kHz mono). */
  samples: Int16Array;
}

/**
 * A detector fed audio as it arrives (a microphone, a Wyoming client, a WebSocket). `push` takes any number of
 * 16 kHz mono samples and returns the segments that ended within them; `flush` ends the stream and returns a
 * segment still open. `speaking` says whether speech is under way now (for "listening…" in a UI).
 */
export interface VadStream {
  push(samples: Int16Array): SpeechSegment[];
  readonly speaking: boolean;
  flush(): SpeechSegment[];
}

export interface Vad {
  readonly name: string;
  /** The speech segments of a whole recording (16 kHz mono). */
  segments(audio: PcmAudio): Promise<SpeechSegment[]>;
  /** A detector for audio that arrives in pieces. */
  stream(): VadStream;
}
