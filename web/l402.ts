import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import macaroon from 'macaroon';
import { type Clock, systemClock, unixSeconds } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { IncomeSink } from '../payments/income.ts';
import { formatMsats, type Wallet, WalletError } from '../payments/wallet.ts';

/**
 * L402 (formerly LSAT): paid access to HTTP routes with Lightning. A request to a priced route without a
 * credential gets `402 Payment Required` and `WWW-Authenticate: L402 macaroon="M", invoice="P"`; the client
 * pays P, learns its preimage r, and sends `Authorization: L402 M:r` (base64 macaroon, hex preimage).
 *
 * The macaroon's identifier is `version (uint16 BE, 0) ‖ payment hash (32 bytes) ‖ token id (32 random
 * bytes)`, so checking a credential is stateless: the macaroon library verifies the HMAC chain from the root
 * key, every first-party caveat must hold, and sha256(r) must equal the payment hash. First-party caveats:
 *
 * - `route=<pattern>`: the route the token was bought for (`/api/status`, or a prefix `/api/*`); every
 *   route caveat must match the requested path, and the first one (the one minted here; a holder can only
 *   append) must be the route that prices that path now (so a token bought for a cheap prefix does not open a
 *   dearer path inside it, even with a `route=` for that path appended by the holder);
 * - `expires=<unix seconds>`: the token is refused from that second on.
 *
 * A holder may attenuate a token with more `route=`/`expires=` caveats; any other caveat is refused (a
 * condition this server does not understand cannot be known to hold). A token is reusable until it expires.
 */

/** A priced route: an exact `path`, or a `prefix` (configured as "PREFIX*"). */
export type L402Route =
  | { pattern: string; path: string; priceMsats: number }
  | { pattern: string; prefix: string; priceMsats: number };

const MACAROON_VERSION = 0;
const IDENTIFIER_LENGTH = 2 + 32 + 32;
const PATTERN = /^\/[^\s*]*\*?$/;
const MAX_MACAROON_CHARS = 8192;

/**
 * Parses `payments.l402.routes` ("PATH=MSATS"; a PATH ending in "*" is a prefix). Throws an `Error` naming
 * the entry when one is malformed or a route is listed twice.
 */
export function parseL402Routes(routes: readonly string[]): L402Route[] {
  const out: L402Route[] = [];
  const seen = new Set<string>();
  routes.forEach((entry, i) => {
    const where = `payments.l402.routes[${i}]`;
    if (typeof entry !== 'string') throw new Error(`${where}: must be a string "PATH=MSATS"`);
    const eq = entry.lastIndexOf('=');
    if (eq < 0) throw new Error(`${where} "${entry}": must be "PATH=MSATS", e.g. "/api/status=1000" (msats)`);
    const pattern = entry.slice(0, eq);
    const price = entry.slice(eq + 1);
    if (!PATTERN.test(pattern))
      throw new Error(
        `${where} "${entry}": the path must start with "/", hold no spaces, and may end in "*" (a prefix) but hold no other "*"`,
      );
    if (!/^[1-9][0-9]*$/.test(price) || !Number.isSafeInteger(Number(price)))
      throw new Error(`${where} "${entry}": the price must be a positive whole number of msats`);
    if (seen.has(pattern)) throw new Error(`${where} "${entry}": the route ${pattern} is listed twice`);
    seen.add(pattern);
    const priceMsats = Number(price);
    out.push(
      pattern.endsWith('*')
        ? { pattern, prefix: pattern.slice(0, -1), priceMsats }
        : { pattern, path: pattern, priceMsats },
    );
  });
  return out;
}

/** Whether `path` falls under a route pattern ("/a/b" exactly, or "/a/*" as a prefix). */
export function routeMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
}

export type L402Credential =
  | { kind: 'none' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'token'; macaroon: string; preimage: string };

/**
 * Reads an `Authorization` header: `L402 <base64 macaroon>:<hex preimage>` (or the legacy `LSAT` scheme,
 * either case-insensitive). Another scheme, or no header, is `none`: the request simply carries no L402
 * credential. Only one macaroon is accepted (this server mints no third-party caveats to discharge).
 */
