import { decodeInvoice, InvoiceError } from './bolt11.ts';
import { type Books, FEES, INSTANCE, TreasuryError, WITHDRAWING, WORLD } from './treasury-books.ts';

/**
 * The treasury's withdrawal queue: a payment out of an account is requested (its amount reserved in
 * `withdrawing`), approved by a human (or automatically below a threshold) or rejected, then paid by the
 * running instance (payments/payouts.ts) or failed (the sats go back).
 */

export type WithdrawalState = 'pending' | 'approved' | 'rejected' | 'paid' | 'failed';

export interface Withdrawal {
  id: number;
  account: string;
  invoice: string;
  paymentHash: string;
  amountMsats: number;
  state: WithdrawalState;
  /** Who asked ("cli", "sweep"). */
  requestedBy: string;
  requestedAt: number;
  decidedBy: string;
  decidedAt: number;
  reason: string;
  preimage: string;
  feesPaidMsats: number;
}

interface WithdrawalRow {
  id: number;
  account: string;
  invoice: string;
  payment_hash: string;
  amount_msats: number;
  state: WithdrawalState;
  requested_by: string;
  requested_at: number;
  decided_by: string;
  decided_at: number;
  reason: string;
  preimage: string;
  fees_paid_msats: number;
}

/**
 * What a BOLT11 invoice to withdraw to says: it must decode, carry an amount and not have expired. Throws
 * TreasuryError (`invalid-input`) saying which.
 */
export function withdrawalInvoice(bolt11: string): {
  invoice: string;
  paymentHash: string;
  amountMsats: number;
} {
  let decoded: ReturnType<typeof decodeInvoice>;
  try {
    decoded = decodeInvoice(bolt11.trim());
  } catch (err) {
    if (err instanceof InvoiceError)
      throw new TreasuryError('invalid-input', `not a valid BOLT11 invoice: ${err.message}`);
    throw err;
  }
  if (decoded.expired) throw new TreasuryError('invalid-input', 'the invoice has expired');
  if (decoded.amountMsats === undefined)
    throw new TreasuryError('invalid-input', 'the invoice has no amount: ask for one with an amount');
  return { invoice: decoded.invoice, paymentHash: decoded.paymentHash, amountMsats: decoded.amountMsats };
}

export class Withdrawals {
  constructor(private readonly books: Books) {}

  /** Queues a payment of a BOLT11 invoice (checked by `withdrawalInvoice`) out of `account`. */
  requestInvoice(
    bolt11: string,
    r: { account: string; requestedBy: string; autoApproveMsats: number },
  ): Withdrawal {
    return this.request({ ...withdrawalInvoice(bolt11), ...r });
  }

