import type { Clock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { LookupSchedule } from './lookup-schedule.ts';
import type { Treasury } from './treasury.ts';
import type { Transaction, Wallet, WalletNotification } from './wallet.ts';

/**
 * Books the instance's income outside jobs (L402 tokens) into its treasury, so that what the wallet holds
 * and what the treasury says stay equal. An invoice is recorded before the payer sees it; it is booked paid
 * (into `instance`, once) when the wallet's notification arrives, when a token proves it with its preimage,
 * or when a lookup finds it settled (rounds every `retryMs` on a backed-off schedule, which also covers
 * notifications lost while down); it is closed once it has expired unpaid.
 */
export interface IncomeSink {
  /** An invoice made for `memo`, before it is shown. */
  invoiced(tx: Transaction, memo: string): void;
  /** Proof of payment (a token's preimage matched the payment hash). */
  paid(paymentHash: string): void;
}

export interface IncomeWatcherOptions {
  treasury: Treasury;
  wallet: Wallet;
  clock: Clock;
  logger: Logger;
  /** How often a round of lookups runs. */
  retryMs: number;
  /** Which open invoices a round looks up (`lookupSchedule`). */
  schedule: LookupSchedule;
}

export class IncomeWatcher implements IncomeSink {
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly bookedListeners: ((paymentHash: string) => void)[] = [];

  constructor(private readonly options: IncomeWatcherOptions) {
    this.log = options.logger.child({ component: 'income' });
  }

  /** Starts the lookups at once; the returned promise settles when the notification subscription does. */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.reconcile(), this.options.retryMs);
    this.timer.unref();
    void this.reconcile();
    try {
      const unsubscribe = await this.options.wallet.subscribe((n) => this.onNotification(n));
      if (this.stopped) unsubscribe();
      else this.unsubscribe = unsubscribe;
    } catch (err) {
      // Lookups still find the payments; notifications only make it sooner.
      this.log.warn({ err: errorMessage(err) }, 'no wallet notifications for income; relying on lookups');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.running;
  }

  invoiced(tx: Transaction, memo: string): void {
    this.options.treasury.incomes.record({
      paymentHash: tx.paymentHash.toLowerCase(),
      invoice: tx.invoice,
      amountMsats: tx.amountMsats,
      memo,
      expiresAt: tx.expiresAt,
    });
  }

  paid(paymentHash: string): void {
    const i = this.options.treasury.incomes.get(paymentHash.toLowerCase());
    if (i?.state === 'invoiced') this.book(i.paymentHash);
  }

  /** Calls `listener` with each payment hash booked paid from now on (the L402 pool lets it go). */
  onBooked(listener: (paymentHash: string) => void): void {
    this.bookedListeners.push(listener);
  }

  /** One round of lookups over the open income invoices. Rounds never overlap. */
  reconcile(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(): Promise<void> {
    const { treasury, wallet, clock, schedule } = this.options;
    try {
      for (const paymentHash of schedule.due(treasury.incomes.pending())) {
        if (this.stopped) return;
        const i = treasury.incomes.get(paymentHash);
        if (i?.state !== 'invoiced') continue;
        const t = await wallet.lookupInvoice({ paymentHash });
        if (t.state === 'settled') this.book(paymentHash);
        else if (t.state === 'failed' || i.expiresAt <= Math.floor(clock.now() / 1000))
          treasury.incomes.markExpired(paymentHash);
        else schedule.looked(paymentHash, this.unsubscribe !== undefined);
      }
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'looking up income invoices failed; will retry');
    }
  }

  private onNotification(n: WalletNotification): void {
    if (n.type !== 'payment_received') return;
    const i = this.options.treasury.incomes.get(n.transaction.paymentHash.toLowerCase());
    // An expired record too: if the wallet took the payment, the sats are the instance's.
    if (i && i.state !== 'paid') this.book(i.paymentHash);
  }

  private book(paymentHash: string): void {
    try {
      const i = this.options.treasury.incomes.markPaid(paymentHash);
      if (!i) return;
      this.log.info({ paymentHash, amountMsats: i.amountMsats, memo: i.memo }, 'income booked');
      for (const listener of this.bookedListeners) listener(paymentHash);
    } catch (err) {
      this.log.warn({ paymentHash, err: errorMessage(err) }, 'booking income failed; will retry');
    }
  }
}
