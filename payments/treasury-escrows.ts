import {
  agentAccount,
  type Books,
  customerAccount,
  ESCROW,
  INSTANCE,
  TreasuryError,
  WORLD,
} from './treasury-books.ts';

export type EscrowState = 'invoiced' | 'held' | 'settled' | 'refunded' | 'expired';
/** `before`: paid before the work (escrow); `after`: a trusted customer pays once the result is out. */
export type EscrowMode = 'before' | 'after';

export interface Escrow {
  jobId: string;
  customer: string;
  mode: EscrowMode;
  /** A hold invoice (settled on delivery, cancelled on failure) or a plain one. */
  hold: boolean;
  invoice: string;
  paymentHash: string;
  /** The hold invoice's preimage, kept here until settlement ('' for a plain invoice: the wallet has it). */
  preimage: string;
  amountMsats: number;
  /** What the agent that delivers is paid (the auction price); the rest is the instance's fee. */
  priceMsats: number;
  agent: string;
  state: EscrowState;
  createdAt: number;
  expiresAt: number;
  updatedAt: number;
  reason: string;
}

interface EscrowRow {
  job_id: string;
  customer: string;
  mode: EscrowMode;
  hold: number;
  invoice: string;
  payment_hash: string;
  preimage: string;
  amount_msats: number;
  price_msats: number;
  agent: string;
  state: EscrowState;
  created_at: number;
  expires_at: number;
  updated_at: number;
  reason: string;
}

/**
 * Job escrows: what each paid job's customer was invoiced, whether it was paid, and how it ended (settled:
 * the agent and the instance are paid; refunded: the customer gets the sats back). Every change that moves
 * money is a booking made once (Books.book).
 */
export class Escrows {
  constructor(private readonly books: Books) {}

  get(jobId: string): Escrow | undefined {
    const row = this.books.db.prepare('SELECT * FROM escrows WHERE job_id = ?').get(jobId) as
      | EscrowRow
      | undefined;
    return row ? toEscrow(row) : undefined;
  }

  byHash(paymentHash: string): Escrow | undefined {
    const row = this.books.db.prepare('SELECT * FROM escrows WHERE payment_hash = ?').get(paymentHash) as
      | EscrowRow
      | undefined;
    return row ? toEscrow(row) : undefined;
  }

  /** Escrows still waiting for a payment or for their job to end. */
  pending(): Escrow[] {
    const rows = this.books.db
      .prepare("SELECT * FROM escrows WHERE state IN ('invoiced', 'held') ORDER BY created_at")
      .all() as EscrowRow[];
    return rows.map(toEscrow);
  }

  /** Invoices sent before the work and not paid (nor expired) yet: all of them, or one customer's. */
  unpaid(customer?: string): number {
    const sql =
      "SELECT COUNT(*) AS n FROM escrows WHERE state = 'invoiced' AND mode = 'before'" +
      (customer === undefined ? '' : ' AND customer = ?');
    const row = this.books.db.prepare(sql).get(...(customer === undefined ? [] : [customer])) as {
      n: number;
    };
    return row.n;
  }

  /** Whether `customer` has ever paid for a job here (a payment held, settled, or refunded after it came). */
  hasPaid(customer: string): boolean {
    return (
      this.books.db
        .prepare(
          "SELECT 1 FROM escrows WHERE customer = ? AND state IN ('held', 'settled', 'refunded') LIMIT 1",
        )
        .get(customer) !== undefined
    );
  }

  /** Records the invoice sent to the customer (before it is sent). Idempotent per job. */
  record(e: Omit<Escrow, 'state' | 'createdAt' | 'updatedAt' | 'reason'>): Escrow {
    const now = this.books.now();
    this.books.db
      .prepare(
        `INSERT OR IGNORE INTO escrows (job_id, customer, mode, hold, invoice, payment_hash, preimage,
          amount_msats, price_msats, agent, state, created_at, expires_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'invoiced', ?, ?, ?)`,
      )
      .run(
        e.jobId,
        e.customer,
        e.mode,
        e.hold ? 1 : 0,
        e.invoice,
        e.paymentHash,
        e.preimage,
        e.amountMsats,
        e.priceMsats,
        e.agent,
        now,
        e.expiresAt,
        now,
      );
    return this.get(e.jobId) as Escrow;
  }

  private setState(jobId: string, state: EscrowState, reason = ''): void {
    this.books.db
      .prepare('UPDATE escrows SET state = ?, reason = ?, updated_at = ? WHERE job_id = ?')
      .run(state, reason, this.books.now(), jobId);
  }

