import { BodyReadError, BodyTooLargeError, readBoundedBytes } from '../../core/bounded-body.ts';
import type { Logger } from '../../core/logger.ts';
import type { Filter, NostrEvent } from '../../core/nostr.ts';
import { tagValue } from '../../core/nostr.ts';
import type { Subscribe } from '../../core/transport.ts';
import { JobInputError, type ResolvedInput } from '../../dvm/handler.ts';
import { networkReason } from '../../llm/http-fetch.ts';

/** One `i` tag of a job request, as parsed (dvm/request.ts). */
export interface RequestedInput {
  data: string;
  type: 'text' | 'url' | 'event' | 'job';
  relay: string;
  marker: string;
}

export interface InputResolverOptions {
  /** The instance's relay: where `event` inputs and the results of `job` inputs are looked up. */
  relay: Subscribe;
  /** Total bytes of resolved input text a job may have. */
  maxInputBytes: number;
  /** How long a url fetch, an event lookup, or the wait for a chained job's result may take. */
  timeoutMs: number;
  logger: Logger;
  fetch?: typeof fetch;
}

const TEXTUAL = /^(text\/|application\/(json|xml|xhtml\+xml|javascript|ld\+json)|image\/svg\+xml)/i;

/**
 * Turns NIP-90 inputs into text for the handlers: `text` as is, `url` fetched (http/https only, size-capped,
 * timed out), `event` looked up by id, `job` the result of an earlier job (NIP-90 job chaining: waits for it
 * when it is still running, fails fast when it failed). Every failure is a JobInputError the customer reads.
 */
export class InputResolver {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: InputResolverOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  async resolve(inputs: readonly RequestedInput[], signal: AbortSignal): Promise<ResolvedInput[]> {
    const out: ResolvedInput[] = [];
    let total = 0;
    for (const input of inputs) {
      const resolved = await this.resolveOne(input, this.options.maxInputBytes - total, signal);
      total += Buffer.byteLength(resolved.text);
      if (total > this.options.maxInputBytes) {
        throw new JobInputError(
          `the inputs are larger than this instance accepts (more than ${this.options.maxInputBytes} bytes)`,
        );
      }
      out.push(resolved);
    }
    return out;
  }

  private async resolveOne(
    input: RequestedInput,
    budget: number,
    signal: AbortSignal,
  ): Promise<ResolvedInput> {
    const base = { type: input.type, data: input.data, marker: input.marker, contentType: '' };
    switch (input.type) {
      case 'text':
        return { ...base, text: input.data };
      case 'url':
        return { ...base, ...(await this.fetchUrl(input.data, budget, signal)) };
      case 'event':
        return { ...base, text: (await this.findEvent(input.data)).content };
      case 'job':
        return { ...base, text: await this.jobResult(input.data, signal) };
    }
  }

  private async fetchUrl(
    url: string,
    budget: number,
    signal: AbortSignal,
  ): Promise<{ text: string; contentType: string }> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new JobInputError(`input url "${url}" is not a valid URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new JobInputError(`input url "${url}": only http and https URLs can be fetched`);
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const either = AbortSignal.any([signal, timeout]);
    let res: Response;
    try {
      res = await this.fetchImpl(url, { signal: either, redirect: 'follow' });
    } catch (err) {
      if (timeout.aborted)
        throw new JobInputError(`input url ${url} did not answer within ${this.options.timeoutMs} ms`);
      if (signal.aborted) throw err;
      throw new JobInputError(`cannot fetch input url ${url}: ${networkReason(err)}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new JobInputError(`input url ${url} answered HTTP ${res.status}`);
    }
    const contentType = res.headers.get('content-type') ?? '';
    let body: Buffer;
    try {
      body = await readBoundedBytes(res, { maxBytes: budget, signal: either });
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        throw new JobInputError(
          err.declaredBytes !== undefined
            ? `input url ${url} is ${err.declaredBytes} bytes; this instance accepts at most ${this.options.maxInputBytes} bytes of input`
            : `input url ${url} is larger than this instance accepts (more than ${this.options.maxInputBytes} bytes)`,
        );
      }
      if (timeout.aborted)
        throw new JobInputError(`input url ${url} did not finish within ${this.options.timeoutMs} ms`);
      const cause = err instanceof BodyReadError ? err.cause : err;
      throw new JobInputError(`reading input url ${url} failed: ${networkReason(cause)}`);
    }
    // Binary bodies are not decoded: the handler sees the content type and decides (e.g. audio → STT).
    const text = contentType === '' || TEXTUAL.test(contentType) ? body.toString('utf8') : '';
    return { text, contentType };
  }

  private async findEvent(id: string): Promise<NostrEvent> {
    const found = await this.queryOrFail([{ ids: [id], limit: 1 }], `input event ${id}`);
    const event = found[0];
    if (!event) throw new JobInputError(`input event ${id} was not found on this instance's relay`);
    return event;
  }

  /** The content of the newest result of job `id`, waiting for it while the job is still running. */
  private async jobResult(id: string, signal: AbortSignal): Promise<string> {
    const request = (await this.queryOrFail([{ ids: [id], limit: 1 }], `input job ${id}`))[0];
    if (!request) throw new JobInputError(`input job ${id} was not found on this instance's relay`);
    if (request.kind < 5000 || request.kind > 5999)
      throw new JobInputError(
        `input job ${id} is a kind ${request.kind} event, not a job request (5000-5999)`,
      );
    const filters: Filter[] = [
      { kinds: [request.kind + 1000], '#e': [id] },
      { kinds: [7000], '#e': [id] },
    ];
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        sub.close();
        fn();
      };
      const onAbort = (): void => finish(() => reject(signal.reason));
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new JobInputError(
                `input job ${id} has no result yet (waited ${Math.round(this.options.timeoutMs / 1000)} s)`,
              ),
            ),
          ),
        this.options.timeoutMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      const sub = this.options.relay.subscribe(filters, {
        onEvent: (e) => {
          if (e.kind === request.kind + 1000) {
            if (e.tags.some((t) => t[0] === 'encrypted'))
              finish(() => reject(new JobInputError(`input job ${id} has an encrypted result`)));
            else finish(() => resolve(e.content));
          } else if (tagValue(e.tags, 'status') === 'error') {
            const why = e.tags.find((t) => t[0] === 'status')?.[2] ?? '';
            finish(() => reject(new JobInputError(`input job ${id} failed${why ? `: ${why}` : ''}`)));
          }
        },
        onClose: (reason) =>
          finish(() => reject(new JobInputError(`looking up input job ${id} failed: ${reason}`))),
      });
    });
  }

  private async queryOrFail(filters: Filter[], what: string): Promise<NostrEvent[]> {
    try {
      return await this.options.relay.query(filters, { timeoutMs: this.options.timeoutMs });
    } catch (err) {
      throw new JobInputError(`looking up ${what} failed: ${networkReason(err)}`);
    }
  }
}
