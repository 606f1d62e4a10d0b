import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';

/** An open invoice the wallet may be asked about. */
export interface OpenInvoice {
  paymentHash: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface LookupScheduleOptions {
  /** The wait before the second lookup of an invoice still open; each lookup that finds it open doubles it. */
  firstDelayMs: number;
  /** The longest wait between two lookups of one invoice while the wallet's notifications arrive. */
  maxDelayMs: number;
  /** The longest wait while the wallet sends no notifications (lookups are then the only news). */
  maxDelayUnnotifiedMs: number;
  /** Lookups one round may ask of the wallet. */
  perRound: number;
  clock: Clock;
}

interface Next {
  at: number;
  delayMs: number;
}

/**
 * When to ask the wallet about each open invoice. Notifications are how a payment is learnt; a lookup
 * covers one that was lost (the instance was down, the connection dropped). So an invoice is looked up once
 * when it is first seen, then after `firstDelayMs`, and each time it is still open the wait doubles up to a
 * ceiling, and once more when it expires (to close it, or to find it paid at the last moment). A round asks
 * about at most `perRound` invoices, the longest overdue first: a flood of unpaid invoices makes lookups
 * rarer, never more frequent, and never crowds out the wallet calls of a paying customer.
 */
export class LookupSchedule {
  private readonly next = new Map<string, Next>();

  constructor(private readonly options: LookupScheduleOptions) {}

  /** The invoices of `open` to look up now, longest overdue first, at most `perRound`. */
  due(open: readonly OpenInvoice[]): string[] {
    const now = this.options.clock.now();
    const known = new Set<string>();
    const due: { hash: string; at: number }[] = [];
    for (const invoice of open) {
      known.add(invoice.paymentHash);
      const next = this.next.get(invoice.paymentHash);
      const at = Math.min(next?.at ?? now, invoice.expiresAt * 1000);
      if (at <= now) due.push({ hash: invoice.paymentHash, at });
    }
    // An invoice no longer open needs no schedule.
    for (const hash of this.next.keys()) if (!known.has(hash)) this.next.delete(hash);
    due.sort((a, b) => a.at - b.at);
    return due.slice(0, this.options.perRound).map((d) => d.hash);
  }

  /**
   * The wallet answered that `paymentHash` is still open: the next lookup waits twice as long as the last,
   * up to the ceiling (`notified`: the wallet's notifications arrive). A lookup the wallet did not answer is
   * not reported, and the invoice stays due.
   */
  looked(paymentHash: string, notified: boolean): void {
    const { clock, firstDelayMs, maxDelayMs, maxDelayUnnotifiedMs } = this.options;
    const ceiling = notified ? maxDelayMs : Math.min(maxDelayMs, maxDelayUnnotifiedMs);
    const last = this.next.get(paymentHash);
    const delayMs = Math.min(ceiling, last ? last.delayMs * 2 : firstDelayMs);
    this.next.set(paymentHash, { at: clock.now() + delayMs, delayMs });
  }

  /** How many invoices have a schedule (for tests and status). */
  get size(): number {
    return this.next.size;
  }
}

/**
 * The schedule configured for the instance's wallet: `payments.walletLookups` (how many a round, the longest
 * wait), a first wait of `payments.walletRetryMs` (the round interval), and without notifications a wait of
 * at most 15 rounds.
 */
export function lookupSchedule(payments: Config['payments'], clock: Clock): LookupSchedule {
  return new LookupSchedule({
    firstDelayMs: payments.walletRetryMs,
    maxDelayMs: payments.walletLookups.maxDelayMs,
    maxDelayUnnotifiedMs: 15 * payments.walletRetryMs,
    perRound: payments.walletLookups.perRound,
    clock,
  });
}
