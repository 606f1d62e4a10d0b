import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Wallet } from '../../payments/wallet.ts';

/** A hold invoice made ahead of time: its preimage is the desk's, drawn here and never given to anyone. */
export interface PooledInvoice {
  invoice: string;
  paymentHash: string;
  preimage: string;
  amountMsats: number;
  /** Unix seconds: the wallet's expiry of the invoice. */
  expiresAt: number;
}

export interface InvoicePoolOptions {
  wallet: Wallet;
  /** Invoices kept ready per amount (`payments.invoicePool`); 0 keeps none. */
  size: number;
  /** Amounts kept (the most recently used); the others' invoices are cancelled. */
  maxAmounts?: number;
  /**
   * `payments.invoiceExpirySeconds`: a pooled invoice is made to expire after twice that, and handed out only
   * while at least that much of it remains, so the customer always has the configured time to pay.
   */
  expirySeconds: number;
  /** How long `stop` waits for the wallet (invoices being made, then the cancellations). */
  stopWaitMs?: number;
  clock: Clock;
  logger: Logger;
}

interface Slot {
  ready: PooledInvoice[];
  /** How many to keep ready: 1 for an amount asked for once, one more with each later demand, up to `size`. */
  target: number;
  /** The refill in progress (one invoice at a time), if any. */
  filling: Promise<void> | undefined;
}

const sha256 = (hex: string): string => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

/** What a pooled invoice says it is for: it is made before there is a job, so it cannot name one. */
export const poolDescription = (amountMsats: number): string =>
  `Timmy Time job escrow, ${amountMsats % 1000 === 0 ? `${amountMsats / 1000} sats` : `${amountMsats} msats`}`;

/**
 * Hold invoices made ahead of time, so a paid job does not wait for the wallet's `make_hold_invoice` round
 * trip before its `payment-required` goes out (docs/payments.md, "Invoices made ahead").
 *
 * Demand-driven, per amount (msats): the first job that needs an amount finds nothing and makes its own
 * invoice as before; that demand starts a pool for the amount with one invoice made in the background (one
 * invoice at a time, never on a job's path), and each later demand keeps one more ready, up to `size`, and
 * replaces what it took the same way. So an amount asked for once (an auction's odd price) costs one invoice
 * made ahead, and a busy amount gets `size` for a burst of jobs. At
 * most `maxAmounts` amounts are kept, the most recently asked for: an evicted amount's invoices are
 * cancelled at the wallet. An invoice is handed out only while `expirySeconds` of it remain; older ones are
 * cancelled (`prune`) and not replaced until an amount is asked for again, so an idle desk stops making
 * invoices. A failed refill is logged once and tried again on the next demand. `stop` cancels what is left.
 *
 * The preimages of invoices not handed out live in memory only. That is safe: nobody was given the
 * invoice, so nothing can be paid into it; after a crash the desk forgets them and the wallet lets them
 * expire. A taken invoice's preimage is written with its escrow, in the job's transaction (Billing).
 */