export function parseL402Authorization(header: string | undefined): L402Credential {
  if (header === undefined) return { kind: 'none' };
  const text = header.trim();
  const space = text.search(/\s/);
  const scheme = (space < 0 ? text : text.slice(0, space)).toUpperCase();
  if (scheme !== 'L402' && scheme !== 'LSAT') return { kind: 'none' };
  const credentials = space < 0 ? '' : text.slice(space).trim();
  if (credentials === '') return { kind: 'invalid', reason: `no credentials after "${scheme}"` };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\s\x00-\x1f\x7f]/.test(credentials))
    return { kind: 'invalid', reason: 'the credentials hold spaces or control characters' };
  const parts = credentials.split(':');
  if (parts.length !== 2)
    return { kind: 'invalid', reason: 'expected "<base64 macaroon>:<hex preimage>" with a single ":"' };
  const [mac = '', preimage = ''] = parts;
  if (mac.includes(','))
    return { kind: 'invalid', reason: 'only one macaroon is accepted (no discharge macaroons)' };
  if (mac === '' || mac.length > MAX_MACAROON_CHARS || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(mac))
    return { kind: 'invalid', reason: 'the macaroon is not base64' };
  if (!/^[0-9a-fA-F]{64}$/.test(preimage))
    return { kind: 'invalid', reason: 'the preimage must be 64 hex characters (32 bytes)' };
  return { kind: 'token', macaroon: mac, preimage: preimage.toLowerCase() };
}

export interface L402GateOptions {
  /** The wallet the invoices are made with (the instance's). */
  wallet: Wallet;
  /** 32 secret bytes every macaroon is minted and verified with (see `loadOrCreateRootKey`). */
  rootKey: Uint8Array;
  /** `payments.l402.routes`: "PATH=MSATS", a PATH ending in "*" is a prefix. */
  routes: readonly string[];
  /** How long a token is valid, counted from the 402 that minted it. */
  tokenTtlSeconds: number;
  clock?: Clock;
  logger: Logger;
  /** The macaroon's location (informative, e.g. the instance's URL). */
  location?: string;
  /**
   * How long the invoice of a challenge may be paid; default half the token lifetime, at most 10 minutes,
   * so a token paid at the last moment still has at least half its lifetime left.
   */
  invoiceExpirySeconds?: number;
  /** Where the invoices and their payments are booked (the treasury's `IncomeWatcher`). */
  income?: IncomeSink;
}

/** What a valid token grants. */
export interface L402Token {
  paymentHash: string;
  tokenId: string;
  /** The route patterns of the token's route caveats, the minted one first. */
  routes: string[];
  /** Unix seconds: the earliest of the token's expiry caveats. */
  expiresAt: number;
}

/** A minted challenge: what a 402 carries. */
export interface L402Challenge {
  route: string;
  amountMsats: number;
  /** Base64 (standard, padded) of the version 2 binary macaroon. */
  macaroon: string;
  invoice: string;
  paymentHash: string;
  /** Unix seconds when the token minted with this challenge expires. */
  expiresAt: number;
}

export interface L402Refusal {
  allowed: false;
  status: 401 | 402 | 503;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export type L402Decision = { allowed: true; token?: L402Token } | L402Refusal;

export type L402Verification = { ok: true; token: L402Token } | { ok: false; reason: string };

/** The route list for discovery (`/api/l402`). */
export interface L402RouteInfo {
  route: string;
  match: 'exact' | 'prefix';
  priceMsats: number;
  price: string;
}

export class L402Gate {
  private readonly wallet: Wallet;
  private readonly rootKey: Uint8Array;
  private readonly table: L402Route[];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly location: string;
  private readonly income: IncomeSink | undefined;
  readonly tokenTtlSeconds: number;
  readonly invoiceExpirySeconds: number;

