import { existsSync, renameSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Clock } from '../core/clock.ts';
import type { GroupCommit } from '../core/group-commit.ts';
import type { Logger } from '../core/logger.ts';
import { type Migration, migrateSchema } from '../core/sqlite-migrate.ts';
import { LEDGER_MIGRATIONS } from './ledger.ts';
import { Books } from './treasury-books.ts';
import { Escrows } from './treasury-escrows.ts';
import { Incomes } from './treasury-income.ts';
import { Withdrawals } from './treasury-withdrawals.ts';

export * from './treasury-books.ts';
export * from './treasury-escrows.ts';
export * from './treasury-income.ts';
export * from './treasury-withdrawals.ts';

/**
 * The instance's treasury: who owns which part of the instance's wallet, as a double-entry ledger, plus the
 * job escrows, the withdrawal queue and the instance's other income (L402 tokens).
 *
 * Accounts: `lightning` (the outside world: it goes negative by what came in), `instance` (fees kept),
 * `agent:<name>` (earnings per agent), `escrow` (customer payments received on a wallet without hold
 * invoices, until the job ends), `customer:<pubkey>` (refunds owed, same case), `withdrawing` (amounts
 * reserved by withdrawals waiting for approval or payment), `fees` (routing fees paid). The sum of all
 * balances is always 0, and the sum of all but `lightning` is what the wallet should hold for this instance.
 *
 * Every booking has a unique key, checked and written in the same transaction as its transfers, so a
 * booking repeated after a crash (or by a second caller) changes nothing: an agent is never paid twice.
 *
 * Its tables live in the desk's database (`<dataDir>/jobs.sqlite`, beside the job log: `Treasury.over` on the
 * desk's connection), so that a job's state and its money commit in one transaction (docs/decisions/0008).
 * Composed of parts, one concept each, sharing the Books (ledger, bookings): `escrows`, `withdrawals`,
 * `incomes`.
 */

/**
 * The treasury's schema (the `treasury` component of its file; the ledger is its own component). Step 1
 * creates the tables only if missing: files written before the schema was versioned already hold them. When
 * the desk's database is created beside a `treasury.sqlite` of an earlier version (the treasury had a file of
 * its own then), step 1 also copies everything from it.
 */
function migrations(legacyPath: string | undefined, log: Logger): Migration[] {
  return [
    (db) => {
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
      if (legacyPath && existsSync(legacyPath)) importLegacy(db, legacyPath, log);
    },
    // 2: a customer's escrows by state (the unpaid-work limits count them on every new invoice).
    (db) => db.exec('CREATE INDEX IF NOT EXISTS escrows_customer ON escrows(customer, state)'),
  ];
}

/** The tables a `treasury.sqlite` of the earlier layout holds, in the order they are copied. */
const LEGACY_TABLES = [
  'ledger_accounts',
  'ledger_postings',
  'treasury_bookings',
  'treasury_meta',
  'escrows',
  'withdrawals',
  'incomes',
] as const;

/**
 * Copies an earlier `treasury.sqlite` into the new tables (inside the migration's transaction: all or
 * nothing). The accounts the treasury opens on its own are replaced by the old file's rows.
 */
