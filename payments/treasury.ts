import Database from 'better-sqlite3';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { Ledger, type Posting } from './ledger.ts';

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
 */

export const WORLD = 'lightning';
export const INSTANCE = 'instance';
export const ESCROW = 'escrow';
export const WITHDRAWING = 'withdrawing';
/** Routing fees paid on withdrawals: an expense, so it goes negative (it never blocks booking a payment). */
export const FEES = 'fees';
export const agentAccount = (name: string): string => `agent:${name}`;
export const customerAccount = (pubkey: string): string => `customer:${pubkey}`;

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

export class TreasuryError extends Error {
  constructor(
    readonly code: 'insufficient-balance' | 'not-found' | 'invalid-state' | 'invalid-input',
    message: string,
  ) {
    super(message);
    this.name = 'TreasuryError';
  }
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

export interface TreasuryOptions {
  path: string;
  logger: Logger;
  clock?: Clock;
}

export class Treasury {
  readonly ledger: Ledger;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly log: Logger;

  private constructor(db: Database.Database, options: TreasuryOptions) {
    this.db = db;
    this.now = () => Math.floor((options.clock?.now() ?? Date.now()) / 1000);
    this.log = options.logger.child({ component: 'treasury' });
    this.ledger = new Ledger(db);
    db.exec(`
      CREATE TABLE IF NOT EXISTS treasury_bookings (key TEXT PRIMARY KEY, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS treasury_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS escrows (
        job_id TEXT PRIMARY KEY, customer TEXT NOT NULL, mode TEXT NOT NULL, hold INTEGER NOT NULL,
        invoice TEXT NOT NULL, payment_hash TEXT NOT NULL UNIQUE, preimage TEXT NOT NULL,
        amount_msats INTEGER NOT NULL, price_msats INTEGER NOT NULL, agent TEXT NOT NULL,
        state TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '');
      CREATE INDEX IF NOT EXISTS escrows_open ON escrows(state) WHERE state IN ('invoiced', 'held');
      CREATE TABLE IF NOT EXISTS withdrawals (
        id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, invoice TEXT NOT NULL,
        payment_hash TEXT NOT NULL UNIQUE, amount_msats INTEGER NOT NULL, state TEXT NOT NULL,
        requested_by TEXT NOT NULL, requested_at INTEGER NOT NULL, decided_by TEXT NOT NULL DEFAULT '',
        decided_at INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '',
        preimage TEXT NOT NULL DEFAULT '', fees_paid_msats INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS incomes (
        payment_hash TEXT PRIMARY KEY, invoice TEXT NOT NULL, amount_msats INTEGER NOT NULL,
        memo TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
    `);
    for (const name of [INSTANCE, ESCROW, WITHDRAWING])
      this.ledger.ensureAccount(name, { allowNegative: false });
    this.ledger.ensureAccount(WORLD, { allowNegative: true });
    this.ledger.ensureAccount(FEES, { allowNegative: true });
  }

