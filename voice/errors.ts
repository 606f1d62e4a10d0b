/** The voice engines' errors: shared by `Stt` and `Tts` and every engine. */

/** The caller's input was refused (bad audio, empty or too long text): not the engine's fault. */
export class VoiceInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VoiceInputError';
  }
}

/** An engine is not installed. The message names exactly what is missing and what to install. */
export class VoiceEngineMissingError extends Error {
  constructor(
    readonly engine: string,
    readonly missing: string[],
    readonly install: string,
  ) {
    super(`${engine} is not available: ${missing.join(', ')} not found; install it with: ${install}`);
    this.name = 'VoiceEngineMissingError';
  }
}

/** An installed engine failed: it exited with an error, printed nothing usable, or ran past its timeout. */
export class VoiceEngineError extends Error {
  constructor(
    readonly engine: string,
    message: string,
  ) {
    super(`${engine}: ${message}`);
    this.name = 'VoiceEngineError';
  }
}

/** The error an aborted call rejects with (`name` is `AbortError`, as `fetch` and timers do). */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const err = new Error(reason instanceof Error ? reason.message : 'the operation was aborted');
  err.name = 'AbortError';
  return err;
}