function importLegacy(db: Database.Database, path: string, log: Logger): void {
  const old = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const present = new Set(
      (old.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    const counts: Record<string, number> = {};
    for (const table of LEGACY_TABLES) {
      if (!present.has(table)) continue;
      const rows = old.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
      counts[table] = rows.length;
      const first = rows[0];
      if (!first) continue;
      const columns = Object.keys(first);
      const insert = db.prepare(
        `INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      );
      for (const row of rows) insert.run(...columns.map((c) => row[c]));
    }
    log.info({ from: path, rows: counts }, 'treasury imported from its earlier file');
  } finally {
    old.close();
  }
}

/** What `timmy wallet balance`, `/api/status` and the dashboard show: every account but the outside world. */
export interface TreasurySummary {
  /** The wallet is the embedded one, paying in test sats. */
  testSats: boolean;
  /** What the wallet said about itself when last asked (alias, network), if ever. */
  wallet: { alias?: string; network?: string; testSats?: boolean } | null;
  /** What the wallet should hold for this instance. */
  holdingsMsats: number;
  accounts: { account: string; balanceMsats: number }[];
}

export interface TreasuryOptions {
  logger: Logger;
  clock?: Clock;
  /**
   * The group commit of the connection (`over`: the desk's database, shared with the job log), so that
   * `durable()` covers the writes of the turn still open (docs/decisions/0014).
   */
  group?: GroupCommit;
}

export class Treasury {
  readonly books: Books;
  readonly escrows: Escrows;
  readonly withdrawals: Withdrawals;
  readonly incomes: Incomes;
  /** The group commit of its connection (the desk's, shared with the job log), when it has one. */
  private readonly group: GroupCommit | undefined;

  private constructor(
    readonly db: Database.Database,
    options: TreasuryOptions,
    private readonly owned: boolean,
  ) {
    this.books = new Books(db, options);
    this.escrows = new Escrows(this.books);
    this.withdrawals = new Withdrawals(this.books);
    this.incomes = new Incomes(this.books);
    this.group = options.group;
  }

  /**
   * Resolves once every commit so far is on the disk (a returned write already survives a kill -9): awaited
   * before money leaves (a withdrawal paid), so a power cut cannot lose the record of a payment made
   * (docs/decisions/0014).
   */
  durable(): Promise<void> {
    return this.group ? this.group.durable() : Promise.resolve();
  }

  /**
   * The treasury's tables on a connection someone else opened and closes (the desk's database): migrated,
   * and on first use filled from `legacyPath` (an earlier `treasury.sqlite`) when that file exists. After
   * the import the old file is renamed to `<name>.imported`.
   */
  static over(db: Database.Database, options: TreasuryOptions & { legacyPath?: string }): Treasury {
    migrate(db, options);
    return new Treasury(db, options, false);
  }

  /** A treasury in a file of its own (or `:memory:`), for tests and tools; `close` closes the file. */
  static open(options: TreasuryOptions & { path: string }): Treasury {
    const db = new Database(options.path);
    try {
      if (options.path !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      migrate(db, options);
      return new Treasury(db, options, true);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  // ── reading (the Books') ────────────────────────────────────────────────────────────────────────────

  balances(): ReturnType<Books['balances']> {
    return this.books.balances();
  }

  balance(account: string): number {
    return this.books.balance(account);
  }

  history(account: string | undefined, limit = 50, offset = 0): ReturnType<Books['history']> {
    return this.books.history(account, limit, offset);
  }

  holdingsMsats(): number {
    return this.books.holdingsMsats();
  }

  check(): ReturnType<Books['check']> {
    return this.books.check();
  }

  meta(key: string): unknown {
    return this.books.meta(key);
  }

  /** The balances and the wallet's last word, cheap to read (`check` re-derives them from the journal). */
  summary(): TreasurySummary {
    const wallet = (this.meta('wallet') as TreasurySummary['wallet'] | undefined) ?? null;
    return {
      testSats: wallet?.testSats ?? false,
      wallet,
      holdingsMsats: this.holdingsMsats(),
      accounts: this.balances().filter((b) => b.account !== 'lightning'),
    };
  }

  setMeta(key: string, value: unknown): void {
    this.books.setMeta(key, value);
  }

  /** Closes the file when the treasury opened it (`open`); a shared connection stays with its owner. */
  close(): void {
    if (this.owned) this.db.close();
  }
}

/** Brings the ledger's and the treasury's tables to this code's version (importing an earlier file). */
function migrate(db: Database.Database, options: TreasuryOptions & { legacyPath?: string }): void {
  const log = options.logger.child({ component: 'treasury' });
  // The ledger's tables first: an import copies into them.
  migrateSchema(db, LEDGER_MIGRATIONS, { what: 'ledger', component: 'ledger', path: db.name, log });
  migrateSchema(db, migrations(options.legacyPath, log), {
    what: 'treasury',
    component: 'treasury',
    path: db.name,
    log,
  });
  if (options.legacyPath && existsSync(options.legacyPath)) retire(options.legacyPath, log);
}

/** An imported `treasury.sqlite` is kept, renamed, so nothing reads it again and nothing is lost. */
function retire(path: string, log: Logger): void {
  const target = `${path}.imported`;
  try {
    renameSync(path, target);
    for (const suffix of ['-wal', '-shm'])
      if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
    log.info({ from: path, to: target }, 'the earlier treasury file was renamed');
  } catch (err) {
    log.warn(
      { path, err: String(err) },
      'could not rename the earlier treasury file (it was imported already)',
    );
  }
}
