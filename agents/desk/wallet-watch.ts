import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { JobLog } from '../../dvm/job-log.ts';
import { isTerminal } from '../../dvm/job-state.ts';
import type { LookupSchedule } from '../../payments/lookup-schedule.ts';
import { lookupSchedule } from '../../payments/lookup-schedule.ts';
import type { Escrow, Treasury } from '../../payments/treasury.ts';
import { type Wallet, WalletError, type WalletNotification } from '../../payments/wallet.ts';
import type { Billing } from './billing.ts';

export interface WalletWatchOptions {
  wallet: Wallet;
  treasury: Treasury;
  log: JobLog;
  payments: Config['payments'];
  /** What to do with what the wallet says. */
  billing: Billing;
  /** Customers billed after the result (`payments.trustedCustomers`). */
  trusted: ReadonlySet<string>;
  clock: Clock;
  logger: Logger;
}

/**
 * The desk's eye on the wallet, the one party outside the desk's database: its notifications (a payment
 * arrived) and, for what a notification missed (the instance was down, the connection dropped), lookups of
 * the open invoices on a backed-off schedule (LookupSchedule: a bounded number a round, every
 * `payments.walletRetryMs`). What it learns goes to Billing: a payment, an expiry, a
 * held payment of an ended job to cancel, an ended job whose settlement the wallet did not answer, a pay-after
 * bill the wallet could not make. Rounds never overlap; a round that fails is logged and the next one runs.
 */
export class WalletWatch {
  private readonly log: Logger;
  private watching: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly schedule: LookupSchedule;

  constructor(private readonly options: WalletWatchOptions) {
    this.log = options.logger;
    this.schedule = lookupSchedule(options.payments, options.clock);
  }

  start(): void {
    this.subscribe();
    this.timer = setInterval(() => void this.watch(), this.options.payments.walletRetryMs);
    this.timer.unref();
    void this.watch();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
  }

  private subscribe(): void {
    this.options.wallet
      .subscribe((n) => this.onNotification(n))
      .then(
        (unsubscribe) => {
          if (this.stopped) unsubscribe();
          else this.unsubscribe = unsubscribe;
        },
        (err: unknown) => {
          this.log.warn(
            { err: errorMessage(err) },
            'wallet notifications unavailable; polling invoices instead',
          );
        },
      );
  }

  private onNotification(n: WalletNotification): void {
    if (n.type === 'payment_sent') return;
    const { billing, treasury } = this.options;
    const escrow = treasury.escrows.byHash(n.transaction.paymentHash);
    if (escrow?.state === 'invoiced' && billing.pastDeadline(escrow))
      // Paid after the time to pay (a pooled invoice is still open at the wallet until the desk cancels
      // it): cancelled, so the held payment goes back, and the job ends as unpaid.
      void billing
        .track(billing.expire(escrow, this.options.log.get(escrow.jobId)))
        .catch((err: unknown) => this.warn(escrow, err));
    else if (escrow?.state === 'invoiced')
      void billing.track(billing.paid(escrow)).catch((err: unknown) => this.warn(escrow, err));
    else if (escrow?.state === 'expired' && n.type === 'payment_received' && !escrow.hold)
      billing.latePayment(escrow);
  }

  private warn(escrow: Escrow, err: unknown): void {
    this.log.warn({ job: escrow.jobId, err: errorMessage(err) }, 'handling a payment failed');
  }

  /** One round of lookups (never two at once). Resolves when it is done; never rejects. */
  watch(): Promise<void> {
    if (this.stopped || !this.options.payments.enabled) return Promise.resolve();
    const { billing } = this.options;
    this.watching ??= billing
      .track(
        this.round().catch((err: unknown) =>
          this.log.warn({ err: errorMessage(err) }, 'watching the wallet failed; the next round tries again'),
        ),
      )
      .finally(() => {
        this.watching = undefined;
      });
    return this.watching;
  }

  private async round(): Promise<void> {
    const { treasury, log, billing } = this.options;
    const pending = treasury.escrows.pending();
    for (const held of pending) {
      if (this.stopped) return;
      if (held.state !== 'held') continue;
      const view = log.get(held.jobId);
      if (!view || !isTerminal(view.state)) continue;
      await billing.finish(held.jobId).catch((err: unknown) => {
        if (!(err instanceof WalletError && err.transient)) this.warn(held, err);
      });
    }
    const invoiced = pending.filter((e) => e.state === 'invoiced');
    for (const paymentHash of this.schedule.due(invoiced)) {
      if (this.stopped) return;
      // Re-read: a notification may have moved it while an earlier lookup was in flight.
      const escrow = treasury.escrows.byHash(paymentHash);
      if (escrow?.state !== 'invoiced') continue;
      try {
        if (await this.checkInvoice(escrow))
          this.schedule.looked(paymentHash, this.unsubscribe !== undefined);
      } catch (err) {
        if (!(err instanceof WalletError && err.transient)) this.warn(escrow, err);
        else billing.expireUnanswered(escrow);
      }
    }
    await this.billDueAfter();
  }

  /** Looks an invoice up and acts on the answer; true when it is still open and nothing changed. */
  private async checkInvoice(escrow: Escrow): Promise<boolean> {
    const { wallet, treasury, log, billing, clock } = this.options;
    const t = await wallet.lookupInvoice({ paymentHash: escrow.paymentHash });
    const now = treasury.escrows.get(escrow.jobId) ?? escrow;
    const view = log.get(escrow.jobId);
    if (now.state !== 'invoiced') return false;
    const nowS = Math.floor(clock.now() / 1000);
    if (t.state === 'settled' || (t.state === 'accepted' && !billing.pastDeadline(now)))
      await billing.paid(now);
    else if (t.state === 'failed' || now.expiresAt <= nowS) await billing.expire(now, view);
    else if (view && isTerminal(view.state) && now.mode === 'before' && now.hold)
      await billing.cancelFor(now, view.state);
    else return true;
    return false;
  }

  /** Trusted customers' completed jobs whose bill the wallet could not make yet. */
  private async billDueAfter(): Promise<void> {
    const { trusted, log, treasury, billing } = this.options;
    if (trusted.size === 0) return;
    for (const s of log.list({ states: ['completed'], limit: 200 })) {
      if (this.stopped) return;
      if (!trusted.has(s.customer) || treasury.escrows.get(s.id)) continue;
      const view = log.get(s.id);
      if (!view || !Object.hasOwn(view.effects, `payment:price:${view.attempt}`)) continue;
      await billing.finish(view.id);
    }
  }
}
