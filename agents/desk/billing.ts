import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Signer } from '../../core/signer.ts';
import { buildFeedback } from '../../dvm/feedback.ts';
import type { JobLog } from '../../dvm/job-log.ts';
import { isTerminal, type JobView } from '../../dvm/job-state.ts';
import type { Escrow, Treasury } from '../../payments/treasury.ts';
import { type Wallet, WalletError } from '../../payments/wallet.ts';
import type { Outbox } from '../outbox.ts';
import { InvoicePool } from './invoice-pool.ts';
import { Invoices, type NewEscrow } from './invoices.ts';
import type { PeerPayouts } from './peer-payouts.ts';
import { bidTooLow, feeFor, type Quote, quote, reserveFor } from './pricing.ts';
import { UnpaidLimits } from './unpaid-limits.ts';
import { WalletWatch } from './wallet-watch.ts';

/**
 * Timmy's till: the one owner of a job's money, from the quote to the settlement or the refund.
 *
 * Once the price is known (the auction's, or the agent's listed price without an auction) the customer gets
 * a kind 7000 `payment-required` with the amount (price + the instance's fee) and a BOLT11 invoice. With a
 * wallet that has hold invoices the payment is escrow: held while the job runs, settled when the result is
 * delivered, cancelled (the customer is refunded) when the job fails. Without them, a plain invoice is paid
 * up front and a failure books a refund owed to the customer. Trusted customers (`payments.trustedCustomers`)
 * get the result first and a plain invoice after it.
 *
 * The job log and the treasury share one database (agents/desk/desk-db.ts), and every step that changes
 * both is one transaction: the escrow is recorded with the job's `payment-required` entry and the signed
 * feedback that carries the invoice (published afterwards by the outbox, and again after a crash); a payment
 * is booked with the job's `paid`; a settlement or refund with its note. Only the wallet is outside that
 * transaction, so what remains to watch is the wallet (agents/desk/wallet-watch.ts: its notifications, and
 * lookups of the open invoices on a backed-off schedule). Settling, refunding and booking the agent's
 * earnings are idempotent. Unpaid work is bounded (unpaid-limits.ts).
 */

export interface BillingOptions {
  wallet: Wallet;
  treasury: Treasury;
  /** The desk's job log, on the same database as the treasury. */
  log: JobLog;
  outbox: Outbox;
  /** Timmy: the author of payment feedback. */
  signer: Signer;
  payments: Config['payments'];
  /** An agent's name by pubkey (treasury accounts are per agent name; a peer's agent's is its pubkey). */
  agentName(pubkey: string): string;
  /** Pays peers' agents their invoices once their jobs settle (docs/federation.md). */
  peerPayouts?: PeerPayouts;
  clock: Clock;
  logger: Logger;
}

export type ChargeOutcome =
  /** Paid (or nothing to pay before the work): assign the agent. */
  | { kind: 'ready' }
  /** Waiting for the customer (or for the wallet to answer): do nothing now. */
  | { kind: 'waiting' }
  /** The job cannot be charged: fail it with this reason. */
  | { kind: 'fail'; reason: string };

export interface BillingEvents {
  /** The customer paid: move the job on. */
  paid(jobId: string): void;
  /** The invoice expired unpaid: cancel the job. */
  expired(jobId: string, reason: string): void;
}

export class Billing {
  private readonly log: Logger;
  private readonly trusted: Set<string>;
  private readonly unreachableSince = new Map<string, number>();
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly watcher: WalletWatch;
  private readonly invoices: Invoices;
  /** Hold invoices made ahead of time (`payments.invoicePool`), for the jobs paid before the work. */
  readonly pool: InvoicePool;
  private readonly limits: UnpaidLimits;
  private events: BillingEvents | undefined;
  private stopped = false;

  constructor(private readonly options: BillingOptions) {
    this.log = options.logger.child({ component: 'billing' });
    this.trusted = new Set(options.payments.trustedCustomers);
    this.watcher = new WalletWatch({ ...options, billing: this, trusted: this.trusted, logger: this.log });
    this.pool = new InvoicePool({
      wallet: options.wallet,
      size: options.payments.invoicePool,
      expirySeconds: options.payments.invoiceExpirySeconds,
      clock: options.clock,
      logger: this.log,
    });
    this.invoices = new Invoices({ ...options, pool: this.pool });
    this.limits = new UnpaidLimits(options.treasury, options.payments);
  }

  get enabled(): boolean {
    return this.options.payments.enabled;
  }