  static open(options: TreasuryOptions): Treasury {
    const db = new Database(options.path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    return new Treasury(db, options);
  }

  close(): void {
    this.db.close();
  }

  /** Runs `fn` once per `key`, atomically with its transfers; false when it had run before. */
  private book(key: string, fn: () => void): boolean {
    return this.db
      .transaction(() => {
        const done = this.db.prepare('SELECT 1 FROM treasury_bookings WHERE key = ?').get(key);
        if (done) return false;
        fn();
        this.db.prepare('INSERT INTO treasury_bookings (key, at) VALUES (?, ?)').run(key, this.now());
        return true;
      })
      .immediate();
  }

  private ensure(account: string): void {
    this.ledger.ensureAccount(account, { allowNegative: false });
  }

  // ── escrows ──────────────────────────────────────────────────────────────────────────────────────

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

  // ── withdrawals ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Queues a payment out of `account` and reserves its amount (so it cannot be spent twice). Amounts up to
   * `autoApproveMsats` are approved at once; the others wait for `approve`.
   */
  requestWithdrawal(r: {
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
    if (!this.ledger.hasAccount(r.account)) throw new TreasuryError('not-found', `no account "${r.account}"`);
    const id = this.db
      .transaction(() => {
        const taken = this.db.prepare('SELECT id FROM withdrawals WHERE payment_hash = ?').get(r.paymentHash);
        if (taken)
          throw new TreasuryError('invalid-input', 'this invoice is already in the withdrawal queue');
        const available = this.ledger.balance(r.account);
        if (available < r.amountMsats)
          throw new TreasuryError(
            'insufficient-balance',
            `account ${r.account} holds ${available} msats; the invoice asks for ${r.amountMsats}`,
          );
        const auto = r.amountMsats <= r.autoApproveMsats;
        const now = this.now();
        const info = this.db
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
        this.ledger.transfer({
          from: r.account,
          to: WITHDRAWING,
          amountMsats: r.amountMsats,
          ref: `withdrawal:${id}`,
          memo: 'reserved for a withdrawal',
        });
        return id;
      })
      .immediate();
    return this.withdrawal(id) as Withdrawal;
  }

  withdrawal(id: number): Withdrawal | undefined {
    const row = this.db.prepare('SELECT * FROM withdrawals WHERE id = ?').get(id) as
      | WithdrawalRow
      | undefined;
    return row ? toWithdrawal(row) : undefined;
  }

  withdrawals(states?: readonly WithdrawalState[], limit = 100): Withdrawal[] {
    const rows = (
      states && states.length > 0
        ? this.db
            .prepare(
              `SELECT * FROM withdrawals WHERE state IN (${states.map(() => '?').join(',')}) ORDER BY id DESC LIMIT ?`,
            )
            .all(...states, limit)
        : this.db.prepare('SELECT * FROM withdrawals ORDER BY id DESC LIMIT ?').all(limit)
    ) as WithdrawalRow[];
    return rows.map(toWithdrawal);
  }

  /** The operator's decision on a pending withdrawal; rejecting returns the reserved amount. */
  decide(id: number, decision: 'approved' | 'rejected', by: string, reason = ''): Withdrawal {
    this.db
      .transaction(() => {
        const w = this.withdrawal(id);
        if (!w) throw new TreasuryError('not-found', `no withdrawal ${id}`);
        if (w.state !== 'pending') throw new TreasuryError('invalid-state', `withdrawal ${id} is ${w.state}`);
        this.db
          .prepare(
            'UPDATE withdrawals SET state = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ?',
          )
          .run(decision, by, this.now(), reason, id);
        if (decision === 'rejected')
          this.ledger.transfer({
            from: WITHDRAWING,
            to: w.account,
            amountMsats: w.amountMsats,
            ref: `withdrawal:${id}`,
            memo: 'withdrawal rejected',
          });
      })
      .immediate();
    return this.withdrawal(id) as Withdrawal;
  }

  /** The wallet paid it: the reserved sats leave the treasury; routing fees go to `fees` (an expense). */
  markWithdrawalPaid(id: number, preimage: string, feesPaidMsats: number): Withdrawal {
    this.book(`withdrawal-paid:${id}`, () => {
      const w = this.withdrawal(id);
      if (w?.state !== 'approved')
        throw new TreasuryError('invalid-state', `withdrawal ${id} is not approved`);
      this.ledger.transfer({
        from: WITHDRAWING,
        to: WORLD,
        amountMsats: w.amountMsats,
        ref: `withdrawal:${id}`,
        memo: 'withdrawn',
      });
      if (feesPaidMsats > 0)
        this.ledger.transfer({
          from: FEES,
          to: WORLD,
          amountMsats: feesPaidMsats,
          ref: `withdrawal:${id}`,
          memo: 'routing fee',
        });
      this.db
        .prepare("UPDATE withdrawals SET state = 'paid', preimage = ?, fees_paid_msats = ? WHERE id = ?")
        .run(preimage, feesPaidMsats, id);
    });
    return this.withdrawal(id) as Withdrawal;
  }

  /** The wallet refused it for good: the reserved sats go back to the account. */
  markWithdrawalFailed(id: number, reason: string): Withdrawal {
    this.book(`withdrawal-failed:${id}`, () => {
      const w = this.withdrawal(id);
      if (w?.state !== 'approved')
        throw new TreasuryError('invalid-state', `withdrawal ${id} is not approved`);
      this.ledger.transfer({
        from: WITHDRAWING,
        to: w.account,
        amountMsats: w.amountMsats,
        ref: `withdrawal:${id}`,
        memo: `withdrawal failed: ${reason}`,
      });
      this.db.prepare("UPDATE withdrawals SET state = 'failed', reason = ? WHERE id = ?").run(reason, id);
    });
    return this.withdrawal(id) as Withdrawal;
  }

  // ── other income (L402) ─────────────────────────────────────────────────────────────────────────

  /** Records an invoice the instance made for itself (before it is shown to the payer). Idempotent. */
  recordIncome(i: Omit<Income, 'state' | 'createdAt'>): Income {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO incomes (payment_hash, invoice, amount_msats, memo, state, created_at, expires_at)
         VALUES (?, ?, ?, ?, 'invoiced', ?, ?)`,
      )
      .run(i.paymentHash, i.invoice, i.amountMsats, i.memo, this.now(), i.expiresAt);
    return this.income(i.paymentHash) as Income;
  }

  income(paymentHash: string): Income | undefined {
    const row = this.db.prepare('SELECT * FROM incomes WHERE payment_hash = ?').get(paymentHash) as
      | IncomeRow
      | undefined;
    return row ? toIncome(row) : undefined;
  }

  /** Income invoices not yet paid nor expired. */
  openIncomes(): Income[] {
    const rows = this.db
      .prepare("SELECT * FROM incomes WHERE state = 'invoiced' ORDER BY created_at")
      .all() as IncomeRow[];
    return rows.map(toIncome);
  }

  /** The payment arrived (an expired record too: sats that came in are booked): the instance's. Once. */
  markIncomePaid(paymentHash: string): Income | undefined {
    const i = this.income(paymentHash);
    if (!i) return undefined;
    this.book(`income:${paymentHash}`, () => {
      this.ledger.transfer({
        from: WORLD,
        to: INSTANCE,
        amountMsats: i.amountMsats,
        ref: `income:${paymentHash}`,
        memo: i.memo,
      });
      this.db.prepare("UPDATE incomes SET state = 'paid' WHERE payment_hash = ?").run(paymentHash);
    });
    return this.income(paymentHash);
  }

  markIncomeExpired(paymentHash: string): void {
    this.db
      .prepare("UPDATE incomes SET state = 'expired' WHERE payment_hash = ? AND state = 'invoiced'")
      .run(paymentHash);
  }

  // ── reading ──────────────────────────────────────────────────────────────────────────────────────

  balances(): { account: string; balanceMsats: number }[] {
    return Object.entries(this.ledger.balances())
      .map(([account, balanceMsats]) => ({ account, balanceMsats }))
      .sort((a, b) => a.account.localeCompare(b.account));
  }

  balance(account: string): number {
    return this.ledger.balance(account);
  }

  /** Postings of one account, or of all accounts, newest first (`at` in milliseconds). */
  history(account: string | undefined, limit = 50, offset = 0): Posting[] {
    if (account !== undefined) {
      if (!this.ledger.hasAccount(account)) throw new TreasuryError('not-found', `no account "${account}"`);
      return this.ledger.history(account, { limit, offset });
    }
    return this.ledger.history(undefined, { limit, offset });
  }

  /** What the wallet should hold for this instance: every account but the outside world. */
  holdingsMsats(): number {
    return 0 - this.ledger.balance(WORLD) || 0;
  }

  check(): ReturnType<Ledger['check']> {
    return this.ledger.check();
  }

  /** Facts about the wallet the instance saw last (for `timmy wallet balance` while it is down). */
  setMeta(key: string, value: unknown): void {
    this.db
      .prepare(
        'INSERT INTO treasury_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, JSON.stringify(value));
  }

  meta(key: string): unknown {
    const row = this.db.prepare('SELECT value FROM treasury_meta WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row ? (JSON.parse(row.value) as unknown) : undefined;
  }
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
