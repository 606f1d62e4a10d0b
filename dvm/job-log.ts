/**
 * The job log: every job transition and record is one row appended to a SQLite table, and a job's state is
 * the fold of its rows (dvm/job-state.ts). Appends are committed with the other writes of their event-loop
 * turn, at its end (core/group-commit.ts); `committed()` says when they survive a kill -9 and `durable()`
 * when they are on the disk, and whatever lets a recorded effect leave the process (the outbox, billing)
 * awaits `durable()` first (docs/decisions/0014-durability-of-each-file.md). So a process killed at any point
 * resumes each job from its log on restart, and the `effect`/`outbox` records tell it which side effects
 * already happened.
 *
 * Several processes may share one file: the running instance, and the `timmy job …` CLI that approves or
 * cancels a job. A turn's writes run in one `BEGIN IMMEDIATE` transaction (the file's single writer lock), and
 * each append first reads the job's rows newer than the cached view, so a view is never built on a stale state.
 */
import type Database from 'better-sqlite3';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { GroupCommit } from '../core/group-commit.ts';
import type { Logger } from '../core/logger.ts';
import { silentLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { openJobDatabase, type Synchronous } from './job-log-schema.ts';
import {
  applyEntry,
  IllegalTransitionError,
  InvalidEntryError,
  isRecord,
  isTerminal,
  JOB_STATES,
  type JobEntry,
  type JobEntryType,
  type JobLogEntry,
  type JobStateName,
  type JobView,
  parseEntry,
} from './job-state.ts';

/**
 * synchronous=NORMAL with group commit (docs/decisions/0014-durability-of-each-file.md): the appends of one
 * event-loop turn commit together at its end, without waiting for the disk, which survives a kill -9 of the
 * process (the committed frames are in the operating system's page cache); `durable()` resolves once they
 * are on the disk too (one fsync of the WAL per turn, on libuv's thread pool), and whatever lets a recorded
 * effect leave the process awaits it first: the outbox before it publishes (agents/outbox.ts). So a power cut
 * can lose the last appends only while nothing outside has seen their effects, and the event loop never
 * blocks on an fsync.
 *
 * synchronous=FULL (each commit fsynced on the event loop) is kept for the benchmark's comparison
 * (docs/benchmarks.md, "Job log checkpoint").
 */
export const DEFAULT_SYNCHRONOUS: Synchronous = 'NORMAL';

/** Terminal views kept in memory (for the records that may follow `failed`), least recently added dropped. */
const TERMINAL_CACHE_SIZE = 256;

export interface JobLogOptions {
  /** Database file, created if missing (`:memory:` for a private log). */
  path: string;
  /** Time source for each entry's `at` (milliseconds). Default: the system clock. */
  clock?: Clock;
  logger?: Logger;
  /**
   * Open read-only (for CLI readers while an instance runs): `append` throws; the file must exist and be at
   * this code's schema version.
   */
  readonly?: boolean;
  /** Default DEFAULT_SYNCHRONOUS; the benchmark measures the other one. */
  synchronous?: Synchronous;
  /**
   * Default true: appends commit with the rest of their event-loop turn. False: each append (or
   * `transaction`) commits before it returns, one commit each (a short-lived writer such as the CLI, or a
   * test that reads the file from a second connection in the same turn).
   */
  groupCommit?: boolean;
}

/** A job's row in the `jobs` projection, for listings. */
export interface JobSummary {
  id: string;
  kind: number;
  customer: string;
  state: JobStateName;
  agent: string | undefined;
  attempt: number;
  createdAt: number;
  updatedAt: number;
  reason: string | undefined;
  lastSeq: number;
}

export interface JobListOptions {
  /** Only jobs in these states (default: all). */
  states?: readonly JobStateName[];
  /** Default 50, at most 1000. */
  limit?: number;
  /** Only jobs with `updatedAt` below this (pass the last row's `updatedAt` to read the next page). */
  before?: number;
}

export interface JobChange {
  seq: number;
  jobId: string;
  type: JobEntryType;
}

/** One committed append, as `onAppend` listeners see it: the state the job left (undefined for `posted`). */
export interface JobAppended {
  jobId: string;
  type: JobEntryType;
  from: JobStateName | undefined;
  view: JobView;
}

export interface PendingOutboxItem {
  jobId: string;
  key: string;
  event: NostrEvent;
}

export type EffectLookup = { found: true; value: unknown } | { found: false };

/** A `posted` entry for a job id the log already holds (a request delivered twice). */
export class DuplicateJobError extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} is already in the job log`);
    this.name = 'DuplicateJobError';
  }
}

interface EntryRow {
  seq: number;
  at: number;
  type: string;
  data: string;
}

interface JobRow {
  id: string;
  kind: number;
  customer: string;
  state: string;
  agent: string | null;
  attempt: number;
  created_at: number;
  updated_at: number;
  reason: string | null;
  last_seq: number;
}

const TERMINAL_SQL = "('completed', 'failed', 'cancelled', 'forwarded')";
const JOB_COLUMNS = 'id, kind, customer, state, agent, attempt, created_at, updated_at, reason, last_seq';

function prepare(db: Database.Database, readonly: boolean) {
  const reads = {
    rowsOf: db.prepare<[string], EntryRow>(
      'SELECT seq, at, type, data FROM entries WHERE job_id = ? ORDER BY seq',
    ),
    rowsAfter: db.prepare<[string, number], EntryRow>(
      'SELECT seq, at, type, data FROM entries WHERE job_id = ? AND seq > ? ORDER BY seq',
    ),
    active: db.prepare<[], { id: string; last_seq: number }>(
      `SELECT id, last_seq FROM jobs WHERE state NOT IN ${TERMINAL_SQL} ORDER BY created_at, id`,
    ),
    pending: db.prepare<[], EntryRow & { job_id: string; key: string }>(
      'SELECT p.job_id, p.key, e.seq, e.at, e.type, e.data FROM outbox_pending p JOIN entries e ON e.seq = p.seq ORDER BY p.seq',
    ),
    changes: db.prepare<[number, number], { seq: number; job_id: string; type: string }>(
      'SELECT seq, job_id, type FROM entries WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    lastSeq: db.prepare<[], number | null>('SELECT max(seq) FROM entries').pluck(),
  };
  if (readonly) return { ...reads, writes: undefined };
  const writes = {
    insertEntry: db.prepare<[string, number, string, string]>(
      'INSERT INTO entries (job_id, at, type, data) VALUES (?, ?, ?, ?)',
    ),
    insertJob: db.prepare<
      [string, number, string, string, string | null, number, number, number, string | null, number]
    >(`INSERT INTO jobs (${JOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    updateJob: db.prepare<[string, string | null, number, number, string | null, number, string]>(
      'UPDATE jobs SET state = ?, agent = ?, attempt = ?, updated_at = ?, reason = ?, last_seq = ? WHERE id = ?',
    ),
    insertPending: db.prepare<[number, string, string]>(
      'INSERT INTO outbox_pending (seq, job_id, key) VALUES (?, ?, ?)',
    ),
    // A record changes only these two: leaving `state` out of the SET spares the partial index on it.
    touchJob: db.prepare<[number, number, string]>(
      'UPDATE jobs SET updated_at = ?, last_seq = ? WHERE id = ?',
    ),
    deletePending: db.prepare<[string, string]>('DELETE FROM outbox_pending WHERE job_id = ? AND key = ?'),
  };
  return { ...reads, writes };
}

