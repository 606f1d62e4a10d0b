/**
 * Fetching a `url` job input without letting a customer reach inside the instance (SSRF): the host is
 * resolved first and every address it resolves to is checked (agents/runtime/net-address.ts: public
 * addresses only, unless `dvm.urlInputs.allow` allows the name or the address); the request then goes to
 * the address that was checked (no second lookup for DNS rebinding to exploit), with the URL's own Host
 * header and TLS server name; redirects are followed here, a bounded number, each checked the same way.
 * The body is read through core/bounded-body.ts. Every failure is a JobInputError the customer reads.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { BodyReadError, BodyTooLargeError, readBoundedBytes } from '../../core/bounded-body.ts';
import { ConfigError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { JobInputError } from '../../dvm/handler.ts';
import { networkReason } from '../../llm/http-fetch.ts';
import {
  AddressAllowList,
  AllowListError,
  classifyIp,
  describeRange,
  formatIPv4,
  type IpAddress,
  parseIp,
} from './net-address.ts';

/** The setting that allows more than public addresses (named in refusals). */
export const URL_ALLOW_SETTING = 'dvm.urlInputs.allow';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address of a host name, as node:dns's `lookup(host, { all: true })` gives them. */
export type HostLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

const systemLookup: HostLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface UrlInputOptions {
  /**
   * What url inputs may reach beyond public addresses: host names (`wiki.corp`, `*.corp`), addresses and
   * CIDR blocks (`10.0.0.0/8`). Default: nothing (public addresses only).
   */
  allow?: readonly string[];
  /** Redirects followed, each checked like the url itself (default 5). */
  maxRedirects?: number;
  /** Name resolution (default: the system's, node:dns `lookup`); tests give their own. */
  lookup?: HostLookup;
}

export interface UrlFetcherOptions extends UrlInputOptions {
  /** For the whole fetch: every lookup, connection, redirect and the body. */
  timeoutMs: number;
  /** Only for messages: the instance's input limit. */
  maxInputBytes: number;
  logger: Logger;
}

/** One fetch under way: the url as the customer wrote it, the caller's signal, the fetch's own timeout. */
interface Fetching {
  url: string;
  signal: AbortSignal;
  timeout: AbortSignal;
  either: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const TEXTUAL = /^(text\/|application\/(json|xml|xhtml\+xml|javascript|ld\+json)|image\/svg\+xml)/i;

export class UrlInputFetcher {
  private readonly allow: AddressAllowList;
  private readonly lookup: HostLookup;
  private readonly maxRedirects: number;

  /** Throws a ConfigError naming `dvm.urlInputs.allow` when an entry is no host, address or block. */
  constructor(private readonly options: UrlFetcherOptions) {
    try {
      this.allow = AddressAllowList.parse(options.allow ?? []);
    } catch (err) {
      if (err instanceof AllowListError) throw new ConfigError(URL_ALLOW_SETTING, err.message);
      throw err;
    }
    this.lookup = options.lookup ?? systemLookup;
    this.maxRedirects = options.maxRedirects ?? 5;
  }

  /** The body of `url` as text (binary bodies as '', the handler sees the content type), at most `budget` bytes. */
  async fetch(
    url: string,
    budget: number,
    signal: AbortSignal,
  ): Promise<{ text: string; contentType: string }> {
    const { bytes: body, contentType } = await this.fetchBytes(url, budget, signal);
    // Binary bodies are not decoded: the handler sees the content type and decides (e.g. audio → STT).
    const text = contentType === '' || TEXTUAL.test(contentType) ? body.toString('utf8') : '';
    return { text, contentType };
  }

  /** The body of `url` as bytes, at most `budget` bytes (binary media: a handler with `fetchesUrls`). */
  async fetchBytes(
    url: string,
    budget: number,
    signal: AbortSignal,
  ): Promise<{ bytes: Buffer; contentType: string }> {
    const target = httpUrl(url, () => `input url "${url}" is not a valid URL`, `input url "${url}"`);
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const fetching: Fetching = { url, signal, timeout, either: AbortSignal.any([signal, timeout]) };
    const res = await this.follow(fetching, target);
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      res.destroy();
      throw new JobInputError(`input url ${url} answered HTTP ${status}`);
    }
    const contentType = res.headers['content-type'] ?? '';
    return { bytes: await this.readBody(fetching, res, budget), contentType };
  }

  /** The response of `target` after its redirects, each checked like the url itself. */
  private async follow(fetching: Fetching, first: URL): Promise<IncomingMessage> {
    const { url, signal, timeout, either } = fetching;
    let target = first;
    for (let hop = 0; ; hop++) {
      let res: IncomingMessage;
      try {
        const addresses = await this.addressesOf(url, target, hop > 0, either);
        res = await this.request(target, addresses, either);
      } catch (err) {
        if (err instanceof JobInputError) throw err;
        if (timeout.aborted)
          throw new JobInputError(`input url ${url} did not answer within ${this.options.timeoutMs} ms`);
        if (signal.aborted) throw err;
        throw new JobInputError(`cannot fetch input url ${url}: ${networkReason({ cause: err })}`);
      }
      const location = res.headers.location;
      if (!REDIRECTS.has(res.statusCode ?? 0) || location === undefined) return res;
      res.destroy();
      if (hop === this.maxRedirects)
        throw new JobInputError(`input url ${url} redirected more than ${this.maxRedirects} times`);
      target = redirectTarget(url, target, location);
    }
  }

