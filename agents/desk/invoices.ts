import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import type { JobView } from '../../dvm/job-state.ts';
import type { Escrow, Treasury } from '../../payments/treasury.ts';
import { supportsHoldInvoices, type Wallet } from '../../payments/wallet.ts';
import type { InvoicePool } from './invoice-pool.ts';

/** An escrow as made, before the treasury records it. */
export type NewEscrow = Omit<Escrow, 'state' | 'createdAt' | 'updatedAt' | 'reason'>;

export interface InvoicesOptions {
  wallet: Wallet;
  /** Where the wallet's `get_info` is kept for `timmy wallet balance` while the instance is down. */
  treasury: Treasury;
  payments: Config['payments'];
  clock: Clock;
  /** Hold invoices made ahead of time (`payments.invoicePool`); without it every job makes its own. */
  pool?: InvoicePool;
}

const sha256 = (hex: string): string => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

/**
 * Makes a job's invoice at the wallet: a hold invoice when the wallet has them and the customer pays before
 * the work (escrow: the preimage is the desk's, drawn here and revealed only on delivery), a plain one
 * otherwise. Nothing is written: Billing records what it returns, with the job's state, in one transaction.
 * A pay-first hold invoice comes from the pool when one is ready (invoice-pool.ts): the job then does not
 * wait for the wallet. Its escrow's deadline is the configured time to pay from now (or the invoice's own
 * expiry, if sooner); the watch cancels it at the wallet then.
 */
export class Invoices {
  private holdInvoices: boolean | undefined;

  constructor(private readonly options: InvoicesOptions) {}

  /** Whether the wallet has hold invoices (asked once; its `get_info` is kept in the treasury's meta). */
  private async hold(): Promise<boolean> {
    if (this.holdInvoices === undefined) {
      const info = await this.options.wallet.getInfo();
      this.holdInvoices = supportsHoldInvoices(info);
      this.options.treasury.setMeta('wallet', {
        ...info,
        seenAt: Math.floor(this.options.clock.now() / 1000),
      });
    }
    return this.holdInvoices;
  }

  async make(
    view: JobView,
    agent: string,
    priceMsats: number,
    amountMsats: number,
    mode: 'before' | 'after',
  ): Promise<NewEscrow> {
    const { wallet, payments } = this.options;
    const description = `Timmy Time job ${view.id.slice(0, 12)} (kind ${view.kind})`;
    const hold = mode === 'before' && (await this.hold());
    const expirySeconds = payments.invoiceExpirySeconds;
    const pooled = hold && mode === 'before' ? this.options.pool?.take(amountMsats) : undefined;
    if (pooled) {
      const deadline = Math.floor(this.options.clock.now() / 1000) + expirySeconds;
      return {
        jobId: view.id,
        customer: view.customer,
        mode,
        hold,
        invoice: pooled.invoice,
        paymentHash: pooled.paymentHash,
        preimage: pooled.preimage,
        amountMsats,
        priceMsats,
        agent,
        expiresAt: Math.min(pooled.expiresAt, deadline),
      };
    }
    let invoice: string;
    let paymentHash: string;
    let expiresAt: number;
    let preimage = '';
    if (hold) {
      preimage = randomBytes(32).toString('hex');
      paymentHash = sha256(preimage);
      ({ invoice, expiresAt } = await wallet.makeHoldInvoice({
        amountMsats,
        description,
        expirySeconds,
        paymentHash,
      }));
    } else {
      ({ invoice, paymentHash, expiresAt } = await wallet.makeInvoice({
        amountMsats,
        description,
        expirySeconds,
      }));
    }
    // The wallet's expiry counts (NIP-47's `expiry` is only a wish); ours when it says none.
    if (!(expiresAt > 0)) expiresAt = Math.floor(this.options.clock.now() / 1000) + expirySeconds;
    return {
      jobId: view.id,
      customer: view.customer,
      mode,
      hold,
      invoice,
      paymentHash,
      preimage,
      amountMsats,
      priceMsats,
      agent,
      expiresAt,
    };
  }
}
