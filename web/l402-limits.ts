import { type Clock, unixSeconds } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { ChallengePool, type OpenChallenge } from './l402-pool.ts';
import { ClientRateLimiter, clientKey } from './rate-limit.ts';

/**
 * The L402 gate's limits on invoices. A challenge costs the wallet an invoice, so unauthenticated clients
 * must not be able to make invoices at will (1,500 GETs once made 1,360 invoices and starved a paying
 * customer's wallet calls). Requests that carry a token are never limited.
 *
 * - Per client (the HTTP remote address; an IPv6 address by its /64), a challenge that needs a new invoice
 *   takes a token of a bucket of `challengesPerMinute` (the burst too); an empty bucket is answered `429`
 *   with `Retry-After` and no invoice. The buckets are bounded in number (`maxTrackedClients`,
 *   `web/rate-limit.ts`). `0` turns the per-client limit off (behind a reverse proxy every client has the
 *   proxy's address); the pool still bounds the invoices.
 * - In all, at most `maxOpenChallenges` invoices are open (made, neither expired nor proven paid) in the
 *   pool (`web/l402-pool.ts`); invoices being made count too. When it is full, a challenge makes no invoice:
 *   it is answered with the pooled invoice of the same route that has the most time left (at least
 *   `poolMinSecondsLeft`) and a fresh macaroon for it (a new random token id, the same payment hash, its own
 *   route and expiry caveats). With none, `503` with `Retry-After` (until the soonest pooled invoice expires
 *   and frees a place).
 *
 * Sharing an invoice between challenges is safe: a macaroon grants nothing without the preimage of its payment
 * hash, and only whoever pays the invoice learns it (from their wallet). Once one holder has paid, the invoice
 * is settled; another holder's payment of it fails, they get no preimage and no access, lose nothing, and
 * ask again. The holders of one invoice's macaroons cannot use each other's: each needs the preimage, which
 * only the payer has (and a payer who shares it gives away what it bought, as it could with its own token).
 *
 * An invoice leaves the pool when it expires, when a valid token proves it paid, or when the gate is told of
 * its payment (`L402Gate.invoicePaid`, e.g. from a wallet notification). One paid but not yet redeemed, with
 * no notification, is still handed out until then: its new holders' payments fail and they ask again. The
 * pool is in memory only: a restart starts with an empty one (tokens stay valid; they are checked
 * statelessly, and the invoices made before stay payable).
 */
export const L402_LIMITS = { challengesPerMinute: 10, maxOpenChallenges: 100, maxTrackedClients: 10_000 };

export interface InvoiceLimitOptions {
  challengesPerMinute?: number | undefined;
  maxOpenChallenges?: number | undefined;
  maxTrackedClients?: number | undefined;
  /** How long the gate's invoices may be paid. */
  invoiceExpirySeconds: number;
  clock: Clock;
  log: Logger;
}

/** What a challenge may do: make a new invoice, share a pooled one, or nothing (the refusal to send). */
export type Admission =
  | { kind: 'new' }
  | { kind: 'pooled'; open: OpenChallenge }
  | { kind: 'refused'; status: 429 | 503; retryAfterSeconds: number; error: string };

export class InvoiceLimits {
  /** Undefined when the per-client limit is off. */
  private readonly limiter: ClientRateLimiter | undefined;
  private readonly pool: ChallengePool;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** Invoices being made now: they count against the pool before they land in it. */
  private making = 0;
  /**
   * The least time to pay a pooled invoice must have left to be handed out again: a quarter of the invoice
   * expiry, and at least 30 s where that is at most half of it.
   */
  readonly poolMinSecondsLeft: number;

  constructor(options: InvoiceLimitOptions) {
    this.clock = options.clock;
    this.log = options.log;
    const perMinute = options.challengesPerMinute ?? L402_LIMITS.challengesPerMinute;
    const maxClients = options.maxTrackedClients ?? L402_LIMITS.maxTrackedClients;
    if (!Number.isSafeInteger(perMinute) || perMinute < 0)
      throw new Error('L402 challengesPerMinute must be a whole number, 0 or more (0: no per-client limit)');
    if (!Number.isSafeInteger(maxClients) || maxClients <= 0)
      throw new Error('L402 maxTrackedClients must be a positive whole number');
    this.limiter =
      perMinute === 0 ? undefined : new ClientRateLimiter({ perMinute, maxClients, clock: options.clock });
    const maxOpen = options.maxOpenChallenges ?? L402_LIMITS.maxOpenChallenges;
    if (!Number.isSafeInteger(maxOpen) || maxOpen <= 0)
      throw new Error('L402 maxOpenChallenges must be a positive whole number');
    this.pool = new ChallengePool(maxOpen);
    const expiry = options.invoiceExpirySeconds;
    this.poolMinSecondsLeft = Math.max(Math.ceil(expiry / 4), Math.min(30, Math.floor(expiry / 2)));
  }

  /** How many invoices are open in the pool now. */
  get openChallenges(): number {
    return this.pool.size;
  }

  /** How many clients' rate limits are tracked now. */
  get trackedClients(): number {
    return this.limiter?.size ?? 0;
  }

  /**
   * Decides a challenge for `route` (a pattern) from `client` (requests without one share a bucket). On
   * `new`, one invoice counts as being made until `release()` (call it once, whatever happens).
   */
  admit(route: string, client: string | undefined): Admission {
    const now = unixSeconds(this.clock);
    this.pool.prune(now);
    if (this.pool.size + this.making >= this.pool.capacity) {
      const open = this.pool.pick(route, now, this.poolMinSecondsLeft);
      if (open) return { kind: 'pooled', open };
      const wait = this.pool.secondsUntilFree(now);
      this.log.debug({ route, open: this.pool.size }, 'L402 challenge pool exhausted');
      return {
        kind: 'refused',
        status: 503,
        retryAfterSeconds: wait,
        error: `busy: ${this.pool.capacity} L402 invoices are open (the most this server keeps) and none for ${route} has time left to pay; try again in ${wait} s`,
      };
    }
    const rate = this.limiter?.take(clientKey(client ?? '')) ?? { ok: true };
    if (!rate.ok) {
      const n = this.limiter?.perMinute ?? 0;
      this.log.debug({ route, client }, 'L402 challenge rate-limited');
      return {
        kind: 'refused',
        status: 429,
        retryAfterSeconds: rate.retryAfterSeconds,
        error: `rate-limited: at most ${n} new L402 invoice${n === 1 ? '' : 's'} a minute per client; try again in ${rate.retryAfterSeconds} s`,
      };
    }
    this.making++;
    return { kind: 'new' };
  }

  /** The end of making an invoice that `admit` allowed (made or failed). */
  release(): void {
    this.making = Math.max(0, this.making - 1);
  }

  /** A new invoice joins the pool, when it has room. */
  record(open: OpenChallenge): void {
    if (this.pool.add(open) && this.pool.size === this.pool.capacity)
      this.log.warn(
        { open: this.pool.size },
        'L402: the pool of open challenges is full; challenges now share its invoices',
      );
  }

  /** A paid invoice leaves the pool. */
  paid(paymentHash: string): void {
    this.pool.remove(paymentHash.toLowerCase());
  }
}