type Appended = { seq: number; view: JobView; from: JobStateName | undefined };

/**
 * The durable job log. Calls are synchronous (better-sqlite3) and run on the caller's thread; an append waits
 * (up to the 5 s busy timeout) while another process holds the file's write lock.
 */
export class JobLog {
  private readonly activeViews = new Map<string, JobView>();
  private readonly terminalViews = new Map<string, JobView>();
  private readonly listStatements = new Map<string, Database.Statement<unknown[], JobRow>>();
  private readonly appendTx: (jobId: string, entry: JobEntry, data: string) => Appended;
  private closed = false;
  private readonly listeners = new Set<(appended: JobAppended) => void>();
  /** Appends not committed yet, told to the listeners once their turn commits (dropped on a rollback). */
  private untold: JobAppended[] = [];
  /** The group commit of the connection (undefined read-only); the log closes it when it opened it. */
  private readonly group: GroupCommit | undefined;
  private readonly ownsGroup: boolean;
  /** `transaction` calls in progress (with `groupCommit: false`, only the outermost commits). */
  private depth = 0;

  private constructor(
    private readonly db: Database.Database,
    private readonly s: ReturnType<typeof prepare>,
    private readonly clock: Clock,
    readonly path: string,
    private readonly owned = true,
    group?: GroupCommit,
    private readonly commitEach = false,
  ) {
    this.appendTx = db.transaction((jobId: string, entry: JobEntry, data: string) =>
      this.appendLocked(jobId, entry, data),
    ).immediate;
    this.ownsGroup = group === undefined && !db.readonly;
    this.group = group ?? (db.readonly ? undefined : new GroupCommit(db));
    this.group?.onCommit(() => {
      const told = this.untold;
      this.untold = [];
      for (const appended of told) this.tell(appended);
    });
    this.group?.onRollback(() => {
      // The turn's appends are gone: nothing cached may reflect them.
      this.untold = [];
      this.activeViews.clear();
      this.terminalViews.clear();
    });
  }

