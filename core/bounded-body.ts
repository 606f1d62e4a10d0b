/**
 * Reading an HTTP body (fetch's Response, or any web ReadableStream) chunk by chunk with a byte limit and an
 * AbortSignal: the one reader behind url inputs (agents/runtime/inputs.ts) and model downloads (llm/model-fetch.ts).
 * Whatever ends the read early (the limit, an abort, a failing chunk callback) cancels the body, which frees
 * the connection.
 */
import { errorMessage } from './errors.ts';

/** The body is over the limit: by its Content-Length (nothing was read) or by the bytes received. */
export class BodyTooLargeError extends Error {
  constructor(
    /** The limit, in bytes. */
    readonly maxBytes: number,
    /** Content-Length, when the header alone said the body is too large. */
    readonly declaredBytes: number | undefined,
    /** Bytes received when the limit was passed (0 when the Content-Length said so). */
    readonly receivedBytes: number,
  ) {
    super(
      declaredBytes !== undefined
        ? `the body is ${declaredBytes} bytes (Content-Length), over the limit of ${maxBytes} bytes`
        : `the body is larger than the limit of ${maxBytes} bytes`,
    );
    this.name = 'BodyTooLargeError';
  }
}

/** Reading the body failed (a connection cut mid-body); `cause` is the stream's own error. */
export class BodyReadError extends Error {
  constructor(
    /** Bytes received before the failure. */
    readonly receivedBytes: number,
    cause: unknown,
  ) {
    super(`reading the body failed after ${receivedBytes} bytes: ${errorMessage(cause)}`, { cause });
    this.name = 'BodyReadError';
  }
}

export interface BoundedBodyOptions {
  /** Most bytes accepted; more rejects with a BodyTooLargeError. Default: no limit. */
  maxBytes?: number;
  /** Aborting cancels the body and rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Called with each chunk in order, after the limit check, with the bytes received so far (this chunk
   * included); awaited before the next read, so it may write to a file. What it throws ends the read as is.
   */
  onChunk?: (chunk: Uint8Array, receivedBytes: number) => void | Promise<void>;
}

/** A fetch Response (its Content-Length is checked against the limit before reading), or a bare stream. */
export type BodySource = Response | ReadableStream<Uint8Array> | null;

/** The Content-Length of a response, or undefined when it does not say (or says something that is no number). */
export function contentLength(res: Response): number | undefined {
  const header = res.headers.get('content-length');
  return header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
}

/**
 * Reads the body through `onChunk` and resolves with the number of bytes read. Rejects with a
 * BodyTooLargeError past `maxBytes`, with the signal's reason when aborted, with a BodyReadError when the
 * stream fails, and with whatever `onChunk` throws. A null body (or a Response without one) is 0 bytes.
 */
export async function readBoundedBody(source: BodySource, options: BoundedBodyOptions = {}): Promise<number> {
  const { maxBytes, signal, onChunk } = options;
  const body = source === null || isStream(source) ? source : source.body;
  if (signal?.aborted) {
    await body?.cancel(signal.reason).catch(() => {});
    throw signal.reason;
  }
  if (body === null) return 0;
  if (maxBytes !== undefined && source !== null && !isStream(source)) {
    const declared = contentLength(source);
    if (declared !== undefined && declared > maxBytes) {
      await body.cancel().catch(() => {});
      throw new BodyTooLargeError(maxBytes, declared, 0);
    }
  }
  const reader = body.getReader();
  // A pending read resolves as done once the reader is cancelled; the loop then sees the abort.
  const onAbort = (): void => {
    reader.cancel(signal?.reason).catch(() => {});
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let received = 0;
  let finished = false;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        throw new BodyReadError(received, err);
      }
      if (signal?.aborted) throw signal.reason;
      if (chunk.done) {
        finished = true;
        return received;
      }
      received += chunk.value.byteLength;
      if (maxBytes !== undefined && received > maxBytes)
        throw new BodyTooLargeError(maxBytes, undefined, received);
      await onChunk?.(chunk.value, received);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** readBoundedBody, keeping the chunks: resolves with the whole body (empty for a null body). */
export async function readBoundedBytes(
  source: BodySource,
  options: BoundedBodyOptions = {},
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  await readBoundedBody(source, {
    ...options,
    onChunk: async (chunk, receivedBytes) => {
      chunks.push(chunk);
      await options.onChunk?.(chunk, receivedBytes);
    },
  });
  return Buffer.concat(chunks);
}

function isStream(source: Response | ReadableStream<Uint8Array>): source is ReadableStream<Uint8Array> {
  return 'getReader' in source;
}
