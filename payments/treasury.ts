import Database from 'better-sqlite3';
import {
  agentAccount,
  customerAccount,
  ESCROW,
  INSTANCE,
  TreasuryError,
  type TreasuryOptions,
  WORLD,
} from './treasury-books.ts';
import { IncomeBooks } from './treasury-income.ts';

export * from './treasury-books.ts';
export * from './treasury-income.ts';
export * from './treasury-withdrawals.ts';

/**
 * The instance's treasury: who owns which part of the instance's wallet, as a double-entry ledger in its
 * own SQLite file (`<dataDir>/treasury.sqlite`), plus the job escrows and the withdrawal queue.
 *
 * Accounts: `lightning` (the outside world: it goes negative by what came in), `instance` (fees kept),
 * `agent:<name>` (earnings per agent), `escrow` (customer payments received on a wallet without hold
 * invoices, until the job ends), `customer:<pubkey>` (refunds owed, same case), `withdrawing` (amounts
 * reserved by withdrawals waiting for approval or payment). The sum of all balances is always 0, and the
 * sum of all but `lightning` is what the wallet should hold for this instance. Besides the job escrows and
 * the withdrawal queue it records the instance's other income invoices (L402 tokens), paid into `instance`.
 *
 * Every booking has a unique key, checked and written in the same transaction as its transfers, so a
 * booking repeated after a crash (or by a second caller) changes nothing: an agent is never paid twice.
 *
 * One class in four files, one concept each: treasury-books.ts (the ledger, the accounts, booking once),
 * treasury-withdrawals.ts (the withdrawal queue), treasury-income.ts (other income), and this file (job
 * escrows). Import it all from here.
 */

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

export class Treasury extends IncomeBooks {
  private constructor(db: Database.Database, options: TreasuryOptions) {
    super(db, options);
    db.exec(`
      CREATE TABLE IF NOT EXISTS escrows (
        job_id TEXT PRIMARY KEY, customer TEXT NOT NULL, mode TEXT NOT NULL, hold INTEGER NOT NULL,
        invoice TEXT NOT NULL, payment_hash TEXT NOT NULL UNIQUE, preimage TEXT NOT NULL,
        amount_msats INTEGER NOT NULL, price_msats INTEGER NOT NULL, agent TEXT NOT NULL,
        state TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '');
      CREATE INDEX IF NOT EXISTS escrows_open ON escrows(state) WHERE state IN ('invoiced', 'held');
    `);
  }

  static open(options: TreasuryOptions): Treasury {
    const db = new Database(options.path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    return new Treasury(db, options);
  }

  escrow(jobId: string): Escrow | undefined {
    const row = this.db.prepare('SELECT * FROM escrows WHERE job_id = ?').get(jobId) as EscrowRow | undefined;
    return row ? toEscrow(row) : undefined;
  }

  escrowByHash(paymentHash: string): Escrow | undefined {
    const row = this.db.prepare('SELECT * FROM escrows WHERE payment_hash = ?').get(paymentHash) as
      | EscrowRow
      | undefined;
    return row ? toEscrow(row) : undefined;
  }

  /** Escrows still waiting for a payment or for their job to end. */
  openEscrows(): Escrow[] {
    const rows = this.db
      .prepare("SELECT * FROM escrows WHERE state IN ('invoiced', 'held') ORDER BY created_at")
      .all() as EscrowRow[];
    return rows.map(toEscrow);
  }

  /** Records the invoice sent to the customer (before it is sent). Idempotent per job. */
  openEscrow(e: Omit<Escrow, 'state' | 'createdAt' | 'updatedAt' | 'reason'>): Escrow {
    const now = this.now();
    this.db
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
    return this.escrow(e.jobId) as Escrow;
  }

  private setState(jobId: string, state: EscrowState, reason = ''): void {
    this.db
      .prepare('UPDATE escrows SET state = ?, reason = ?, updated_at = ? WHERE job_id = ?')
      .run(state, reason, this.now(), jobId);
  }

  /** The agent that will be paid, and its price (a reassignment after an agent was lost changes them). */
  setAgent(jobId: string, agent: string, priceMsats: number): void {
    this.db
      .prepare('UPDATE escrows SET agent = ?, price_msats = ?, updated_at = ? WHERE job_id = ?')
      .run(agent, priceMsats, this.now(), jobId);
  }

  /**
   * The customer's payment arrived. A held hold-invoice payment is not the instance's yet (nothing is
   * booked); a plain invoice's payment is, so it is booked into `escrow` until the job ends.
   */
  markPaid(jobId: string): Escrow {
    const e = this.require(jobId);
    if (e.state !== 'invoiced') return e;
    this.book(`paid:${jobId}`, () => {
      if (!e.hold && e.mode === 'before')
        this.ledger.transfer({
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
    this.book(`settled:${jobId}`, () => {
      const from = !e.hold && e.mode === 'before' ? ESCROW : WORLD;
      this.ledger.transfer({
        from,
        to: INSTANCE,
        amountMsats: e.amountMsats,
        ref: jobId,
        memo: 'job delivered',
      });
      if (payout > 0 && e.agent) {
        this.ensure(agentAccount(e.agent));
        this.ledger.transfer({
          from: INSTANCE,
          to: agentAccount(e.agent),
          amountMsats: payout,
          ref: jobId,
          memo: 'earned: job delivered',
        });
      }
      this.setState(jobId, 'settled');
    });
    this.log.info(
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
    this.book(`refunded:${jobId}`, () => {
      if (e.state === 'held' && !e.hold && e.mode === 'before') {
        this.ensure(customerAccount(e.customer));
        this.ledger.transfer({
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
    this.book(`late:${jobId}`, () => {
      this.ensure(customerAccount(e.customer));
      this.ledger.transfer({
        from: WORLD,
        to: customerAccount(e.customer),
        amountMsats: e.amountMsats,
        ref: jobId,
        memo: 'paid after the invoice expired: refund owed',
      });
    });
  }

  private require(jobId: string): Escrow {
    const e = this.escrow(jobId);
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
