import type { Logger } from '../../core/logger.ts';
import type { Filter, NostrEvent } from '../../core/nostr.ts';
import { tagValue } from '../../core/nostr.ts';
import type { Subscribe } from '../../core/transport.ts';
import { JobInputError, type ResolvedInput } from '../../dvm/handler.ts';
import { networkReason } from '../../llm/http-fetch.ts';
import { UrlInputFetcher, type UrlInputOptions } from './url-input.ts';

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
  /**
   * What `url` inputs may reach (agents/runtime/url-input.ts). Default: public addresses only; allow more
   * with `allow` (`dvm.urlInputs.allow`: host names, addresses, CIDR blocks).
   */
  urlInputs?: UrlInputOptions;
  /**
   * Kinds never returned as an `event` input nor read as a `job` input (the request or its result): the
   * relay's restricted reads (`relay.restrictedReadKinds`). An agent's connection may read them (addressed
   * to it), a customer may not; a result is public. Kinds 4 and 1059 are refused whatever this says.
   */
  restrictedKinds?: readonly number[];
}

/** Direct messages (NIP-04) and gift wraps (NIP-59): never an input, whatever the relay restricts. */
export const ALWAYS_RESTRICTED_KINDS: readonly number[] = [4, 1059];

/**
 * Turns NIP-90 inputs into text for the handlers: `text` as is, `url` fetched (http/https only, public
 * addresses only unless allowed, size-capped, timed out: url-input.ts), `event` looked up by id, `job` the
 * result of an earlier job (NIP-90 job chaining: waits for it when it is still running, fails fast when it
 * failed). Inputs are read with the customer's rights, not the agent's: an event of a restricted kind is not
 * readable, though the agent's authenticated connection could read it. Every failure is a JobInputError the
 * customer reads.
 */
export class InputResolver {
  private readonly urls: UrlInputFetcher;
  private readonly restricted: ReadonlySet<number>;

  /** Throws a ConfigError when `urlInputs.allow` holds an entry that is no host, address or CIDR block. */
  constructor(private readonly options: InputResolverOptions) {
    this.urls = new UrlInputFetcher({
      ...options.urlInputs,
      timeoutMs: options.timeoutMs,
      maxInputBytes: options.maxInputBytes,
      logger: options.logger,
    });
    this.restricted = new Set([...ALWAYS_RESTRICTED_KINDS, ...(options.restrictedKinds ?? [])]);
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
        return { ...base, ...(await this.urls.fetch(input.data, budget, signal)) };
      case 'event':
        return { ...base, text: (await this.findEvent(input.data)).content };
      case 'job':
        return { ...base, text: await this.jobResult(input.data, signal) };
    }
  }

  private async findEvent(id: string): Promise<NostrEvent> {
    const found = await this.queryOrFail([{ ids: [id], limit: 1 }], `input event ${id}`);
    const event = found[0];
    if (!event) throw new JobInputError(`input event ${id} was not found on this instance's relay`);
    if (this.restricted.has(event.kind)) throw this.notReadable(`input event ${id}`, event.kind);
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
    if (this.restricted.has(request.kind)) throw this.notReadable(`input job ${id}`, request.kind);
    if (this.restricted.has(request.kind + 1000))
      throw this.notReadable(`input job ${id}`, request.kind + 1000);
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
          if (this.restricted.has(e.kind)) return;
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

  /** An input the customer could not read on the relay (restricted reads: NIP-42, author and recipients). */
  private notReadable(what: string, kind: number): JobInputError {
    this.options.logger.info({ what, kind }, 'input of a restricted kind refused');
    return new JobInputError(
      `${what} is not readable: events of restricted kinds (direct messages, gift wraps, relay.restrictedReadKinds) are not job inputs`,
    );
  }

  private async queryOrFail(filters: Filter[], what: string): Promise<NostrEvent[]> {
    try {
      return await this.options.relay.query(filters, { timeoutMs: this.options.timeoutMs });
    } catch (err) {
      throw new JobInputError(`looking up ${what} failed: ${networkReason(err)}`);
    }
  }
}