  constructor(options: L402GateOptions) {
    if (!(options.rootKey instanceof Uint8Array) || options.rootKey.length !== 32)
      throw new Error('the L402 root key must be 32 bytes');
    if (!Number.isSafeInteger(options.tokenTtlSeconds) || options.tokenTtlSeconds <= 0)
      throw new Error('payments.l402.tokenTtlSeconds must be a positive whole number of seconds');
    const invoiceExpiry =
      options.invoiceExpirySeconds ?? Math.max(1, Math.min(600, Math.floor(options.tokenTtlSeconds / 2)));
    if (!Number.isSafeInteger(invoiceExpiry) || invoiceExpiry <= 0)
      throw new Error('the L402 invoice expiry must be a positive whole number of seconds');
    this.wallet = options.wallet;
    this.rootKey = Uint8Array.from(options.rootKey);
    this.table = parseL402Routes(options.routes);
    this.clock = options.clock ?? systemClock;
    this.log = options.logger.child({ component: 'l402' });
    this.location = options.location ?? 'timmy-time';
    this.tokenTtlSeconds = options.tokenTtlSeconds;
    this.invoiceExpirySeconds = invoiceExpiry;
    this.income = options.income;
  }

  /** The priced routes, in configuration order. */
  get routes(): readonly L402Route[] {
    return this.table;
  }

  /** The priced routes for clients to discover. */
  describe(): L402RouteInfo[] {
    return this.table.map((r) => ({
      route: r.pattern,
      match: 'prefix' in r ? 'prefix' : 'exact',
      priceMsats: r.priceMsats,
      price: formatMsats(r.priceMsats),
    }));
  }

  /** The route that prices `path`: an exact path first, else the longest matching prefix. */
  routeFor(path: string): L402Route | undefined {
    let best: L402Route | undefined;
    for (const r of this.table) {
      if ('path' in r) {
        if (r.path === path) return r;
      } else if (path.startsWith(r.prefix) && (!best || r.pattern.length > best.pattern.length)) best = r;
    }
    return best;
  }

  /** The price of `path` in msats, undefined when it is free. */
  priceOf(path: string): number | undefined {
    return this.routeFor(path)?.priceMsats;
  }

  /**
   * Decides a request: allowed (a free route, or a valid token for a priced one), or the response to send
   * instead: 402 with a fresh challenge, 401 for a bad token, 503 when the wallet cannot make the invoice.
   */
  async check(method: string, path: string, authorization: string | undefined): Promise<L402Decision> {
    if (method === 'OPTIONS') return { allowed: true };
    const route = this.routeFor(path);
    if (!route) return { allowed: true };
    const credential = parseL402Authorization(authorization);
    if (credential.kind === 'invalid') return this.unauthorized(path, credential.reason);
    if (credential.kind === 'token') {
      const result = this.verifyCredential(path, credential.macaroon, credential.preimage);
      if (!result.ok) return this.unauthorized(path, result.reason);
      this.log.debug({ path, paymentHash: result.token.paymentHash }, 'L402 token accepted');
      return { allowed: true, token: result.token };
    }
    let challenge: L402Challenge;
    try {
      challenge = await this.createChallenge(path);
    } catch (err) {
      const code = err instanceof WalletError ? err.code : 'ERROR';
      this.log.warn({ path, code, err: errorMessage(err) }, 'L402: the wallet could not make an invoice');
      return {
        allowed: false,
        status: 503,
        headers: { 'Retry-After': '30' },
        body: { error: 'payment required, but the wallet cannot make an invoice right now; try again later' },
      };
    }
    this.log.debug({ method, path, paymentHash: challenge.paymentHash }, 'L402 challenge');
    return {
      allowed: false,
      status: 402,
      headers: {
        'WWW-Authenticate': `L402 macaroon="${challenge.macaroon}", invoice="${challenge.invoice}"`,
      },
      body: {
        error: `payment required: ${formatMsats(challenge.amountMsats)} for ${challenge.route}`,
        route: challenge.route,
        amountMsats: challenge.amountMsats,
        invoice: challenge.invoice,
        macaroon: challenge.macaroon,
        paymentHash: challenge.paymentHash,
        expiresAt: challenge.expiresAt,
      },
    };
  }

