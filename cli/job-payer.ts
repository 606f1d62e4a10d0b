import type { JobFeedback } from '../dvm/feedback.ts';
import { formatMsats, type Wallet, WalletError } from '../payments/wallet.ts';

/**
 * The customer's side of a paid job for `timmy job submit`: pays a `payment-required` feedback's BOLT11
 * invoice once, if it is within the most the customer agreed to pay. Paying a hold invoice (escrow) only
 * resolves when the job ends, so the payment runs in the background while the command follows the job.
 */
export interface PaymentReport {
  amountMsats: number;
  bolt11: string;
  /** 'paid' (settled), 'in-flight' (held in escrow until the job ends), 'refunded', 'failed', 'refused'. */
  state: 'paid' | 'in-flight' | 'refunded' | 'failed' | 'refused';
  detail: string;
}

export class JobPayer {
  readonly payments: PaymentReport[] = [];
  private readonly pending: Promise<void>[] = [];

  /** `noWallet`: why there is no wallet, for the customer (e.g. "--no-pay was given"). */
  constructor(
    private readonly wallet: Wallet | undefined,
    private readonly maxMsats: number,
    private readonly say: (line: string) => void,
    private readonly noWallet = 'no wallet to pay with (pass --nwc, or start the instance with the embedded wallet)',
  ) {}

  /** Returns an error message when the job cannot go on (no wallet, too expensive), else undefined. */
  onFeedback(f: JobFeedback): string | undefined {
    if (f.status !== 'payment-required' || !f.bolt11 || f.amountMsats === undefined) return undefined;
    if (this.payments.some((p) => p.bolt11 === f.bolt11)) return undefined; // asked again: already paying
    const report: PaymentReport = {
      amountMsats: f.amountMsats,
      bolt11: f.bolt11,
      state: 'refused',
      detail: '',
    };
    this.payments.push(report);
    if (!this.wallet) {
      report.detail = this.noWallet;
      return `the job asks for ${formatMsats(f.amountMsats)}; ${report.detail}`;
    }
    if (f.amountMsats > this.maxMsats) {
      report.detail = `above --max-pay ${this.maxMsats} msats`;
      return `the job asks for ${formatMsats(f.amountMsats)}, ${report.detail}`;
    }
    report.state = 'in-flight';
    this.say(`paying ${formatMsats(f.amountMsats)}…`);
    const wallet = this.wallet;
    this.pending.push(
      wallet.payInvoice({ invoice: f.bolt11 }).then(
        () => {
          report.state = 'paid';
          report.detail = 'settled';
        },
        (err: unknown) => {
          if (err instanceof WalletError && err.code === 'UNREACHABLE') {
            report.detail = 'no answer yet from the wallet (a held payment settles when the job ends)';
            return;
          }
          const refunded = err instanceof WalletError && /cancel/i.test(err.message);
          report.state = refunded ? 'refunded' : 'failed';
          report.detail = err instanceof Error ? err.message : String(err);
          this.say(
            refunded ? 'payment refunded (the job did not complete)' : `payment failed: ${report.detail}`,
          );
        },
      ),
    );
    return undefined;
  }

  /** Waits a little for payments to settle (escrow settles right after the result), then reports. */
  async settle(waitMs: number): Promise<PaymentReport[]> {
    if (this.pending.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(this.pending),
        new Promise<void>((r) => {
          timer = setTimeout(r, waitMs);
        }),
      ]);
      clearTimeout(timer);
    }
    return this.payments;
  }

  /** The most a job may ask: --max-pay, else the bid, else a default. */
  static limit(maxPay: string | undefined, bidMsats: number | undefined, fallback: number): number {
    if (maxPay !== undefined) return Number(maxPay);
    return bidMsats ?? fallback;
  }
}