  /** What the customer pays for work priced `priceMsats`: the price plus the fee, at least the minimum. */
  quote(priceMsats: number): Quote {
    return quote(this.options.payments, priceMsats);
  }

  /** The most the work may cost for a customer who bid `bidMsats` in all (the auction's reserve). */
  reserveFor(bidMsats: number): number | undefined {
    return reserveFor(this.options.payments, bidMsats);
  }

  /** Why `bidMsats` cannot pay for any work here. */
  bidTooLow(bidMsats: number): string {
    return bidTooLow(this.options.payments, bidMsats);
  }

  /** Takes the wallet's word on payments from now on (its notifications and lookups: WalletWatch). */
  start(events: BillingEvents): void {
    this.events = events;
    this.watcher.start();
    if (this.enabled) this.pool.start();
  }

  /**
   * Stops taking notifications and polling; waits for settlements and refunds in flight, then cancels the
   * pooled invoices nobody was given (a bounded wait: the wallet must still be open).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher.stop();
    await Promise.allSettled([...this.inFlight]);
    await this.pool.stop();
  }

  /** Tracks work that moves money, so `stop` can wait for it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => {});
    return p;
  }

  /**
   * Called before the job is assigned to `agent` at `priceMsats`: charges the customer once per job.
   * `bidMsats` is the customer's bid (read when the request was posted): the most it pays in all. A job
   * already paid is `ready` (a reassignment after a lost agent is not charged again; the new agent's price
   * is what it will earn).
   */
  async charge(
    view: JobView,
    agent: string,
    priceMsats: number,
    bidMsats: number | undefined,
  ): Promise<ChargeOutcome> {
    const { treasury, payments } = this.options;
    if (!payments.enabled) return { kind: 'ready' };
    const existing = treasury.escrows.get(view.id);
    if (existing) {
      if (existing.state === 'held') {
        const price = Math.min(this.quote(priceMsats).priceMsats, existing.amountMsats);
        if (existing.agent !== this.options.agentName(agent) || existing.priceMsats !== price)
          treasury.escrows.setAgent(view.id, this.options.agentName(agent), price);
        return { kind: 'ready' };
      }
      if (existing.state === 'invoiced') {
        await this.announce(view, existing);
        return { kind: 'waiting' };
      }
      return { kind: 'fail', reason: `the payment for this job is ${existing.state}` };
    }
    if (this.trusted.has(view.customer)) {
      // Billed after the result, at the price of the agent that delivers it.
      const key = `payment:price:${view.attempt + 1}`;
      if (!Object.hasOwn(view.effects, key))
        this.options.log.append(view.id, { type: 'effect', key, value: { agent, priceMsats } });
      return { kind: 'ready' };
    }
    const { priceMsats: price, amountMsats } = this.quote(priceMsats);
    if (bidMsats !== undefined && amountMsats > bidMsats)
      return {
        kind: 'fail',
        reason: `the price is ${amountMsats} msats (${price} for the work + ${feeFor(payments, price)} the instance's fee), above your bid of ${bidMsats} msats`,
      };
    const refusal = this.limits.refusal(view.customer);
    if (refusal) return { kind: 'fail', reason: refusal };
    const release = this.limits.reserve(view.customer);
    let escrow: NewEscrow;
    try {
      escrow = await this.invoices.make(view, this.options.agentName(agent), price, amountMsats, 'before');
    } catch (err) {
      release();
      return this.walletTrouble(view, err);
    }
    this.unreachableSince.delete(view.id);
    try {
      await this.announce(view, escrow);
    } finally {
      release(); // recorded now (or never): the treasury counts it from here
    }
    return { kind: 'waiting' };
  }

  /**
   * Records the escrow (the invoice and its preimage), the job's `payment-required` (pay-first jobs) and the
   * signed feedback that sends the invoice to the customer, in one transaction; then the outbox publishes
   * the feedback. Each part is recorded once: announcing an escrow again only publishes what is recorded.
   */
  private async announce(view: JobView, escrow: NewEscrow): Promise<void> {
    const { log, outbox, signer, treasury } = this.options;
    const key = `payment-required:${escrow.mode}`;
    const parts = [
      escrow.mode === 'after' ? 'the result is out; please pay' : 'pay to start the job',
      escrow.hold ? '(escrow: refunded if the job fails)' : '',
    ];
    const template = buildFeedback({
      request: view.request,
      status: 'payment-required',
      message: parts.filter(Boolean).join(' '),
      amountMsats: escrow.amountMsats,
      bolt11: escrow.invoice,
    });
    const signed = log.get(view.id)?.outbox.some((o) => o.key === key)
      ? undefined
      : await signer.signEvent(template);
    log.transaction(() => {
      treasury.escrows.record(escrow);
      const now = log.get(view.id);
      if (!now) return;
      if (
        escrow.mode === 'before' &&
        !isTerminal(now.state) &&
        now.state !== 'awaiting-payment' &&
        !now.payment
      )
        log.append(view.id, {
          type: 'payment-required',
          amountMsats: escrow.amountMsats,
          bolt11: escrow.invoice,
        });
      if (signed && !now.outbox.some((o) => o.key === key))
        log.append(view.id, { type: 'outbox', key, event: signed });
    });
    await outbox.send(view.id, key, signer, template);
  }