export class InvoicePool {
  private readonly pools = new Map<number, Slot>();
  private readonly cancelling = new Set<Promise<void>>();
  private readonly log: Logger;
  private readonly maxAmounts: number;
  private failing = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: InvoicePoolOptions) {
    this.log = options.logger.child({ component: 'invoice-pool' });
    this.maxAmounts = options.maxAmounts ?? 8;
  }

  get enabled(): boolean {
    return this.options.size > 0;
  }

  /** Cancels stale invoices every tenth of an invoice's life (at least once a second). */
  start(): void {
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => this.prune(), Math.max(1000, (this.options.expirySeconds * 1000) / 10));
    this.timer.unref();
  }

  /** Invoices ready for `amountMsats` now (for tests and status). */
  ready(amountMsats: number): number {
    return this.pools.get(amountMsats)?.ready.length ?? 0;
  }

  /** The payment hashes ready for `amountMsats`, oldest first (for tests). */
  readyHashes(amountMsats: number): string[] {
    return (this.pools.get(amountMsats)?.ready ?? []).map((p) => p.paymentHash);
  }

  /** The amounts kept, least recently asked for first. */
  amounts(): number[] {
    return [...this.pools.keys()];
  }

  /**
   * A ready invoice for `amountMsats`, or undefined (the caller makes its own). Either way this is demand:
   * the amount's pool is refilled in the background.
   */
  take(amountMsats: number): PooledInvoice | undefined {
    if (!this.enabled || this.stopped) return undefined;
    let slot = this.pools.get(amountMsats);
    if (slot) {
      this.pools.delete(amountMsats); // re-inserted last: the most recently used
      slot.target = Math.min(this.options.size, slot.target + 1);
    }
    slot ??= { ready: [], target: 1, filling: undefined };
    this.pools.set(amountMsats, slot);
    this.evict();
    this.dropStale(slot);
    const taken = slot.ready.shift();
    this.fill(amountMsats, slot);
    return taken;
  }

  /** Cancels the invoices with less than `expirySeconds` left (they are not replaced until asked for). */
  prune(): void {
    for (const slot of this.pools.values()) this.dropStale(slot);
  }

  /** Resolves once no refill nor cancellation is in flight (for tests). */
  async settled(): Promise<void> {
    for (;;) {
      const busy = [...this.cancelling, ...[...this.pools.values()].flatMap((s) => s.filling ?? [])];
      if (busy.length === 0) return;
      await Promise.allSettled(busy);
    }
  }

  /** Stops refilling and cancels every invoice not handed out; waits at most `stopWaitMs` for the wallet. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const done = (async () => {
      // A refill that lands after the stop cancels its invoice itself.
      await Promise.allSettled([...this.pools.values()].flatMap((s) => s.filling ?? []));
      for (const slot of this.pools.values()) for (const p of slot.ready.splice(0)) this.cancel(p, 'stop');
      this.pools.clear();
      await this.settled();
    })();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.log.warn('the wallet did not answer in time; unused pooled invoices will expire there');
        resolve();
      }, this.options.stopWaitMs ?? 5000);
    });
    await Promise.race([done, bound]);
    clearTimeout(timer);
  }

  private evict(): void {
    while (this.pools.size > this.maxAmounts) {
      const [amount, slot] = this.pools.entries().next().value as [number, Slot];
      this.pools.delete(amount);
      for (const p of slot.ready.splice(0)) this.cancel(p, 'evicted');
    }
  }

  private fresh(p: PooledInvoice): boolean {
    return p.expiresAt - Math.floor(this.options.clock.now() / 1000) >= this.options.expirySeconds;
  }

  private dropStale(slot: Slot): void {
    const stale = slot.ready.filter((p) => !this.fresh(p));
    if (stale.length === 0) return;
    slot.ready = slot.ready.filter((p) => this.fresh(p));
    for (const p of stale) this.cancel(p, 'stale');
  }

  private fill(amountMsats: number, slot: Slot): void {
    if (slot.filling) return;
    const run = async (): Promise<void> => {
      while (!this.stopped && this.pools.get(amountMsats) === slot && slot.ready.length < slot.target) {
        let made: PooledInvoice;
        try {
          made = await this.make(amountMsats);
        } catch (err) {
          if (!this.failing)
            this.log.warn(
              { amountMsats, err: errorMessage(err) },
              'making a pooled invoice failed; jobs make their own until the next try',
            );
          this.failing = true;
          return; // tried again on the next demand
        }
        this.failing = false;
        if (this.stopped || this.pools.get(amountMsats) !== slot) this.cancel(made, 'not needed');
        else slot.ready.push(made);
      }
    };
    slot.filling = run().finally(() => {
      slot.filling = undefined;
    });
  }

  private async make(amountMsats: number): Promise<PooledInvoice> {
    const { wallet, expirySeconds, clock } = this.options;
    const preimage = randomBytes(32).toString('hex');
    const paymentHash = sha256(preimage);
    const lifetime = 2 * expirySeconds;
    const t = await wallet.makeHoldInvoice({
      amountMsats,
      description: poolDescription(amountMsats),
      expirySeconds: lifetime,
      paymentHash,
    });
    // The wallet's expiry counts (NIP-47's `expiry` is only a wish); ours when it says none.
    const expiresAt = t.expiresAt > 0 ? t.expiresAt : Math.floor(clock.now() / 1000) + lifetime;
    return { invoice: t.invoice, paymentHash, preimage, amountMsats, expiresAt };
  }

  /** Best effort: an invoice nobody was given is cancelled; if the wallet refuses, it expires there. */
  private cancel(p: PooledInvoice, why: string): void {
    const c = this.options.wallet
      .cancelHoldInvoice(p.paymentHash)
      .then(
        () => this.log.debug({ amountMsats: p.amountMsats, why }, 'pooled invoice cancelled'),
        (err: unknown) =>
          this.log.warn(
            { amountMsats: p.amountMsats, why, err: errorMessage(err) },
            'cancelling a pooled invoice failed; it expires at the wallet',
          ),
      )
      .finally(() => this.cancelling.delete(c));
    this.cancelling.add(c);
  }
}