  /** Makes the invoice for the route that prices `path` and mints the macaroon bound to its payment hash. */
  async createChallenge(path: string): Promise<L402Challenge> {
    const route = this.routeFor(path);
    if (!route) throw new Error(`${path} is not a priced route`);
    const tx = await this.wallet.makeInvoice({
      amountMsats: route.priceMsats,
      description: `L402 access to ${route.pattern} on ${this.location}`,
      expirySeconds: this.invoiceExpirySeconds,
    });
    if (!/^[0-9a-f]{64}$/i.test(tx.paymentHash))
      throw new Error(`the wallet returned a malformed payment hash: ${tx.paymentHash}`);
    const paymentHash = tx.paymentHash.toLowerCase();
    this.income?.invoiced(tx, `L402 ${route.pattern}`);
    const tokenId = randomBytes(32);
    const identifier = new Uint8Array(IDENTIFIER_LENGTH);
    new DataView(identifier.buffer).setUint16(0, MACAROON_VERSION);
    identifier.set(Buffer.from(paymentHash, 'hex'), 2);
    identifier.set(tokenId, 34);
    const expiresAt = unixSeconds(this.clock) + this.tokenTtlSeconds;
    const m = macaroon.newMacaroon({
      identifier,
      location: this.location,
      rootKey: this.rootKey,
      version: 2,
    });
    m.addFirstPartyCaveat(`route=${route.pattern}`);
    m.addFirstPartyCaveat(`expires=${expiresAt}`);
    return {
      route: route.pattern,
      amountMsats: route.priceMsats,
      macaroon: encodeMacaroon(m),
      invoice: tx.invoice,
      paymentHash,
      expiresAt,
    };
  }

  /** Checks an `Authorization` header for `path` (which must be priced) without answering the request. */
  verify(path: string, authorization: string | undefined): L402Verification {
    const credential = parseL402Authorization(authorization);
    if (credential.kind === 'none') return { ok: false, reason: 'no L402 credential' };
    if (credential.kind === 'invalid') return { ok: false, reason: credential.reason };
    return this.verifyCredential(path, credential.macaroon, credential.preimage);
  }

  private verifyCredential(path: string, encoded: string, preimage: string): L402Verification {
    const route = this.routeFor(path);
    if (!route) return { ok: false, reason: `${path} is not a priced route` };
    let m: macaroon.Macaroon;
    try {
      m = macaroon.importMacaroon(encoded);
    } catch (err) {
      return { ok: false, reason: `the macaroon cannot be decoded: ${errorMessage(err)}` };
    }
    const id = m.identifier;
    if (id.length !== IDENTIFIER_LENGTH || new DataView(id.buffer, id.byteOffset).getUint16(0) !== 0)
      return { ok: false, reason: 'not an L402 macaroon of this server (unknown identifier format)' };
    // Authenticity first, through the library: the HMAC chain from the root key over the identifier and
    // every caveat. The caveats' conditions are judged in the second pass, once they are known to be ours
    // (or a holder's attenuation of ours); this pass alone grants nothing.
    try {
      m.verify(this.rootKey, () => null);
    } catch (err) {
      return {
        ok: false,
        reason: `the macaroon does not verify with this server's root key (forged or altered): ${errorMessage(err)}`,
      };
    }
    const now = unixSeconds(this.clock);
    const routes: string[] = [];
    const expiries: number[] = [];
    try {
      m.verify(this.rootKey, (condition) => {
        const eq = condition.indexOf('=');
        const key = eq < 0 ? condition : condition.slice(0, eq);
        const value = eq < 0 ? '' : condition.slice(eq + 1);
        if (key === 'route') {
          if (!PATTERN.test(value)) return `malformed route caveat`;
          routes.push(value);
          return routeMatches(value, path) ? null : `this token is for ${value}, not ${path}`;
        }
        if (key === 'expires') {
          if (!/^[0-9]{1,15}$/.test(value)) return 'malformed expiry caveat';
          const at = Number(value);
          expiries.push(at);
          return now < at ? null : `the token expired at ${new Date(at * 1000).toISOString()}`;
        }
        return 'unknown caveat';
      });
    } catch (err) {
      return { ok: false, reason: errorMessage(err) };
    }
    // The first route caveat is the one this server minted (caveats are chained in order, so a holder can
    // only append); a holder's added `route=` for a dearer route must not count as having bought it.
    if (routes[0] !== route.pattern)
      return {
        ok: false,
        reason: `this token was bought for ${routes[0] ?? 'no route'}, but ${path} is priced by ${route.pattern}`,
      };
    if (expiries.length === 0) return { ok: false, reason: 'the macaroon has no expiry caveat' };
    const hash = Buffer.from(id.subarray(2, 34));
    const paid = createHash('sha256').update(Buffer.from(preimage, 'hex')).digest();
    if (!timingSafeEqual(hash, paid))
      return {
        ok: false,
        reason: 'the preimage does not match the payment hash of the macaroon (the invoice is not paid)',
      };
    this.income?.paid(hash.toString('hex'));
    return {
      ok: true,
      token: {
        paymentHash: hash.toString('hex'),
        tokenId: Buffer.from(id.subarray(34)).toString('hex'),
        routes,
        expiresAt: Math.min(...expiries),
      },
    };
  }

