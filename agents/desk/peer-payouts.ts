import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { JobLog } from '../../dvm/job-log.ts';
import type { JobView } from '../../dvm/job-state.ts';
import { decodeInvoice, InvoiceError } from '../../payments/bolt11.ts';
import { agentAccount, type Escrow, type Treasury, TreasuryError } from '../../payments/treasury.ts';

/**
 * Paying a peer instance's agent (docs/federation.md, "Payment across instances"). A peer's agent earns in
 * the treasury like a local one (`agent:<pubkey>`), and is paid out at once over Lightning: its result
 * carries NIP-90's `["amount", msats, bolt11]`, an invoice of its own instance's wallet for the price it
 * was assigned. The invoice must ask exactly what the agent earned and not have expired; it is then queued
 * as an approved withdrawal from the agent's account, which the payouts pay (payments/payouts.ts). A result
 * without a good invoice still serves the customer; the agent's earnings stay in its account and the job
 * log says why it was not paid. Queued once per job (the `peer-payout` record).
 */
export class PeerPayouts {
  constructor(
    private readonly options: {
      treasury: Treasury;
      log: JobLog;
      logger: Logger;
      /** Whether `pubkey` is a peer's agent (not one of this instance's). */
      isPeer(pubkey: string): boolean;
      clock: { now(): number };
    },
  ) {}

  /** After the escrow of a job done by a peer's agent settled: queue the agent's invoice for payment. */
  queue(escrow: Escrow, view: JobView | undefined): void {
    const { log, treasury, logger } = this.options;
    if (!view?.agent || !view.result || !this.options.isPeer(view.agent)) return;
    if ('peer-payout' in view.effects) return;
    const earned = Math.min(escrow.priceMsats, escrow.amountMsats);
    if (earned <= 0) return;
    const outcome = this.check(view.result.tags, earned);
    if ('reason' in outcome) {
      log.append(view.id, {
        type: 'effect',
        key: 'peer-payout',
        value: { paid: false, reason: outcome.reason },
      });
      logger.warn({ job: view.id, agent: view.agent, reason: outcome.reason }, 'peer agent not paid');
      return;
    }
    try {
      const w = treasury.withdrawals.request({
        ...outcome.invoice,
        account: agentAccount(escrow.agent),
        requestedBy: 'federation',
        autoApproveMsats: earned,
      });
      log.append(view.id, { type: 'effect', key: 'peer-payout', value: { paid: true, withdrawal: w.id } });
      logger.info(
        { job: view.id, agent: view.agent, amountMsats: earned, withdrawal: w.id },
        'peer agent payout queued',
      );
    } catch (err) {
      if (!(err instanceof TreasuryError)) throw err;
      log.append(view.id, {
        type: 'effect',
        key: 'peer-payout',
        value: { paid: false, reason: errorMessage(err) },
      });
      logger.warn({ job: view.id, agent: view.agent, err: err.message }, 'peer agent not paid');
    }
  }

  /** The result's invoice, decoded once (what the withdrawal records), or why it cannot be paid. */
  private check(
    tags: readonly string[][],
    earned: number,
  ): { invoice: { invoice: string; paymentHash: string; amountMsats: number } } | { reason: string } {
    const amount = tags.find((t) => t[0] === 'amount');
    const bolt11 = amount?.[2];
    if (!bolt11) return { reason: 'the result carries no invoice' };
    let decoded: ReturnType<typeof decodeInvoice>;
    try {
      decoded = decodeInvoice(bolt11, Math.floor(this.options.clock.now() / 1000));
    } catch (err) {
      if (err instanceof InvoiceError) return { reason: `the result's invoice is not valid: ${err.message}` };
      throw err;
    }
    if (decoded.expired) return { reason: "the result's invoice has expired" };
    if (decoded.amountMsats !== earned)
      return {
        reason: `the result's invoice asks ${decoded.amountMsats ?? 'no amount'} msats; the agent earned ${earned}`,
      };
    return { invoice: { invoice: decoded.invoice, paymentHash: decoded.paymentHash, amountMsats: earned } };
  }
}
