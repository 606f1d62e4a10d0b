import { isIPv6 } from 'node:net';
import type { Clock } from '../core/clock.ts';

/**
 * A token bucket per client key (an HTTP remote address): each client holds at most `perMinute` tokens (the
 * burst), refilled at `perMinute` a minute, and each action takes one. Time comes from the injected clock.
 *
 * The table of buckets is bounded: it tracks at most `maxClients` keys. A bucket that has refilled entirely
 * (its client idle for a minute) is the same as no bucket, so such entries are dropped as they are met; when
 * the table is still full, the client seen longest ago is forgotten (and starts afresh if it comes back). A
 * spray of addresses therefore costs at most `maxClients` entries; what it can do with forgotten buckets
 * must be bounded by a global limit elsewhere (the L402 gate's pool of open challenges).
 */
export interface ClientRateLimitOptions {
  /** Actions one client may take a minute, and its burst; a positive whole number. */
  perMinute: number;
  /** How many clients are tracked at most; a positive whole number. */
  maxClients: number;
  clock: Clock;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** Milliseconds (the clock's) of the last refill. */
  at: number;
}

export class ClientRateLimiter {
  readonly perMinute: number;
  readonly maxClients: number;
  private readonly clock: Clock;
  /** In order of last use, the oldest first (a use deletes and re-inserts its key). */
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  /** How long an empty bucket takes to refill entirely. */
  private readonly fullAfterMs = 60_000;

  constructor(options: ClientRateLimitOptions) {
    if (!Number.isSafeInteger(options.perMinute) || options.perMinute <= 0)
      throw new Error('the rate limit must be a positive whole number a minute');
    if (!Number.isSafeInteger(options.maxClients) || options.maxClients <= 0)
      throw new Error('the number of tracked clients must be a positive whole number');
    this.perMinute = options.perMinute;
    this.maxClients = options.maxClients;
    this.clock = options.clock;
    this.perMs = options.perMinute / this.fullAfterMs;
  }

  /** How many clients are tracked now. */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes a token for `client`: ok, or not with the whole seconds until one is available (at least 1).
   * Nothing is taken when it is refused.
   */
  take(client: string): RateDecision {
    const now = this.clock.now();
    const known = this.buckets.get(client);
    const bucket: Bucket = known
      ? {
          tokens: Math.min(this.perMinute, known.tokens + Math.max(0, now - known.at) * this.perMs),
          at: now,
        }
      : { tokens: this.perMinute, at: now };
    this.buckets.delete(client);
    this.buckets.set(client, bucket);
    this.evict(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    const waitMs = (1 - bucket.tokens) / this.perMs;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** Drops idle clients from the oldest end, then the oldest while the table is over its bound. */
  private evict(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (this.buckets.size <= 1) return; // the one just used
      const idle = now - bucket.at >= this.fullAfterMs;
      if (!idle && this.buckets.size <= this.maxClients) return;
      this.buckets.delete(key);
    }
  }
}

/**
 * The key a client address is limited under: IPv4 as is (an IPv4-mapped IPv6 address as its IPv4 address),
 * IPv6 by its /64 prefix, which one client usually holds whole (so it cannot take a fresh bucket with each of
 * its addresses). Anything else (no address) as given.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] ?? address;
  const plain = address.replace(/%.*$/, '');
  if (!isIPv6(plain)) return address;
  const [head = '', tail] = plain.toLowerCase().split('::');
  const groups = (part: string | undefined): string[] => (part ? part.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const width = (gs: string[]): number => gs.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0); // a.b.c.d: two
  const all = [...left, ...Array<string>(Math.max(0, 8 - width(left) - width(right))).fill('0'), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
