import { type Books, INSTANCE, WORLD } from './treasury-books.ts';

/**
 * The treasury's other income: invoices the instance makes for itself outside any job (L402 tokens),
 * recorded before the payer sees them and booked into `instance` once paid (payments/income.ts watches
 * them).
 */

export type IncomeState = 'invoiced' | 'paid' | 'expired';

/** An invoice for the instance itself, outside any job (an L402 token): paid → the instance's account. */
export interface Income {
  paymentHash: string;
  invoice: string;
  amountMsats: number;
  /** What it was for ("L402 /api/status"). */
  memo: string;
  state: IncomeState;
  createdAt: number;
  expiresAt: number;
}

interface IncomeRow {
  payment_hash: string;
  invoice: string;
  amount_msats: number;
  memo: string;
  state: IncomeState;
  created_at: number;
  expires_at: number;
}

export class Incomes {
  constructor(private readonly books: Books) {}

  /** Records an invoice the instance made for itself (before it is shown to the payer). Idempotent. */
  record(i: Omit<Income, 'state' | 'createdAt'>): Income {
    this.books.db
      .prepare(
        `INSERT OR IGNORE INTO incomes (payment_hash, invoice, amount_msats, memo, state, created_at, expires_at)
         VALUES (?, ?, ?, ?, 'invoiced', ?, ?)`,
      )
      .run(i.paymentHash, i.invoice, i.amountMsats, i.memo, this.books.now(), i.expiresAt);
    return this.get(i.paymentHash) as Income;
  }

  get(paymentHash: string): Income | undefined {
    const row = this.books.db.prepare('SELECT * FROM incomes WHERE payment_hash = ?').get(paymentHash) as
      | IncomeRow
      | undefined;
    return row ? toIncome(row) : undefined;
  }

  /** Income invoices not yet paid nor expired. */
  pending(): Income[] {
    const rows = this.books.db
      .prepare("SELECT * FROM incomes WHERE state = 'invoiced' ORDER BY created_at")
      .all() as IncomeRow[];
    return rows.map(toIncome);
  }

  /** The payment arrived (an expired record too: sats that came in are booked): the instance's. Once. */
  markPaid(paymentHash: string): Income | undefined {
    const i = this.get(paymentHash);
    if (!i) return undefined;
    this.books.book(`income:${paymentHash}`, () => {
      this.books.ledger.transfer({
        from: WORLD,
        to: INSTANCE,
        amountMsats: i.amountMsats,
        ref: `income:${paymentHash}`,
        memo: i.memo,
      });
      this.books.db.prepare("UPDATE incomes SET state = 'paid' WHERE payment_hash = ?").run(paymentHash);
    });
    return this.get(paymentHash);
  }

  markExpired(paymentHash: string): void {
    this.books.db
      .prepare("UPDATE incomes SET state = 'expired' WHERE payment_hash = ? AND state = 'invoiced'")
      .run(paymentHash);
  }
}

function toIncome(r: IncomeRow): Income {
  return {
    paymentHash: r.payment_hash,
    invoice: r.invoice,
    amountMsats: r.amount_msats,
    memo: r.memo,
    state: r.state,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}
