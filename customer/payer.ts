import { errorMessage } from '../core/errors.ts';
import type { JobFeedback } from '../dvm/feedback.ts';
import { decodeInvoice, InvoiceError } from '../payments/bolt11.ts';
import { formatMsats, type PayResult, type Wallet, WalletError } from '../payments/wallet.ts';

/**
 * The customer's side of a paid job: pays a `payment-required` feedback's BOLT11 invoice once, through any
 * `Wallet`, when the customer owes it. Paying a hold invoice (escrow) only resolves when the job ends, so
 * the payment runs in the background while the customer follows the job.
 *
 * Anyone can publish a feedback event for a request seen on a relay, so an invoice is paid only when it
 * comes from an expected payee (the desk the request went to, or the addressed agent, when known), when the
 * invoice itself (decoded, not only the feedback's `amount` tag) asks exactly the stated amount and has not
 * expired, and when everything paid for this job stays within the budget.
 */
export interface PaymentReport {
  amountMsats: number;
  bolt11: string;
  /** 'paid' (settled), 'in-flight' (held in escrow until the job ends), 'refunded', 'failed', 'refused'. */
  state: 'paid' | 'in-flight' | 'refunded' | 'failed' | 'refused';
  detail: string;
  /** The wallet's answer (rejects with the wallet's error); undefined for a refused request. */
  outcome?: Promise<PayResult>;
}

export interface JobPayerOptions {
  /** What pays; undefined: every payment request ends the job with `noWallet` as the reason. */
  wallet: Wallet | undefined;
  /** The most this job may cost in all (msats). */
  budgetMsats: number;
  /** How the budget is named in refusals (the CLI says "--max-pay"). */
  budgetName?: string;
  /** Progress lines for a person ("paying 2 sats…"). */
  say?: (line: string) => void;
  /** Why there is no wallet, for the customer (e.g. "not paying (--no-pay)"). */
  noWallet?: string;
  /**
   * The pubkeys whose payment requests may be paid; undefined when unknown (a foreign relay and no
   * addressed agent), then any author's, still within the budget.
   */
  payees?: ReadonlySet<string>;
}

export class JobPayer {
  readonly payments: PaymentReport[] = [];
  private readonly pending: Promise<void>[] = [];
  private readonly say: (line: string) => void;

  private readonly payees: Set<string> | undefined;

  constructor(private readonly options: JobPayerOptions) {
    this.say = options.say ?? (() => {});
    this.payees = options.payees ? new Set(options.payees) : undefined;
  }

  /**
   * An expected payee (`from`) handed the job to another desk (`to`, docs/federation.md): that desk's
   * payment requests may be paid too. Said by anyone else, it changes nothing.
   */
  forwarded(from: string, to: string): void {
    if (!this.payees?.has(from) || this.payees.has(to)) return;
    this.payees.add(to);
    this.say(`the job was forwarded to ${to.slice(0, 12)}…, which may ask for the payment`);
  }

  /** The most a job may cost: an explicit limit, else the bid, else a default. */
  static budget(limit: number | undefined, bidMsats: number | undefined, fallback: number): number {
    return limit ?? bidMsats ?? fallback;
  }

  /**
   * `from`: the feedback's author. Returns an error message when the job cannot go on (no wallet, too
   * expensive, a bad invoice from the payee), else undefined; a payment request from someone who is not an
   * expected payee is ignored (said, not paid).
   */
  onFeedback(f: Pick<JobFeedback, 'status' | 'amountMsats' | 'bolt11'>, from: string): string | undefined {
    if (f.status !== 'payment-required' || !f.bolt11 || f.amountMsats === undefined) return undefined;
    if (this.payments.some((p) => p.bolt11 === f.bolt11)) return undefined; // asked again: already paying
    const { wallet } = this.options;
    const payees = this.payees;
    if (payees && !payees.has(from)) {
      this.say(`ignoring a payment request from ${from.slice(0, 12)}…: not the desk or the addressed agent`);
      return undefined;
    }
    const report: PaymentReport = {
      amountMsats: f.amountMsats,
      bolt11: f.bolt11,
      state: 'refused',
      detail: '',
    };
    this.payments.push(report);
    if (!wallet) {
      report.detail =
        this.options.noWallet ??
        'no wallet to pay with (pass --nwc, or start the instance with the embedded wallet)';
      return `the job asks for ${formatMsats(f.amountMsats)}; ${report.detail}`;
    }
    const invalid = checkInvoice(f.bolt11, f.amountMsats);
    if (invalid) {
      report.detail = invalid;
      return `the job's invoice is not paid: ${invalid}`;
    }
    const committed = this.committedMsats(report);
    const budget = this.options.budgetMsats;
    if (committed + f.amountMsats > budget) {
      const name = this.options.budgetName ?? 'the budget of';
      report.detail =
        committed > 0
          ? `with ${formatMsats(committed)} already paid for this job, above ${name} ${budget} msats`
          : `above ${name} ${budget} msats`;
      return `the job asks for ${formatMsats(f.amountMsats)}, ${report.detail}`;
    }
    report.state = 'in-flight';
    this.say(`paying ${formatMsats(f.amountMsats)}…`);
    const outcome = wallet.payInvoice({ invoice: f.bolt11 });
    report.outcome = outcome;
    this.pending.push(
      outcome.then(
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
          report.detail = errorMessage(err);
          this.say(
            refunded ? 'payment refunded (the job did not complete)' : `payment failed: ${report.detail}`,
          );
        },
      ),
    );
    return undefined;
  }

  /** Waits up to `waitMs` for payments to settle (escrow settles right after the result), then reports. */
  async settle(waitMs: number): Promise<PaymentReport[]> {
    if (this.pending.length > 0 && waitMs > 0) {
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

  /** What was paid or is being paid for this job, but `except`. */
  private committedMsats(except: PaymentReport): number {
    return this.payments
      .filter((p) => p !== except && (p.state === 'paid' || p.state === 'in-flight'))
      .reduce((sum, p) => sum + p.amountMsats, 0);
  }
}

/** Why `bolt11` must not be paid for a stated `amountMsats`, or undefined when it may. */
function checkInvoice(bolt11: string, amountMsats: number): string | undefined {
  let decoded: ReturnType<typeof decodeInvoice>;
  try {
    decoded = decodeInvoice(bolt11);
  } catch (err) {
    return err instanceof InvoiceError ? `not a valid BOLT11 invoice (${err.message})` : String(err);
  }
  if (decoded.amountMsats === undefined) return 'the invoice has no amount';
  if (decoded.amountMsats !== amountMsats)
    return `the invoice asks ${decoded.amountMsats} msats, not the ${amountMsats} msats the feedback states`;
  if (decoded.expired) return `the invoice expired at ${new Date(decoded.expiresAt * 1000).toISOString()}`;
  return undefined;
}