  /**
   * Queues a payment out of `account` and reserves its amount (so it cannot be spent twice). Amounts up to
   * `autoApproveMsats` are approved at once; the others wait for `approve`.
   */
  request(r: {
    account: string;
    invoice: string;
    paymentHash: string;
    amountMsats: number;
    requestedBy: string;
    autoApproveMsats: number;
  }): Withdrawal {
    if (!Number.isInteger(r.amountMsats) || r.amountMsats <= 0)
      throw new TreasuryError('invalid-input', 'the invoice must carry a positive amount');
    if (r.account !== INSTANCE && !/^(agent|customer):/.test(r.account))
      throw new TreasuryError(
        'invalid-input',
        `withdrawals come from "instance", "agent:<name>" or "customer:<pubkey>", not "${r.account}"`,
      );
    if (!this.books.ledger.hasAccount(r.account))
      throw new TreasuryError('not-found', `no account "${r.account}"`);
    const id = this.books.db
      .transaction(() => {
        const taken = this.books.db
          .prepare('SELECT id FROM withdrawals WHERE payment_hash = ?')
          .get(r.paymentHash);
        if (taken)
          throw new TreasuryError('invalid-input', 'this invoice is already in the withdrawal queue');
        const available = this.books.ledger.balance(r.account);
        if (available < r.amountMsats)
          throw new TreasuryError(
            'insufficient-balance',
            `account ${r.account} holds ${available} msats; the invoice asks for ${r.amountMsats}`,
          );
        const auto = r.amountMsats <= r.autoApproveMsats;
        const now = this.books.now();
        const info = this.books.db
          .prepare(
            `INSERT INTO withdrawals (account, invoice, payment_hash, amount_msats, state, requested_by,
              requested_at, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            r.account,
            r.invoice,
            r.paymentHash,
            r.amountMsats,
            auto ? 'approved' : 'pending',
            r.requestedBy,
            now,
            auto ? 'auto' : '',
            auto ? now : 0,
          );
        const id = Number(info.lastInsertRowid);
        this.books.ledger.transfer({
          from: r.account,
          to: WITHDRAWING,
          amountMsats: r.amountMsats,
          ref: `withdrawal:${id}`,
          memo: 'reserved for a withdrawal',
        });
        return id;
      })
      .immediate();
    return this.get(id) as Withdrawal;
  }

  get(id: number): Withdrawal | undefined {
    const row = this.books.db.prepare('SELECT * FROM withdrawals WHERE id = ?').get(id) as
      | WithdrawalRow
      | undefined;
    return row ? toWithdrawal(row) : undefined;
  }

  list(states?: readonly WithdrawalState[], limit = 100): Withdrawal[] {
    const rows = (
      states && states.length > 0
        ? this.books.db
            .prepare(
              `SELECT * FROM withdrawals WHERE state IN (${states.map(() => '?').join(',')}) ORDER BY id DESC LIMIT ?`,
            )
            .all(...states, limit)
        : this.books.db.prepare('SELECT * FROM withdrawals ORDER BY id DESC LIMIT ?').all(limit)
    ) as WithdrawalRow[];
    return rows.map(toWithdrawal);
  }

  /** The operator's decision on a pending withdrawal; rejecting returns the reserved amount. */
  decide(id: number, decision: 'approved' | 'rejected', by: string, reason = ''): Withdrawal {
    this.books.db
      .transaction(() => {
        const w = this.get(id);
        if (!w) throw new TreasuryError('not-found', `no withdrawal ${id}`);
        if (w.state !== 'pending') throw new TreasuryError('invalid-state', `withdrawal ${id} is ${w.state}`);
        this.books.db
          .prepare(
            'UPDATE withdrawals SET state = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ?',
          )
          .run(decision, by, this.books.now(), reason, id);
        if (decision === 'rejected')
          this.books.ledger.transfer({
            from: WITHDRAWING,
            to: w.account,
            amountMsats: w.amountMsats,
            ref: `withdrawal:${id}`,
            memo: 'withdrawal rejected',
          });
      })
      .immediate();
    return this.get(id) as Withdrawal;
  }

  /** The wallet paid it: the reserved sats leave the treasury; routing fees go to `fees` (an expense). */
  markPaid(id: number, preimage: string, feesPaidMsats: number): Withdrawal {
    this.books.book(`withdrawal-paid:${id}`, () => {
      const w = this.get(id);
      if (w?.state !== 'approved')
        throw new TreasuryError('invalid-state', `withdrawal ${id} is not approved`);
      this.books.ledger.transfer({
        from: WITHDRAWING,
        to: WORLD,
        amountMsats: w.amountMsats,
        ref: `withdrawal:${id}`,
        memo: 'withdrawn',
      });
      if (feesPaidMsats > 0)
        this.books.ledger.transfer({
          from: FEES,
          to: WORLD,
          amountMsats: feesPaidMsats,
          ref: `withdrawal:${id}`,
          memo: 'routing fee',
        });
      this.books.db
        .prepare("UPDATE withdrawals SET state = 'paid', preimage = ?, fees_paid_msats = ? WHERE id = ?")
        .run(preimage, feesPaidMsats, id);
    });
    return this.get(id) as Withdrawal;
  }

  /** The wallet refused it for good: the reserved sats go back to the account. */
  markFailed(id: number, reason: string): Withdrawal {
    this.books.book(`withdrawal-failed:${id}`, () => {
      const w = this.get(id);
      if (w?.state !== 'approved')
        throw new TreasuryError('invalid-state', `withdrawal ${id} is not approved`);
      this.books.ledger.transfer({
        from: WITHDRAWING,
        to: w.account,
        amountMsats: w.amountMsats,
        ref: `withdrawal:${id}`,
        memo: `withdrawal failed: ${reason}`,
      });
      this.books.db
        .prepare("UPDATE withdrawals SET state = 'failed', reason = ? WHERE id = ?")
        .run(reason, id);
    });
    return this.get(id) as Withdrawal;
  }
}

function toWithdrawal(r: WithdrawalRow): Withdrawal {
  return {
    id: r.id,
    account: r.account,
    invoice: r.invoice,
    paymentHash: r.payment_hash,
    amountMsats: r.amount_msats,
    state: r.state,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    reason: r.reason,
    preimage: r.preimage,
    feesPaidMsats: r.fees_paid_msats,
  };
}
