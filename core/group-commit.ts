/**
 * Group commit for a SQLite connection (docs/decisions/0014): the writes of one event-loop turn share one
 * transaction. The first write of a turn opens it (`BEGIN IMMEDIATE`: the file's write lock, so another
 * process's view is never built on a half-written turn), and it commits at the end of the turn
 * (`setImmediate`), together with everything written on the connection meanwhile. Writes inside it that
 * use better-sqlite3's `db.transaction` become savepoints: each still rolls back alone when it throws.
 *
 * A write is therefore *not* committed when its call returns: `committed()` resolves once it is (safe from a
 * kill -9: the frames are in the operating system's page cache), `durable()` once it is on the disk too (a
 * WalSync fsync, off the event loop). Whatever lets a written effect leave the process awaits `durable()`
 * first (the outbox before it publishes, billing before it moves money): until then, losing the write loses
 * nothing anyone outside has seen.
 */
import type Database from 'better-sqlite3';
import { WalSync } from './wal-sync.ts';

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class GroupCommit {
  private open = false;
  private waiters: Waiter[] = [];
  private readonly walSync: WalSync;
  private readonly afterCommit = new Set<() => void>();
  private readonly afterRollback = new Set<(err: Error) => void>();
  private closed = false;
  /** Turns committed (for tests and the benchmark). */
  commits = 0;

  constructor(private readonly db: Database.Database) {
    const level = Number(db.pragma('synchronous', { simple: true }));
    // FULL (2) and EXTRA (3) fsync every commit themselves: nothing left for the group fsync.
    this.walSync = new WalSync(db.memory || level >= 2 ? ':memory:' : db.name);
  }

  /** Before a write: opens the turn's transaction if none is open, and schedules its commit. */
  begin(): void {
    if (this.closed) throw new Error(`${this.db.name}: closed`);
    if (this.open) {
      if (this.db.inTransaction) return;
      // SQLite rolled the turn back by itself (an I/O error, a full disk): what it held is gone.
      this.failed(new Error(`${this.db.name}: the transaction of this turn was rolled back by SQLite`));
    }
    this.db.exec('BEGIN IMMEDIATE');
    this.open = true;
    setImmediate(() => this.commit());
  }

  /** True while this turn's transaction is open (a write now joins it). */
  get pending(): boolean {
    return this.open;
  }

  /** Resolves once everything written so far is committed (past a kill -9). */
  committed(): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Resolves once everything written so far is committed and on the disk (past a power cut). */
  async durable(): Promise<void> {
    await this.committed();
    await this.walSync.durable();
  }

  /** Called after each commit of a turn (listeners told of what it held). Returns the unsubscribe. */
  onCommit(fn: () => void): () => void {
    this.afterCommit.add(fn);
    return () => this.afterCommit.delete(fn);
  }

  /** Called when a turn's writes are lost (its COMMIT failed, or SQLite rolled it back). */
  onRollback(fn: (err: Error) => void): () => void {
    this.afterRollback.add(fn);
    return () => this.afterRollback.delete(fn);
  }

  /** Commits the open turn now (before the connection closes; or a caller that cannot wait for the turn). */
  commit(): void {
    if (!this.open) return;
    if (!this.db.open || !this.db.inTransaction) {
      this.failed(new Error(`${this.db.name}: the transaction of this turn was rolled back`));
      return;
    }
    try {
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.failed(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.open = false;
    this.commits++;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
    for (const fn of this.afterCommit) fn();
  }

  /** Commits what is open and closes the fsync descriptor; the caller closes the connection. */
  close(): void {
    if (this.closed) return;
    this.commit();
    this.closed = true;
    this.walSync.close();
  }

  private failed(err: Error): void {
    this.open = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
    for (const fn of this.afterRollback) fn(err);
  }
}