  private unauthorized(path: string, reason: string): L402Refusal {
    this.log.debug({ path, reason }, 'L402 token refused');
    return {
      allowed: false,
      status: 401,
      headers: { 'WWW-Authenticate': 'L402 error="invalid_token"' },
      body: { error: `invalid L402 token: ${reason}`, reason },
    };
  }
}

/**
 * Standard base64 of a macaroon's version 2 binary form, built from the library's accessors. The library's
 * own `exportBinary` (3.0.4) doubles its buffer on every append (`ByteBuffer._grow` compares against a
 * `_capacity` that is never set), so exporting a macaroon with two caveats allocates 200 MB and one with four
 * throws; the encoding itself is simple and the tests compare it byte for byte with `exportBinary`.
 */
export function encodeMacaroon(m: macaroon.Macaroon): string {
  const parts: Buffer[] = [Buffer.from([2])];
  const field = (type: number, data: Uint8Array): void => {
    parts.push(Buffer.from([type]), uvarint(data.length), Buffer.from(data));
  };
  const EOS = Buffer.from([0]);
  if (m.location) field(1, Buffer.from(m.location, 'utf8'));
  field(2, m.identifier);
  parts.push(EOS);
  for (const c of m.caveats) {
    if ('vid' in c && c.location) field(1, Buffer.from(c.location, 'utf8'));
    field(2, c.identifier);
    if ('vid' in c) field(4, c.vid);
    parts.push(EOS);
  }
  parts.push(EOS);
  field(6, m.signature);
  return Buffer.concat(parts).toString('base64');
}

function uvarint(n: number): Buffer {
  const out: number[] = [];
  let x = n;
  while (x >= 0x80) {
    out.push((x & 0x7f) | 0x80);
    x = Math.floor(x / 128);
  }
  out.push(x);
  return Buffer.from(out);
}

/**
 * Reads the L402 root key from `file`, or creates it (32 random bytes, mode 0600) when the file does not
 * exist. Creation is atomic and never replaces a key: the bytes are written and synced to a temporary file
 * that is then hard-linked into place, so a concurrent creator's key wins and both read the same one.
 */
export async function loadOrCreateRootKey(file: string): Promise<Uint8Array> {
  const existing = await readRootKey(file);
  if (existing) return existing;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(randomBytes(32));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new Error(`cannot create the L402 root key ${file}: ${errorMessage(err)}`);
  } finally {
    await unlink(tmp).catch(() => {});
  }
  const key = await readRootKey(file);
  if (!key) throw new Error(`the L402 root key ${file} vanished while it was being created`);
  return key;
}

async function readRootKey(file: string): Promise<Uint8Array | undefined> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the L402 root key ${file}: ${errorMessage(err)}`);
  }
  if (data.length !== 32)
    throw new Error(
      `the L402 root key ${file} holds ${data.length} bytes, not 32: it is not a root key (move it away and a new one is made; tokens minted with the old key then stop working)`,
    );
  return new Uint8Array(data);
}
