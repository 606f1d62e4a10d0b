import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { FEES, INSTANCE, type Treasury, type Withdrawal } from './treasury.ts';
import { type Transaction, type Wallet, WalletError } from './wallet.ts';

/**
 * Pays what the treasury approved: withdrawals (approved by the operator with `timmy wallet approve`, or
 * automatically up to `payments.withdrawals.autoApproveMsats`) and sweeps of the instance's fees to cold
 * storage once they pass `payments.sweep.thresholdMsats`. Runs every `payments.walletRetryMs`.
 *
 * Never pays twice: before paying, the invoice is looked up in the wallet (a payment whose answer was lost,
 * or made just before a crash, shows as settled and is booked instead); a wallet that does not answer
 * leaves the withdrawal approved for the next round; a definitive refusal returns the reserved sats.
 */
export interface PayoutsOptions {
  treasury: Treasury;
  wallet: Wallet;
  payments: Config['payments'];
  /** Where sweeps go: a wallet that can make invoices (payments.sweep.nwcUrl). */
  coldWallet?: Wallet;
  clock: Clock;
  logger: Logger;
}

export class Payouts {
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: PayoutsOptions) {
    this.log = options.logger.child({ component: 'payouts' });
  }

  start(): void {
    this.timer = setInterval(() => void this.run(), this.options.payments.walletRetryMs);
    this.timer.unref();
    void this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One round: every approved withdrawal, then the sweep. Rounds never overlap. */
  run(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(): Promise<void> {
    try {
      for (const w of this.options.treasury.withdrawals.list(['approved'])) {
        if (this.stopped) return;
        await this.pay(w).catch((err: unknown) =>
          this.log.warn(
            { withdrawal: w.id, err: errorMessage(err) },
            'paying a withdrawal failed; will retry',
          ),
        );
      }
      await this.sweep().catch((err: unknown) =>
        this.log.warn({ err: errorMessage(err) }, 'sweep failed; will retry'),
      );
    } catch (err) {
      // The treasury file busy (the CLI holds its lock) or the like: the next round tries again.
      this.log.warn({ err: errorMessage(err) }, 'payouts round failed; will retry');
    }
  }

  private async pay(w: Withdrawal): Promise<void> {
    const { wallet, treasury } = this.options;
    let paid: { preimage: string; feesPaidMsats: number };
    try {
      const before = await this.lookup(w);
      if (typeof before !== 'string' && before.state === 'settled')
        paid = { preimage: before.preimage, feesPaidMsats: before.feesPaidMsats };
      else if (typeof before !== 'string' && (before.state === 'pending' || before.state === 'accepted'))
        return; // in flight: next round
      // Not paid yet (or the wallet cannot say: a BOLT11 invoice is paid at most once on Lightning, the
      // payee refuses a second payment, so paying is still safe). The withdrawal's record on the disk
      // first: money does not leave on the strength of a commit a power cut could undo (decision 0014).
      else {
        await treasury.durable();
        paid = await wallet.payInvoice({ invoice: w.invoice });
      }
    } catch (err) {
      if (err instanceof WalletError && err.transient) {
        this.log.warn(
          { withdrawal: w.id, err: err.message },
          'the wallet did not answer; the withdrawal waits',
        );
        return;
      }
      // Refused — but some wallets answer an error while the payment is still in flight: ask before giving
      // the sats back. A wallet that cannot look payments up is taken at its word.
      const after = await this.lookup(w).catch(() => 'unanswered' as const);
      if (after === 'unanswered') return;
      if (typeof after !== 'string' && (after.state === 'pending' || after.state === 'accepted')) return;
      if (typeof after !== 'string' && after.state === 'settled') {
        paid = { preimage: after.preimage, feesPaidMsats: after.feesPaidMsats };
      } else {
        const reason = errorMessage(err);
        treasury.withdrawals.markFailed(w.id, reason);
        this.log.warn({ withdrawal: w.id, reason }, 'withdrawal failed; the sats are back in the account');
        return;
      }
    }
    treasury.withdrawals.markPaid(w.id, paid.preimage, paid.feesPaidMsats);
    this.log.info(
      { withdrawal: w.id, account: w.account, amountMsats: w.amountMsats, feesPaidMsats: paid.feesPaidMsats },
      'withdrawal paid',
    );
  }

  /**
   * This wallet's outgoing payment of the withdrawal's invoice: the transaction, 'none' when it made none,
   * or 'cannot-tell' when the wallet refuses to look it up (a connection without `lookup_invoice`, a wallet
   * that only indexes incoming invoices). A wallet that does not answer throws.
   */
  private async lookup(w: Withdrawal): Promise<Transaction | 'none' | 'cannot-tell'> {
    try {
      const t = await this.options.wallet.lookupInvoice({ invoice: w.invoice });
      return t.type === 'outgoing' ? t : 'none';
    } catch (err) {
      if (err instanceof WalletError && err.code === 'NOT_FOUND') return 'none';
      if (err instanceof WalletError && err.transient) throw err;
      this.log.warn(
        { withdrawal: w.id, err: errorMessage(err) },
        'the wallet cannot look the payment up; relying on its answer to pay_invoice',
      );
      return 'cannot-tell';
    }
  }

  /**
   * Moves the instance's balance, less the routing fees paid so far, above the threshold (less `keepMsats`)
   * to cold storage. The sweep's own routing fee is paid from what is kept: set `keepMsats` to cover it.
   */
  private async sweep(): Promise<void> {
    const { treasury, payments, coldWallet } = this.options;
    const { thresholdMsats, keepMsats } = payments.sweep;
    if (!coldWallet || thresholdMsats <= 0) return;
    // Routing fees paid so far (the `fees` account, negative) come out of the instance's fees: without them
    // the sweep would leave the wallet holding less than the agents' balances.
    const balance = treasury.balance(INSTANCE) + Math.min(0, treasury.balance(FEES));
    if (balance <= thresholdMsats) return;
    if (treasury.withdrawals.list(['pending', 'approved']).some((w) => w.requestedBy === 'sweep')) return;
    const amountMsats = balance - Math.min(keepMsats, balance);
    if (amountMsats <= 0) return;
    const invoice = await coldWallet.makeInvoice({
      amountMsats,
      description: 'Timmy Time: sweep to cold storage',
    });
    const w = treasury.withdrawals.request({
      account: INSTANCE,
      invoice: invoice.invoice,
      paymentHash: invoice.paymentHash,
      amountMsats,
      requestedBy: 'sweep',
      autoApproveMsats: Number.MAX_SAFE_INTEGER,
    });
    this.log.info({ withdrawal: w.id, amountMsats }, 'sweeping to cold storage');
    await this.pay(w);
  }
}
