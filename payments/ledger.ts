/**
 * A double-entry ledger in SQLite, on a better-sqlite3 handle the caller opens (so other modules keep their
 * own tables in the same file and wrap several transfers, and their own rows, in one `db.transaction`).
 *
 * - `ledger_postings` is the journal and the source of truth: every transfer is one row moving a positive
 *   integer amount of msats from one account to another. Money is never created or destroyed by a
 *   transfer, so the balances always sum to zero; an account allowed to go negative (a "mint") is where
 *   money enters.
 * - `ledger_accounts.balance_msats` is a projection of the journal (updated in the same statement batch as
 *   the posting), so a balance is one indexed read; `check()` re-derives every balance from the journal and
 *   reports any drift.
 */
import type Database from 'better-sqlite3';
import { type Clock, systemClock } from '../core/clock.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { migrateSchema } from '../core/sqlite-migrate.ts';

export type LedgerErrorCode =
  | 'insufficient-balance'
  | 'unknown-account'
  | 'invalid-amount'
  | 'invalid-account'
  | 'account-conflict';

export class LedgerError extends Error {
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LedgerError';
  }
}

export interface TransferRequest {
  from: string;
  to: string;
  /** Positive integer. */
  amountMsats: number;
  /** What the transfer belongs to (an invoice's payment hash, …): indexed, not unique. */
  ref?: string;
  memo?: string;
}

export interface Posting {
  id: number;
  from: string;
  to: string;
  amountMsats: number;
  ref: string | null;
  memo: string | null;
  /** Milliseconds since the epoch. */
  at: number;
}

export interface LedgerCheck {
  ok: boolean;
  /** Sum of all balances: 0 unless the journal is corrupt. */
  totalMsats: number;
  /** Accounts below zero that may not be. */
  negative: { name: string; balanceMsats: number }[];
  /** Accounts whose stored balance differs from the one derived from the journal. */
  drift: { name: string; storedMsats: number; journalMsats: number }[];
}

/**
 * The ledger's schema, versioned as the `ledger` component of the file it lives in (core/sqlite-migrate.ts).
 * Files written before it was versioned already hold these tables, so step 1 creates them only if missing.
 */
