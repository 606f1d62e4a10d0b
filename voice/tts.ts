/** Text to speech: the `Tts` interface every engine and the fake implement (docs/voice.md). */
import { VoiceInputError } from './errors.ts';

export { VoiceEngineError, VoiceEngineMissingError, VoiceInputError } from './errors.ts';

/** The longest text one `synthesize` call takes unless an engine says otherwise. */
export const DEFAULT_MAX_TEXT_CHARS = 5_000;

export interface SynthesizeOptions {
  /** Aborting rejects the call with an `AbortError` and stops the engine's work. */
  signal?: AbortSignal;
}

export interface Tts {
  readonly name: string;
  /**
   * Speaks `text`: a WAV file's bytes, 16-bit PCM mono at 16 kHz. Empty or too long text rejects with a
   * `VoiceInputError`, a failing engine with a `VoiceEngineError`.
   */
  synthesize(text: string, opts?: SynthesizeOptions): Promise<Uint8Array>;
}

/** The text trimmed, or a `VoiceInputError` when there is nothing to say or too much. */
export function checkText(text: string, maxChars = DEFAULT_MAX_TEXT_CHARS): string {
  const t = text.trim();
  if (t.length === 0) throw new VoiceInputError('there is no text to speak');
  if (t.length > maxChars)
    throw new VoiceInputError(
      `the text is ${t.length} characters long; at most ${maxChars} are spoken at once`,
    );
  return t;
}
