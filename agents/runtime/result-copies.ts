/**
 * A result also goes to the relays its request names (NIP-90 `relays`; docs/federation.md): after the relay the
 * agent works on took it, a copy is published on each other relay named, through a short-lived connection with
 * a timeout, best effort (a failure is logged; the result is already where the desk reads it). The relays are
 * the customer's choice, so they are checked like a url input (agents/runtime/net-address.ts): public addresses
 * only, unless `dvm.urlInputs.allow` allows the name or the address; a request names at most a few. (The
 * connection resolves the name again: unlike a url input's fetch, the checked address is not pinned.)
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { Publish } from '../../core/transport.ts';
import { AddressAllowList, classifyIp, describeRange, type IpAddress, parseIp } from './net-address.ts';
import type { HostLookup } from './url-input.ts';

/** A connection to one relay, closed once the copy is out (the composition root's RelayClient). */
export type OpenRelay = (url: string) => Publish & { close(): void };

export interface ResultCopiesOptions {
  open: OpenRelay;
  /** The relays the agent publishes on already (its own): no copy goes there. */
  skip: readonly string[];
  /** Names and addresses beyond public ones that may be reached (`dvm.urlInputs.allow`). */
  allow?: readonly string[];
  /** Name resolution (default: the system's); tests give their own. */
  lookup?: HostLookup;
  /** For one copy: connecting and the relay's OK (default 10 s). */
  timeoutMs?: number;
  /** Relays of one request copied to, the first named (default 5). */
  maxRelays?: number;
  logger: Logger;
}

export class ResultCopies {
  private readonly skip: ReadonlySet<string>;
  private readonly allow: AddressAllowList;
  private readonly lookup: HostLookup;

  /** Throws an AllowListError when an `allow` entry is no host, address or block. */
  constructor(private readonly options: ResultCopiesOptions) {
    this.skip = new Set(options.skip.map(normalized).filter((u) => u !== undefined));
    this.allow = AddressAllowList.parse(options.allow ?? []);
    this.lookup = options.lookup ?? ((hostname) => dnsLookup(hostname, { all: true, verbatim: true }));
  }

  /** The ws(s) relays the request names, normalized, without the agent's own, at most `maxRelays`. */
  targets(request: NostrEvent): string[] {
    const out: string[] = [];
    for (const tag of request.tags) {
      if (tag[0] !== 'relays') continue;
      for (const raw of tag.slice(1)) {
        const url = normalized(raw);
        if (url !== undefined && !this.skip.has(url) && !out.includes(url)) out.push(url);
      }
    }
    return out.slice(0, this.options.maxRelays ?? 5);
  }

  /** Publishes `event` on every target of the request; resolves when each copy went out or failed (logged). */
  async copy(request: NostrEvent, event: NostrEvent): Promise<void> {
    await Promise.all(
      this.targets(request).map((url) =>
        this.copyTo(url, event).catch((err: unknown) =>
          this.options.logger.warn(
            { job: request.id, relay: url, err: errorMessage(err) },
            'could not copy the result to a relay the request names',
          ),
        ),
      ),
    );
  }

  private async copyTo(url: string, event: NostrEvent): Promise<void> {
    await this.check(new URL(url));
    const relay = this.options.open(url);
    const ms = this.options.timeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        relay.publish(event),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
          timer.unref();
        }),
      ]);
    } catch (err) {
      // The relay already had it (the customer's relay may be ours, or a second copy): that is done.
      if (!errorMessage(err).startsWith('duplicate:')) throw err;
    } finally {
      clearTimeout(timer);
      relay.close();
    }
    this.options.logger.debug({ relay: url, id: event.id }, 'result copied to a relay the request names');
  }

  /** Refuses a relay that is not public (by each address its name resolves to) and not allowed. */
  private async check(url: URL): Promise<void> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const literal = parseIp(host);
    if (literal) return this.checkAddress(host, literal);
    if (this.allow.allowsHost(host)) return;
    const addresses = await this.lookup(host);
    if (addresses.length === 0) throw new Error(`${host} does not resolve`);
    for (const a of addresses) {
      const ip = parseIp(a.address);
      if (!ip) throw new Error(`${host} resolves to ${a.address}, which is not an address`);
      this.checkAddress(host, ip);
    }
  }

  private checkAddress(host: string, ip: IpAddress): void {
    const { range } = classifyIp(ip);
    if (range === 'public' || this.allow.allowsAddress(ip)) return;
    throw new Error(`${host} is ${describeRange(range)}; results are copied to public relays only`);
  }
}

/** The URL as one string per relay (`ws://h:1` and `ws://h:1/` alike), or undefined when it is no ws(s) URL. */
function normalized(raw: string): string | undefined {
  try {
    const u = new URL(raw);
    return u.protocol === 'ws:' || u.protocol === 'wss:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}
