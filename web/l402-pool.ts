/**
 * The L402 gate's open challenges: the invoices it made that are neither expired nor proven paid, at most
 * `capacity` of them, in memory only (a restart starts with an empty pool; the invoices made before it stay
 * payable, and their tokens valid, since tokens are checked statelessly). See `L402Gate` for how a full pool
 * answers challenges.
 */

/** An invoice of the gate that may still be paid. */
export interface OpenChallenge {
  paymentHash: string;
  invoice: string;
  /** The pattern of the route it prices. */
  route: string;
  amountMsats: number;
  /** Unix seconds from which the invoice can no longer be paid. */
  expiresAt: number;
}

export class ChallengePool {
  /** By payment hash. */
  private readonly open = new Map<string, OpenChallenge>();

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity <= 0)
      throw new Error('the number of open L402 challenges must be a positive whole number');
  }

  get size(): number {
    return this.open.size;
  }

  has(paymentHash: string): boolean {
    return this.open.has(paymentHash);
  }

  /** Adds an invoice; false (and nothing added) when the pool is full. */
  add(challenge: OpenChallenge): boolean {
    if (this.open.size >= this.capacity && !this.open.has(challenge.paymentHash)) return false;
    this.open.set(challenge.paymentHash, challenge);
    return true;
  }

  /** Removes an invoice (paid); whether it was there. */
  remove(paymentHash: string): boolean {
    return this.open.delete(paymentHash);
  }

  /** Drops the invoices expired at `now` (unix seconds). */
  prune(now: number): void {
    for (const [hash, c] of this.open) if (c.expiresAt <= now) this.open.delete(hash);
  }

  /** The open invoice of `route` with the most time left, when it has at least `minSecondsLeft` of it. */
  pick(route: string, now: number, minSecondsLeft: number): OpenChallenge | undefined {
    let best: OpenChallenge | undefined;
    for (const c of this.open.values())
      if (c.route === route && (!best || c.expiresAt > best.expiresAt)) best = c;
    return best && best.expiresAt - now >= minSecondsLeft ? best : undefined;
  }

  /** Whole seconds until the soonest invoice expires and frees its place (at least 1). */
  secondsUntilFree(now: number): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const c of this.open.values()) soonest = Math.min(soonest, c.expiresAt);
    return Number.isFinite(soonest) ? Math.max(1, soonest - now) : 1;
  }
}