  private async readBody(fetching: Fetching, res: IncomingMessage, budget: number): Promise<Buffer> {
    const { url, signal, timeout, either } = fetching;
    const { timeoutMs, maxInputBytes } = this.options;
    try {
      return await readBoundedBytes(asResponse(res), { maxBytes: budget, signal: either });
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        throw new JobInputError(
          err.declaredBytes !== undefined
            ? `input url ${url} is ${err.declaredBytes} bytes; this instance accepts at most ${maxInputBytes} bytes of input`
            : `input url ${url} is larger than this instance accepts (more than ${maxInputBytes} bytes)`,
        );
      }
      if (timeout.aborted) throw new JobInputError(`input url ${url} did not finish within ${timeoutMs} ms`);
      if (signal.aborted) throw err;
      const cause = err instanceof BodyReadError ? err.cause : err;
      throw new JobInputError(`reading input url ${url} failed: ${networkReason({ cause })}`);
    }
  }

  /**
   * The addresses to connect to for `target`: an address in the URL as it is; a name resolved, every one
   * of its addresses checked (unless the name itself is allowed).
   */
  private async addressesOf(
    url: string,
    target: URL,
    redirected: boolean,
    signal: AbortSignal,
  ): Promise<ResolvedAddress[]> {
    const host = hostOf(target);
    const literal = parseIp(host);
    if (literal) {
      this.check(url, target, redirected, host, literal);
      return [{ address: literal.family === 4 ? formatIPv4(literal) : host, family: literal.family }];
    }
    const byName = this.allow.allowsHost(host);
    const found = await abortable(this.lookup(host), signal);
    if (found.length === 0) throw new JobInputError(`cannot fetch input url ${url}: ${host} has no address`);
    return found.map((a) => {
      const ip = parseIp(a.address);
      if (!ip) throw new JobInputError(`cannot fetch input url ${url}: ${host} resolves to "${a.address}"`);
      if (!byName) this.check(url, target, redirected, a.address, ip);
      return { address: ip.family === 4 ? formatIPv4(ip) : a.address, family: ip.family };
    });
  }

  /** Refuses an address that is not public and not allowed, naming the rule. */
  private check(url: string, target: URL, redirected: boolean, shown: string, ip: IpAddress): void {
    if (this.allow.allowsAddress(ip)) return;
    const c = classifyIp(ip);
    if (c.range === 'public') return;
    this.options.logger.info(
      { url, target: target.href, address: shown, range: c.range, block: c.block },
      'url input refused: not a public address',
    );
    const where = redirected ? `url input ${url} (redirected to ${target.href})` : `url input ${url}`;
    const what = c.via ? `${shown} (${c.via})` : shown;
    throw new JobInputError(
      `${where} resolves to ${what}, ${describeRange(c.range)}: url inputs may reach public addresses only (allow it with ${URL_ALLOW_SETTING})`,
    );
  }

  /** GET `target` at the first of `addresses` that answers. */
  private async request(
    target: URL,
    addresses: readonly ResolvedAddress[],
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    let failure: unknown;
    for (const a of addresses) {
      try {
        return await requestAt(target, a, signal);
      } catch (err) {
        if (signal.aborted) throw err;
        failure = err;
      }
    }
    throw failure;
  }
}

/** GET `target` from `at` (an address), with the URL's Host header and, for https, its server name. */
function requestAt(target: URL, at: ResolvedAddress, signal: AbortSignal): Promise<IncomingMessage> {
  const secure = target.protocol === 'https:';
  const host = hostOf(target);
  const options: https.RequestOptions = {
    host: at.address,
    family: at.family,
    port: target.port === '' ? (secure ? 443 : 80) : Number(target.port),
    path: `${target.pathname}${target.search}`,
    method: 'GET',
    headers: { host: target.host, accept: '*/*', 'accept-encoding': 'identity', 'user-agent': 'timmy-time' },
    agent: false,
    signal,
  };
  // The certificate is checked against the name (a server name may not be an address).
  if (secure && parseIp(host) === undefined) options.servername = host;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = secure ? https.request(options) : http.request(options);
    req.on('response', resolve);
    req.on('error', reject); // a later error (the body cut off) reaches the body's reader
    req.end();
  });
}

/** `text` as an http(s) URL, or a JobInputError: `invalid()` when it is none, `what` when another scheme. */
function httpUrl(text: string, invalid: () => string, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new JobInputError(invalid());
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new JobInputError(`${what}: only http and https URLs can be fetched`);
  return parsed;
}

/** Where a redirect from `from` to `location` goes (relative locations resolved), an http(s) URL. */
function redirectTarget(url: string, from: URL, location: string): URL {
  let href = location;
  try {
    href = new URL(location, from).href;
  } catch {
    // left as it is: httpUrl says it is not valid
  }
  return httpUrl(
    href,
    () => `input url ${url} redirects to "${location}", which is not a valid URL`,
    `input url ${url} redirects to ${location}`,
  );
}

/** The URL's host without the brackets of an IPv6 address. */
function hostOf(target: URL): string {
  return target.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** A fetch Response over node's response, for core/bounded-body.ts (it checks Content-Length first). */
function asResponse(res: IncomingMessage): Response {
  const status = res.statusCode ?? 200;
  const length = res.headers['content-length'];
  const headers: Record<string, string> = length !== undefined ? { 'content-length': length } : {};
  if (status === 204 || status === 205) {
    res.destroy();
    return new Response(null, { status, headers });
  }
  return new Response(Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>, { status, headers });
}

/** `promise`, or the signal's reason once it aborts (a lookup cannot be cancelled, only left behind). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