  private walletTrouble(view: JobView, err: unknown): ChargeOutcome {
    if (err instanceof WalletError && err.transient) {
      const since = this.unreachableSince.get(view.id) ?? this.options.clock.now();
      this.unreachableSince.set(view.id, since);
      const waited = this.options.clock.now() - since;
      if (waited >= this.options.payments.unreachableGraceMs) {
        this.unreachableSince.delete(view.id);
        return {
          kind: 'fail',
          reason: `the wallet did not answer for ${Math.round(waited / 1000)} s; nothing was charged`,
        };
      }
      this.log.warn({ job: view.id, err: err.message }, 'the wallet did not answer; the job waits');
      return { kind: 'waiting' };
    }
    return { kind: 'fail', reason: `could not make an invoice: ${errorMessage(err)}` };
  }

  /** The job ended (delivered, failed or cancelled): settle or refund its payment. */
  finish(jobId: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return this.track(
      this.finishNow(jobId).catch((err: unknown) =>
        this.log.warn({ job: jobId, err: errorMessage(err) }, 'settling the payment failed; will retry'),
      ),
    );
  }

  private async finishNow(jobId: string): Promise<void> {
    if (!this.options.payments.enabled || this.busy.has(jobId)) return;
    const view = this.options.log.get(jobId);
    if (!view || !isTerminal(view.state)) return;
    this.busy.add(jobId);
    try {
      const escrow = this.options.treasury.escrows.get(jobId);
      if (view.state === 'completed') {
        if (!escrow) {
          if (this.trusted.has(view.customer)) await this.billAfter(view);
          return;
        }
        if (escrow.state === 'held') await this.settle(escrow);
      } else if (escrow && (escrow.state === 'held' || (escrow.state === 'invoiced' && escrow.hold))) {
        await this.refund(escrow, view.reason ?? view.state);
      }
      // A plain invoice cannot be cancelled: it stays open, and the watch looks it up until it expires at
      // the wallet, so a payment that still comes (or came while the wallet was unreachable) is owed back.
    } catch (err) {
      this.log.warn({ job: jobId, err: errorMessage(err) }, 'settling the payment failed; will retry');
    } finally {
      this.busy.delete(jobId);
    }
  }

  private async billAfter(view: JobView): Promise<void> {
    const agent = view.agent ?? '';
    const recorded = view.effects[`payment:price:${view.attempt}`] as { priceMsats?: number } | undefined;
    const { priceMsats, amountMsats } = this.quote(recorded?.priceMsats ?? 0);
    await this.announce(
      view,
      await this.invoices.make(view, this.options.agentName(agent), priceMsats, amountMsats, 'after'),
    );
  }

  private async settle(escrow: Escrow): Promise<void> {
    const { wallet, treasury } = this.options;
    if (escrow.hold) {
      // The job's end on the disk before the customer's money moves (docs/decisions/0014).
      await this.options.log.durable();
      try {
        await wallet.settleHoldInvoice(escrow.preimage);
      } catch (err) {
        // Settled before a crash? Then book it. Cancelled by the wallet (its hold limit passed before the
        // result)? The customer has the sats back: nothing to book. Otherwise try again later.
        const t = await wallet.lookupInvoice({ paymentHash: escrow.paymentHash });
        if (t.state === 'failed') {
          const reason = 'the wallet cancelled the held payment before the result (hold limit)';
          this.bookRefund(escrow, reason, `payment refunded: ${reason}`);
          this.log.warn({ job: escrow.jobId }, reason);
          return;
        }
        if (t.state !== 'settled') throw err;
      }
    }
    const settled = treasury.escrows.markSettled(escrow.jobId);
    this.options.peerPayouts?.queue(settled, this.options.log.get(escrow.jobId));
    this.log.info(
      { job: escrow.jobId, amountMsats: escrow.amountMsats, agent: escrow.agent },
      'payment settled',
    );
  }