  /** The agent that will be paid, and its price (a reassignment after an agent was lost changes them). */
  setAgent(jobId: string, agent: string, priceMsats: number): void {
    this.books.db
      .prepare('UPDATE escrows SET agent = ?, price_msats = ?, updated_at = ? WHERE job_id = ?')
      .run(agent, priceMsats, this.books.now(), jobId);
  }

  /**
   * The customer's payment arrived. A held hold-invoice payment is not the instance's yet (nothing is
   * booked); a plain invoice's payment is, so it is booked into `escrow` until the job ends.
   */
  markPaid(jobId: string): Escrow {
    const e = this.require(jobId);
    if (e.state !== 'invoiced') return e;
    this.books.book(`paid:${jobId}`, () => {
      if (!e.hold && e.mode === 'before')
        this.books.ledger.transfer({
          from: WORLD,
          to: ESCROW,
          amountMsats: e.amountMsats,
          ref: jobId,
          memo: 'job paid',
        });
      this.setState(jobId, 'held');
    });
    return this.require(jobId);
  }

  /**
   * The job was delivered and the payment is the instance's (the hold invoice was settled, or a plain one
   * was paid): the agent gets its price, the instance keeps the rest. Idempotent.
   */
  markSettled(jobId: string): Escrow {
    const e = this.require(jobId);
    if (e.state === 'settled') return e;
    if (e.state !== 'held' && !(e.mode === 'after' && e.state === 'invoiced'))
      throw new TreasuryError('invalid-state', `escrow of job ${jobId} is ${e.state}`);
    const payout = Math.min(e.priceMsats, e.amountMsats);
    this.books.book(`settled:${jobId}`, () => {
      const from = !e.hold && e.mode === 'before' ? ESCROW : WORLD;
      this.books.ledger.transfer({
        from,
        to: INSTANCE,
        amountMsats: e.amountMsats,
        ref: jobId,
        memo: 'job delivered',
      });
      if (payout > 0 && e.agent) {
        this.books.ensure(agentAccount(e.agent));
        this.books.ledger.transfer({
          from: INSTANCE,
          to: agentAccount(e.agent),
          amountMsats: payout,
          ref: jobId,
          memo: 'earned: job delivered',
        });
      }
      this.setState(jobId, 'settled');
    });
    this.books.log.info(
      { job: jobId, amountMsats: e.amountMsats, payoutMsats: payout, agent: e.agent },
      'job paid out',
    );
    return this.require(jobId);
  }

  /**
   * The job failed after payment: a hold invoice was cancelled (the customer has the sats back, nothing was
   * booked); a plain invoice's payment is owed back to the customer (`customer:<pubkey>`). Idempotent.
   */
  markRefunded(jobId: string, reason: string): Escrow {
    const e = this.require(jobId);
    if (e.state === 'refunded' || e.state === 'settled' || e.state === 'expired') return e;
    this.books.book(`refunded:${jobId}`, () => {
      if (e.state === 'held' && !e.hold && e.mode === 'before') {
        this.books.ensure(customerAccount(e.customer));
        this.books.ledger.transfer({
          from: ESCROW,
          to: customerAccount(e.customer),
          amountMsats: e.amountMsats,
          ref: jobId,
          memo: `refund owed: ${reason}`,
        });
      }
      this.setState(jobId, e.state === 'held' ? 'refunded' : 'expired', reason);
    });
    return this.require(jobId);
  }

  /** A plain invoice paid after its escrow expired: the sats came in and are owed back to the customer. */
  markLatePayment(jobId: string): void {
    const e = this.require(jobId);
    if (e.state !== 'expired' || e.hold) return;
    this.books.book(`late:${jobId}`, () => {
      this.books.ensure(customerAccount(e.customer));
      this.books.ledger.transfer({
        from: WORLD,
        to: customerAccount(e.customer),
        amountMsats: e.amountMsats,
        ref: jobId,
        memo: 'paid after the invoice expired: refund owed',
      });
    });
  }

  private require(jobId: string): Escrow {
    const e = this.get(jobId);
    if (!e) throw new TreasuryError('not-found', `no escrow for job ${jobId}`);
    return e;
  }
}

function toEscrow(r: EscrowRow): Escrow {
  return {
    jobId: r.job_id,
    customer: r.customer,
    mode: r.mode,
    hold: r.hold === 1,
    invoice: r.invoice,
    paymentHash: r.payment_hash,
    preimage: r.preimage,
    amountMsats: r.amount_msats,
    priceMsats: r.price_msats,
    agent: r.agent,
    state: r.state,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    updatedAt: r.updated_at,
    reason: r.reason,
  };
}
