/**
 * fetch() for the HTTP providers with errors a user can act on: a connection failure names the URL and the
 * reason (ECONNREFUSED → "is the server running?"), an HTTP error carries the server's own message.
 */

import { errorMessage } from '../core/errors.ts';
import { abortError } from './abort.ts';
import { LlmResponseError, LlmUnavailableError } from './provider.ts';

/** Fetches `url`; network failures become an LlmUnavailableError naming the URL, aborts an AbortError. */
export async function providerFetch(provider: string, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    if (init.signal?.aborted) throw abortError(init.signal);
    throw new LlmUnavailableError(`${provider}: cannot connect to ${url}: ${networkReason(err)}`);
  }
}

/** The most specific reason of a fetch failure: the socket error code, else the message. */
export function networkReason(err: unknown): string {
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running and listening there?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
  if (typeof code === 'string') return code;
  if (cause instanceof Error) return cause.message;
  return errorMessage(err);
}

/** The server's error message from a failed response: `{error: "..."}`, `{error: {message}}`, or the text. */
export async function errorDetail(res: Response): Promise<string> {
  let text = '';
  try {
    text = (await res.text()).trim();
  } catch {
    return '';
  }
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const e = body.error;
    if (typeof e === 'string') return e;
    if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string')
      return (e as { message: string }).message;
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON: the text itself
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * What a provider throws when reading its answer stream failed: the caller's abort as an AbortError, the
 * provider's own clear errors as they are, anything else (a connection cut mid-answer) as an
 * LlmResponseError naming the provider.
 */
export function streamFailure(provider: string, err: unknown, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return abortError(signal);
  if (err instanceof LlmResponseError || err instanceof LlmUnavailableError) return err;
  return new LlmResponseError(provider, `the answer stream broke off: ${errorMessage(err)}`);
}
