import type Database from 'better-sqlite3';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { Ledger, type Posting } from './ledger.ts';

/**
 * The core of the treasury (payments/treasury.ts): the double-entry ledger in the treasury's tables, the
 * account names, and `book`, which runs a booking once per key atomically with its transfers (a booking
 * repeated after a crash, or by a second caller, changes nothing). The treasury's parts each hold a Books:
 * job escrows (treasury-escrows.ts), withdrawals (treasury-withdrawals.ts), other income (treasury-income.ts).
 */

export const WORLD = 'lightning';
export const INSTANCE = 'instance';
export const ESCROW = 'escrow';
export const WITHDRAWING = 'withdrawing';
/** Routing fees paid on withdrawals: an expense, so it goes negative (it never blocks booking a payment). */
export const FEES = 'fees';
export const agentAccount = (name: string): string => `agent:${name}`;
export const customerAccount = (pubkey: string): string => `customer:${pubkey}`;

export class TreasuryError extends Error {
  constructor(
    readonly code: 'insufficient-balance' | 'not-found' | 'invalid-state' | 'invalid-input',
    message: string,
  ) {
    super(message);
    this.name = 'TreasuryError';
  }
}

export interface BooksOptions {
  logger: Logger;
  clock?: Clock;
}

export class Books {
  readonly ledger: Ledger;
  readonly log: Logger;
  private readonly clock: Clock | undefined;

  /** Over a database whose treasury tables exist (payments/treasury.ts migrates them). */
  constructor(
    readonly db: Database.Database,
    options: BooksOptions,
  ) {
    this.clock = options.clock;
    this.log = options.logger.child({ component: 'treasury' });
    this.ledger = new Ledger(db, { clock: options.clock, logger: options.logger });
    for (const name of [INSTANCE, ESCROW, WITHDRAWING])
      this.ledger.ensureAccount(name, { allowNegative: false });
    this.ledger.ensureAccount(WORLD, { allowNegative: true });
    this.ledger.ensureAccount(FEES, { allowNegative: true });
  }

  /** Unix seconds now. */
  now(): number {
    return Math.floor((this.clock?.now() ?? Date.now()) / 1000);
  }

  /** Runs `fn` once per `key`, atomically with its transfers; false when it had run before. */
  book(key: string, fn: () => void): boolean {
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

  /** Opens a non-negative account if it does not exist. */
  ensure(account: string): void {
    this.ledger.ensureAccount(account, { allowNegative: false });
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