  private async refund(escrow: Escrow, reason: string): Promise<void> {
    const { wallet } = this.options;
    if (escrow.hold) {
      await this.options.log.durable();
      try {
        await wallet.cancelHoldInvoice(escrow.paymentHash);
      } catch (err) {
        const t = await wallet.lookupInvoice({ paymentHash: escrow.paymentHash });
        if (t.state !== 'failed') throw err;
      }
    }
    this.bookRefund(
      escrow,
      reason,
      escrow.state === 'held'
        ? escrow.hold
          ? `payment refunded (hold invoice cancelled): ${reason}`
          : `refund of ${escrow.amountMsats} msats owed to the customer: ${reason}`
        : 'invoice cancelled before payment',
    );
  }

  /** The escrow refunded and the job's note saying so, in one transaction. */
  private bookRefund(escrow: Escrow, reason: string, note: string): void {
    const { treasury, log } = this.options;
    log.transaction(() => {
      treasury.escrows.markRefunded(escrow.jobId, reason);
      log.append(escrow.jobId, { type: 'note', text: note });
    });
  }

  /** A plain invoice paid after its escrow expired: the sats came in, and are owed back. */
  latePayment(escrow: Escrow): void {
    this.options.treasury.escrows.markLatePayment(escrow.jobId);
    this.log.warn({ job: escrow.jobId }, 'payment after the invoice expired: booked as a refund owed');
  }

  /** The customer paid: the payment and the job's `paid` are one transaction; then the job moves on. */
  async paid(escrow: Escrow): Promise<void> {
    const { treasury, log } = this.options;
    const { e, view } = log.transaction(() => {
      const e = treasury.escrows.markPaid(escrow.jobId);
      if (e.mode === 'after') return { e: treasury.escrows.markSettled(e.jobId), view: undefined };
      const view = log.get(e.jobId);
      if (view?.state === 'awaiting-payment') return { e, view: log.append(e.jobId, { type: 'paid' }).view };
      return { e, view };
    });
    if (e.mode === 'after') return;
    this.log.info({ job: e.jobId, amountMsats: e.amountMsats, hold: e.hold }, 'customer paid');
    if (view && isTerminal(view.state)) await this.finish(e.jobId);
    else this.events?.paid(e.jobId);
  }

  /**
   * Whether the customer's time to pay this escrow is over. A hold invoice paid after it is cancelled (the
   * payment goes back) rather than accepted: a pooled invoice stays open at the wallet past the escrow's
   * deadline until the watch cancels it, and a payment that slips in between is refunded.
   */
  pastDeadline(escrow: Escrow): boolean {
    return (
      escrow.hold &&
      escrow.mode === 'before' &&
      escrow.expiresAt <= Math.floor(this.options.clock.now() / 1000)
    );
  }

  /** The invoice expired (or the wallet failed it) unpaid: cancel it, close the escrow, end a waiting job. */
  async expire(escrow: Escrow, view: JobView | undefined): Promise<void> {
    const reason = 'the invoice expired before it was paid';
    if (escrow.hold)
      await this.options.wallet.cancelHoldInvoice(escrow.paymentHash).catch((err: unknown) => {
        // Unanswered: keep it open, the next round cancels it (a payment held meanwhile goes back).
        // Refused (already cancelled or expired at the wallet): nothing can be paid into it any more.
        if (err instanceof WalletError && err.transient) throw err;
      });
    this.options.treasury.escrows.markRefunded(escrow.jobId, reason);
    if (escrow.mode === 'before' && view && !isTerminal(view.state))
      this.events?.expired(escrow.jobId, reason);
  }

  /**
   * The wallet does not answer, and the invoice's time is up (plus the grace): the job fails so it does not
   * wait forever. The escrow stays open: once the wallet answers, a payment that did arrive is refunded.
   */
  expireUnanswered(escrow: Escrow): void {
    const graceS = Math.ceil(this.options.payments.unreachableGraceMs / 1000);
    const nowS = Math.floor(this.options.clock.now() / 1000);
    const view = this.options.log.get(escrow.jobId);
    if (escrow.mode !== 'before' || escrow.expiresAt + graceS > nowS || !view || isTerminal(view.state))
      return;
    this.events?.expired(
      escrow.jobId,
      'the invoice expired and the wallet does not answer; nothing was charged',
    );
  }

  /** Cancels a held payment of an ended job (the customer gets it back). */
  cancelFor(escrow: Escrow, reason: string): Promise<void> {
    return this.refund(escrow, reason);
  }
}
