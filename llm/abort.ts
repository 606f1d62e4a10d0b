/**
 * Abort helpers shared by the providers and the router: one error shape for "the caller aborted", a
 * promise that rejects when a signal fires, and an abortable sleep.
 */

/** The error every provider rejects with when the caller's signal fires: a DOMException named AbortError. */
export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const detail = reason instanceof Error ? `: ${reason.message}` : '';
  return new DOMException(`the operation was aborted${detail}`, 'AbortError');
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/** Throws the AbortError when the signal has already fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/**
 * Settles like `work`, unless `signal` fires first: then rejects at once with an AbortError, whether or not
 * `work` listens to the signal. A late rejection of `work` is swallowed (it has no one left to tell).
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(() => {});
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Waits `ms` milliseconds; rejects with an AbortError as soon as the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return raceAbort(
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => clearTimeout(timer), { once: true });
    }),
    signal,
  );
}

/** Never settles on its own; rejects with an AbortError when the signal fires. */
export function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return raceAbort(new Promise<never>(() => {}), signal);
}
