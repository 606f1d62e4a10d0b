import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import macaroon from 'macaroon';
import { type Clock, systemClock, unixSeconds } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { IncomeSink } from '../payments/income.ts';
import { formatMsats, type Wallet, WalletError } from '../payments/wallet.ts';
import { InvoiceLimits } from './l402-limits.ts';
import {
  encodeMacaroon,
  type L402Route,
  parseL402Authorization,
  parseL402Routes,
  ROUTE_PATTERN,
  routeMatches,
} from './l402-wire.ts';

export { L402_LIMITS } from './l402-limits.ts';
export { loadOrCreateRootKey } from './l402-root-key.ts';
export {
  encodeMacaroon,
  type L402Credential,
  type L402Route,
  parseL402Authorization,
  parseL402Routes,
  routeMatches,
} from './l402-wire.ts';

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
 *
 * Limits (`web/l402-limits.ts`): challenges that need a new invoice are limited per client
 * (`challengesPerMinute`, 429 beyond it), and at most `maxOpenChallenges` invoices are open at once; a full
 * pool shares its open invoices between challenges (safe: only the payer learns the preimage), or answers
 * 503. The pool is in memory only.
 */

const MACAROON_VERSION = 0;
const IDENTIFIER_LENGTH = 2 + 32 + 32;

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
  /**
   * Challenges that need a new invoice, per client (remote address) a minute; also the burst. Default 10.
   * More are answered 429 with `Retry-After`.
   */
  challengesPerMinute?: number;
  /**
   * Invoices made and neither expired nor paid that the gate keeps (default 100); when that many are open,
   * challenges are answered with an open invoice of the same route instead of a new one (or 503).
   */
  maxOpenChallenges?: number;
  /** Clients whose rate limit is tracked at most (default 10,000); the idle and oldest are forgotten. */
  maxTrackedClients?: number;
}

/** Who asks, for the per-client limit. */
export interface L402Requester {
  /** The client's key: the HTTP remote address. Requests without one share one bucket. */
  client?: string | undefined;
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
  status: 401 | 402 | 429 | 503;
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
  private readonly limits: InvoiceLimits;
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
    this.limits = new InvoiceLimits({
      challengesPerMinute: options.challengesPerMinute,
      maxOpenChallenges: options.maxOpenChallenges,
      maxTrackedClients: options.maxTrackedClients,
      invoiceExpirySeconds: invoiceExpiry,
      clock: this.clock,
      log: this.log,
    });
  }

  /** How many invoices are open in the gate's pool now. */
  get openChallenges(): number {
    return this.limits.openChallenges;
  }

  /** How many clients' rate limits are tracked now. */
  get trackedClients(): number {
    return this.limits.trackedClients;
  }

  /** The least time to pay a pooled invoice must have left to be shared (see `web/l402-limits.ts`). */
  get poolMinSecondsLeft(): number {
    return this.limits.poolMinSecondsLeft;
  }

  /**
   * Tells the gate that an invoice was paid (e.g. from the wallet's `payment_received` notification): it
   * leaves the pool at once, instead of when its token is first shown or it expires, so no later challenge
   * shares an invoice that can no longer be paid. Any payment hash may be given; others are ignored.
   */
  invoicePaid(paymentHash: string): void {
    this.limits.paid(paymentHash);
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
   * instead: 402 with a challenge (a new invoice, or a pooled one when the pool is full), 401 for a bad
   * token, 429 when `requester.client` asks for new invoices too fast, 503 when the wallet cannot make the
   * invoice or the pool is full with no invoice of this route to share.
   */
  async check(
    method: string,
    path: string,
    authorization: string | undefined,
    requester: L402Requester = {},
  ): Promise<L402Decision> {
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
    const admission = this.limits.admit(route.pattern, requester.client);
    if (admission.kind === 'refused')
      return {
        allowed: false,
        status: admission.status,
        headers: { 'Retry-After': String(admission.retryAfterSeconds) },
        body: { error: admission.error, retryAfterSeconds: admission.retryAfterSeconds },
      };
    if (admission.kind === 'pooled') {
      const { open } = admission;
      this.log.debug({ path, paymentHash: open.paymentHash }, 'L402 challenge from the pool');
      return this.paymentRequired(this.mint(route, open.paymentHash, open.invoice));
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
    } finally {
      this.limits.release();
    }
    this.log.debug({ method, path, paymentHash: challenge.paymentHash }, 'L402 challenge');
    return this.paymentRequired(challenge);
  }

  private paymentRequired(challenge: L402Challenge): L402Refusal {
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

  /**
   * Makes the invoice for the route that prices `path` and mints the macaroon bound to its payment hash. The
   * invoice joins the pool of open challenges when it has room; no limit applies here (`check` applies them).
   */
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
    const latest = unixSeconds(this.clock) + this.invoiceExpirySeconds;
    this.limits.record({
      paymentHash,
      invoice: tx.invoice,
      route: route.pattern,
      amountMsats: route.priceMsats,
      expiresAt: tx.expiresAt > 0 ? Math.min(tx.expiresAt, latest) : latest,
    });
    return this.mint(route, paymentHash, tx.invoice);
  }

  /** A fresh macaroon (new random token id) for an invoice of `route`. */
  private mint(route: L402Route, paymentHash: string, invoice: string): L402Challenge {
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
      invoice,
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
          if (!ROUTE_PATTERN.test(value)) return `malformed route caveat`;
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
    this.limits.paid(hash.toString('hex'));
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