  /**
   * Resolves once every entry appended so far is committed: safe from a kill -9 (an append is committed
   * with the other writes of its event-loop turn, at the turn's end).
   */
  committed(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`job log ${this.path} is closed`));
    return this.group ? this.group.committed() : Promise.resolve();
  }

  /**
   * Resolves once every entry appended so far (and every other write on this connection) is committed and
   * on the disk, past a power cut too: await it before anything recorded leaves the process. One commit and
   * one fsync serve all the callers of an event-loop turn; the fsync runs off the event loop.
   */
  durable(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`job log ${this.path} is closed`));
    return this.group ? this.group.durable() : Promise.resolve();
  }

  /**
   * The log on a connection its caller opened with `openJobDatabase` (dvm/job-log-schema.ts) and closes:
   * the desk keeps its treasury's tables in the same file, so a job's state and its money commit together
   * (`transaction`). `close` leaves the connection open.
   */
  static over(db: Database.Database, options: { clock?: Clock; group?: GroupCommit } = {}): JobLog {
    return new JobLog(
      db,
      prepare(db, db.readonly),
      options.clock ?? systemClock,
      db.name,
      false,
      options.group,
    );
  }

  /** Opens the log at `path`, creating the file and its schema if needed. */
  static open(options: JobLogOptions): JobLog {
    const log = (options.logger ?? silentLogger).child({ component: 'job-log' });
    const readonly = options.readonly === true;
    const db = openJobDatabase(
      options.path,
      { readonly, synchronous: options.synchronous ?? DEFAULT_SYNCHRONOUS },
      log,
    );
    try {
      return new JobLog(
        db,
        prepare(db, readonly),
        options.clock ?? systemClock,
        options.path,
        true,
        undefined,
        options.groupCommit === false,
      );
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Appends one entry to the job's log, atomically (committed with the rest of this event-loop turn: await
   * `committed()` or `durable()` before acting on it outside), and returns its seq and the job's new view. Throws
   * InvalidEntryError (bad shape), DuplicateJobError (`posted` for a known job), IllegalTransitionError (not
   * allowed in the job's current state, or no such job); nothing is written then.
   */
  append(jobId: string, entry: JobEntry): { seq: number; view: JobView } {
    this.writable();
    if (typeof jobId !== 'string' || jobId === '') {
      throw new InvalidEntryError('job id: expected a non-empty string');
    }
    const clean = parseEntry(entry);
    if (clean.type === 'posted' && clean.request.id !== jobId) {
      throw new InvalidEntryError(`posted: the request's id ${clean.request.id} is not the job id ${jobId}`);
    }
    let data: string;
    try {
      data = JSON.stringify(clean);
    } catch (err) {
      throw new InvalidEntryError(`${clean.type}: not JSON-serialisable (${(err as Error).message})`);
    }
    // The view is built from the entry as it will read back, not from the caller's objects.
    this.group?.begin();
    try {
      const { seq, view, from } = this.appendTx(jobId, JSON.parse(data) as JobEntry, data);
      this.remember(view);
      if (this.listeners.size > 0) this.untold.push({ jobId, type: clean.type, from, view });
      return { seq, view };
    } finally {
      // Also after a refused append: the write lock is not held past the call (inside `transaction`, its end).
      if (this.commitEach && this.depth === 0) this.group?.commit();
    }
  }

  /**
   * Listens to this process's committed appends (metrics): called after the commit, never inside a
   * transaction; a listener that throws is ignored. Returns the function that stops listening.
   */
  onAppend(listener: (appended: JobAppended) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private tell(appended: JobAppended): void {
    for (const listener of this.listeners) {
      try {
        listener(appended);
      } catch {
        // A listener's failure is its own (metrics must never break the log).
      }
    }
  }

  /** The job's current view (catching up with rows appended by other processes), or undefined. */
  get(jobId: string): JobView | undefined {
    this.assertOpen();
    return this.catchUp(jobId);
  }

  /** The job's entries in log order ([] for an unknown job). */
  entries(jobId: string): JobLogEntry[] {
    this.assertOpen();
    return this.s.rowsOf.all(jobId).map((r) => ({ seq: r.seq, at: r.at, entry: decode(r) }));
  }

  /** Jobs from the `jobs` projection, most recently updated first. */
  list(options: JobListOptions = {}): JobSummary[] {
    this.assertOpen();
    const limit = options.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
      throw new RangeError(`list: limit must be an integer from 1 to 1000, got ${limit}`);
    }
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.states !== undefined) {
      for (const s of options.states) {
        if (!JOB_STATES.includes(s)) throw new RangeError(`list: unknown job state ${JSON.stringify(s)}`);
      }
      if (options.states.length === 0) return [];
      where.push(`state IN (${options.states.map(() => '?').join(', ')})`);
      params.push(...options.states);
    }
    if (options.before !== undefined) {
      where.push('updated_at < ?');
      params.push(options.before);
    }
    const sql = `SELECT ${JOB_COLUMNS} FROM jobs${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, last_seq DESC LIMIT ?`;
    let stmt = this.listStatements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<unknown[], JobRow>(sql);
      this.listStatements.set(sql, stmt);
    }
    return stmt.all(...params, limit).map(summary);
  }

  /** Every job not in a terminal state, oldest first: what a restarted instance resumes. */
  active(): JobView[] {
    this.assertOpen();
    const views: JobView[] = [];
    for (const row of this.s.active.all()) {
      const cached = this.activeViews.get(row.id);
      const view = cached?.lastSeq === row.last_seq ? cached : this.catchUp(row.id);
      if (view && !isTerminal(view.state)) views.push(view);
    }
    return views;
  }

  /** Outbox events not yet marked published, across all jobs (terminal ones included), in log order. */
  pendingOutbox(): PendingOutboxItem[] {
    this.assertOpen();
    return this.s.pending.all().map((r) => {
      const entry = decode(r);
      if (entry.type !== 'outbox') {
        throw new InvalidEntryError(`expected an outbox entry, got ${entry.type}`, r.seq);
      }
      return { jobId: r.job_id, key: r.key, event: entry.event };
    });
  }

  /** The recorded effect `key` of the job, if any (the job's view is caught up first). */
  effect(jobId: string, key: string): EffectLookup {
    const view = this.get(jobId);
    if (!view || !Object.hasOwn(view.effects, key)) return { found: false };
    return { found: true, value: view.effects[key] };
  }

  /**
   * Entries appended after `seq` (by any process), oldest first, at most `limit` of them: poll with the last
   * seq seen to notice what another process appended.
   */
  changesSince(seq: number, limit = 1000): JobChange[] {
    this.assertOpen();
    return this.s.changes
      .all(seq, limit)
      .map((r) => ({ seq: r.seq, jobId: r.job_id, type: r.type as JobEntryType }));
  }

  /** The seq of the newest entry in the file (0 when empty). */
  lastSeq(): number {
    this.assertOpen();
    return this.s.lastSeq.get() ?? 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.activeViews.clear();
    this.terminalViews.clear();
    this.listStatements.clear();
    if (this.ownsGroup) this.group?.close();
    else this.group?.commit();
    if (this.owned) this.db.close();
  }

  /**
   * Runs `fn` atomically on the log's connection (a savepoint of the turn's transaction): its appends (and
   * whatever else it writes on that connection, the treasury's rows) commit together or not at all. On a rollback the cached
   * views are dropped, so nothing read afterwards reflects an append that did not commit.
   */
  transaction<T>(fn: () => T): T {
    this.writable();
    this.group?.begin();
    const untold = this.untold.length;
    this.depth++;
    try {
      const result = this.db.transaction(fn).immediate();
      this.depth--;
      if (this.commitEach && this.depth === 0) this.group?.commit();
      return result;
    } catch (err) {
      this.depth--;
      this.untold.length = Math.min(this.untold.length, untold);
      if (this.commitEach && this.depth === 0) this.group?.commit();
      this.activeViews.clear();
      this.terminalViews.clear();
      throw err;
    }
  }

  private appendLocked(jobId: string, entry: JobEntry, data: string): Appended {
    const w = this.writable();
    const current = this.catchUp(jobId);
    if (entry.type === 'posted') {
      if (current) throw new DuplicateJobError(jobId);
    } else if (!current) {
      throw new IllegalTransitionError(jobId, undefined, entry.type, 'no such job');
    }
    const at = Math.floor(this.clock.now());
    const seq = Number(w.insertEntry.run(jobId, at, entry.type, data).lastInsertRowid);
    // Throws on an illegal entry, which rolls the insert back.
    const view = applyEntry(current, entry, { seq, at });
    if (current === undefined) {
      w.insertJob.run(
        jobId,
        view.kind,
        view.customer,
        view.state,
        view.agent ?? null,
        view.attempt,
        view.createdAt,
        view.updatedAt,
        view.reason ?? null,
        seq,
      );
    } else if (isRecord(entry)) {
      w.touchJob.run(view.updatedAt, seq, jobId);
    } else {
      w.updateJob.run(
        view.state,
        view.agent ?? null,
        view.attempt,
        view.updatedAt,
        view.reason ?? null,
        seq,
        jobId,
      );
    }
    if (entry.type === 'outbox') w.insertPending.run(seq, jobId, entry.key);
    else if (entry.type === 'published') w.deletePending.run(jobId, entry.key);
    return { seq, view, from: current?.state };
  }

  /** The cached view brought up to date with the job's newer rows (all its rows when not cached). */
  private catchUp(jobId: string): JobView | undefined {
    const cached = this.activeViews.get(jobId) ?? this.terminalViews.get(jobId);
    const rows = cached ? this.s.rowsAfter.all(jobId, cached.lastSeq) : this.s.rowsOf.all(jobId);
    if (rows.length === 0) return cached;
    let view = cached;
    for (const row of rows) {
      try {
        view = applyEntry(view, decode(row), row);
      } catch (err) {
        if (err instanceof IllegalTransitionError) {
          const named = new IllegalTransitionError(jobId, err.from, err.entryType, err.detail);
          throw new InvalidEntryError(named.message, row.seq);
        }
        throw err;
      }
      if (view?.id !== jobId) {
        throw new InvalidEntryError(`filed under job ${jobId} but posts request ${view?.id}`, row.seq);
      }
    }
    if (view) this.remember(view);
    return view;
  }

  private remember(view: JobView): void {
    if (!isTerminal(view.state)) {
      this.activeViews.set(view.id, view);
      return;
    }
    this.activeViews.delete(view.id);
    this.terminalViews.delete(view.id);
    this.terminalViews.set(view.id, view);
    if (this.terminalViews.size > TERMINAL_CACHE_SIZE) {
      const oldest = this.terminalViews.keys().next();
      if (!oldest.done) this.terminalViews.delete(oldest.value);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`job log ${this.path} is closed`);
  }

  private writable(): NonNullable<ReturnType<typeof prepare>['writes']> {
    this.assertOpen();
    if (!this.s.writes) throw new Error(`job log ${this.path} is open read-only`);
    return this.s.writes;
  }
}

/** A stored row's entry; a row that does not parse, or whose type column disagrees, names its seq. */
function decode(row: EntryRow): JobEntry {
  let json: unknown;
  try {
    json = JSON.parse(row.data);
  } catch (err) {
    throw new InvalidEntryError(`not valid JSON (${(err as Error).message})`, row.seq);
  }
  const entry = parseEntry(json, row.seq);
  if (entry.type !== row.type) {
    throw new InvalidEntryError(`type column says ${row.type} but the entry is ${entry.type}`, row.seq);
  }
  return entry;
}

function summary(r: JobRow): JobSummary {
  return {
    id: r.id,
    kind: r.kind,
    customer: r.customer,
    state: r.state as JobStateName,
    agent: r.agent ?? undefined,
    attempt: r.attempt,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    reason: r.reason ?? undefined,
    lastSeq: r.last_seq,
  };
}