export const LEDGER_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS ledger_accounts (
    name TEXT PRIMARY KEY,
    allow_negative INTEGER NOT NULL,
    balance_msats INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS ledger_postings (
    id INTEGER PRIMARY KEY,
    from_account TEXT NOT NULL REFERENCES ledger_accounts (name),
    to_account TEXT NOT NULL REFERENCES ledger_accounts (name),
    amount_msats INTEGER NOT NULL CHECK (amount_msats > 0),
    ref TEXT,
    memo TEXT,
    at INTEGER NOT NULL,
    CHECK (from_account <> to_account)
  ) STRICT;
  CREATE INDEX IF NOT EXISTS ledger_postings_from ON ledger_postings (from_account, id);
  CREATE INDEX IF NOT EXISTS ledger_postings_to ON ledger_postings (to_account, id);
  CREATE INDEX IF NOT EXISTS ledger_postings_ref ON ledger_postings (ref) WHERE ref IS NOT NULL;
  `,
];

interface AccountRow {
  name: string;
  allow_negative: number;
  balance_msats: number;
}

interface PostingRow {
  id: number;
  from_account: string;
  to_account: string;
  amount_msats: number;
  ref: string | null;
  memo: string | null;
  at: number;
}

const toPosting = (r: PostingRow): Posting => ({
  id: r.id,
  from: r.from_account,
  to: r.to_account,
  amountMsats: r.amount_msats,
  ref: r.ref,
  memo: r.memo,
  at: r.at,
});

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new LedgerError(
      'invalid-account',
      'an account name is a non-empty string of at most 200 characters',
    );
  }
  return name;
}

function prepare(db: Database.Database) {
  return {
    account: db.prepare<[string], AccountRow>(
      'SELECT name, allow_negative, balance_msats FROM ledger_accounts WHERE name = ?',
    ),
    insertAccount: db.prepare<[string, number, number]>(
      'INSERT INTO ledger_accounts (name, allow_negative, balance_msats, created_at) VALUES (?, ?, 0, ?)',
    ),
    addBalance: db.prepare<[number, string]>(
      'UPDATE ledger_accounts SET balance_msats = balance_msats + ? WHERE name = ?',
    ),
    insertPosting: db.prepare<[string, string, number, string | null, string | null, number]>(
      'INSERT INTO ledger_postings (from_account, to_account, amount_msats, ref, memo, at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    all: db.prepare<[], AccountRow>(
      'SELECT name, allow_negative, balance_msats FROM ledger_accounts ORDER BY name',
    ),
    // Each leg walks its index newest first and stops after limit + offset rows; the merge sorts at most
    // twice that, whatever the account's history length.
    history: db.prepare<{ name: string; limit: number; offset: number }, PostingRow>(
      `SELECT * FROM (
         SELECT * FROM (SELECT * FROM ledger_postings WHERE from_account = @name
                        ORDER BY id DESC LIMIT @limit + @offset)
         UNION ALL
         SELECT * FROM (SELECT * FROM ledger_postings WHERE to_account = @name
                        ORDER BY id DESC LIMIT @limit + @offset)
       ) ORDER BY id DESC LIMIT @limit OFFSET @offset`,
    ),
    recent: db.prepare<{ limit: number; offset: number }, PostingRow>(
      'SELECT * FROM ledger_postings ORDER BY id DESC LIMIT @limit OFFSET @offset',
    ),
    byRef: db.prepare<[string], PostingRow>('SELECT * FROM ledger_postings WHERE ref = ? ORDER BY id'),
    journal: db.prepare<[], { name: string; msats: number }>(
      `SELECT name, SUM(msats) AS msats FROM (
         SELECT to_account AS name, amount_msats AS msats FROM ledger_postings
         UNION ALL
         SELECT from_account AS name, -amount_msats AS msats FROM ledger_postings
       ) GROUP BY name`,
    ),
  };
}

export class Ledger {
  private readonly clock: Clock;
  private readonly stmt: ReturnType<typeof prepare>;
  private readonly transferTx: Database.Transaction<
    (from: string, to: string, amount: number, ref: string | null, memo: string | null) => number
  >;

  constructor(
    private readonly db: Database.Database,
    options: { clock?: Clock; logger?: Logger } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    migrateSchema(db, LEDGER_MIGRATIONS, {
      what: 'ledger',
      component: 'ledger',
      path: db.name,
      log: options.logger ?? silentLogger,
    });
    this.stmt = prepare(db);
    this.transferTx = db.transaction(
      (from: string, to: string, amount: number, ref: string | null, memo: string | null): number => {
        const src = this.stmt.account.get(from);
        if (!src) throw new LedgerError('unknown-account', `no account ${from}`);
        const dst = this.stmt.account.get(to);
        if (!dst) throw new LedgerError('unknown-account', `no account ${to}`);
        const srcAfter = src.balance_msats - amount;
        const dstAfter = dst.balance_msats + amount;
        if (src.allow_negative === 0 && srcAfter < 0) {
          throw new LedgerError(
            'insufficient-balance',
            `account ${from} has ${src.balance_msats} msats, ${amount} needed`,
          );
        }
        if (!Number.isSafeInteger(srcAfter) || !Number.isSafeInteger(dstAfter)) {
          throw new LedgerError('invalid-amount', 'the transfer would overflow a balance');
        }
        const id = this.stmt.insertPosting.run(from, to, amount, ref, memo, this.clock.now()).lastInsertRowid;
        this.stmt.addBalance.run(-amount, from);
        this.stmt.addBalance.run(amount, to);
        return Number(id);
      },
    );
  }

  /** Creates the account if it does not exist; an existing one must have the same `allowNegative`. */
  ensureAccount(name: string, options: { allowNegative?: boolean } = {}): void {
    checkName(name);
    const allow = options.allowNegative === true ? 1 : 0;
    const row = this.stmt.account.get(name);
    if (row) {
      if (row.allow_negative !== allow) {
        throw new LedgerError(
          'account-conflict',
          `account ${name} exists with allowNegative=${row.allow_negative === 1}`,
        );
      }
      return;
    }
    this.stmt.insertAccount.run(name, allow, this.clock.now());
  }

  hasAccount(name: string): boolean {
    return this.stmt.account.get(name) !== undefined;
  }

  /**
   * Moves `amountMsats` from one account to another: one journal row and both balances, atomically (a
   * savepoint inside the caller's transaction, else its own BEGIN IMMEDIATE). Returns the posting's id.
   */
  transfer(req: TransferRequest): number {
    const from = checkName(req.from);
    const to = checkName(req.to);
    const amount = req.amountMsats;
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw new LedgerError(
        'invalid-amount',
        `a transfer is a positive integer of msats, not ${String(amount)}`,
      );
    }
    if (from === to) throw new LedgerError('invalid-account', `a transfer from ${from} to itself`);
    return this.transferTx.immediate(from, to, amount, req.ref ?? null, req.memo ?? null);
  }

  /** The account's balance; throws `unknown-account`. */
  balance(name: string): number {
    const row = this.stmt.account.get(name);
    if (!row) throw new LedgerError('unknown-account', `no account ${name}`);
    return row.balance_msats;
  }

  balances(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.stmt.all.all()) out[r.name] = r.balance_msats;
    return out;
  }

  /** The account's postings, newest first (default 50, at most 1000). */
  history(name: string | undefined, options: { limit?: number; offset?: number } = {}): Posting[] {
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? 50), 0), 1000);
    const offset = Math.max(Math.trunc(options.offset ?? 0), 0);
    if (name === undefined) return this.stmt.recent.all({ limit, offset }).map(toPosting);
    return this.stmt.history.all({ name, limit, offset }).map(toPosting);
  }

  /** Postings with this `ref`, oldest first. */
  postingsByRef(ref: string): Posting[] {
    return this.stmt.byRef.all(ref).map(toPosting);
  }

  /** Re-derives every balance from the journal: sum zero, no forbidden negatives, no drift. */
  check(): LedgerCheck {
    return this.db.transaction((): LedgerCheck => {
      const journal = new Map(this.stmt.journal.all().map((r) => [r.name, r.msats]));
      let total = 0;
      const negative: LedgerCheck['negative'] = [];
      const drift: LedgerCheck['drift'] = [];
      for (const a of this.stmt.all.all()) {
        total += a.balance_msats;
        if (a.allow_negative === 0 && a.balance_msats < 0)
          negative.push({ name: a.name, balanceMsats: a.balance_msats });
        const derived = journal.get(a.name) ?? 0;
        if (derived !== a.balance_msats)
          drift.push({ name: a.name, storedMsats: a.balance_msats, journalMsats: derived });
      }
      return {
        ok: total === 0 && negative.length === 0 && drift.length === 0,
        totalMsats: total,
        negative,
        drift,
      };
    })();
  }
}
