/**
 * An agent's own durable record of its work (`<dataDir>/work.sqlite`, rows keyed by the agent's pubkey):
 * the assignments it accepted (the signed kind 7600 and the request it names, both read from the relay),
 * the side effects of each attempt (the decrypted request, resolved inputs, model completions, the handler's
 * output, its bids) and the events it sends (recorded before they are published: the outbox). It shares
 * nothing with the desk's job log, so an agent can run in another process, or for another instance, and
 * still resume a killed job without a second model call or a second result.
 *
 * Several processes may open one file (SQLite WAL; the writes of an event-loop turn share one BEGIN IMMEDIATE
 * transaction, committed at the turn's end: core/group-commit.ts, docs/decisions/0014); a lease per agent
 * (`claim`, committed at once) keeps two live processes from running the same agent.
 *
 * An agent that also works for a peer's desk (docs/federation.md) keeps that work in a part of its own
 * (`forAway`, keyed `<agent>@<desk>`): its assignments, records, outbox and lease never mix with its home
 * work, so the runtime for one desk never resumes, or publishes on its relay, what another desk gave it.
 */
import Database from 'better-sqlite3';
import { type Clock, systemClock } from '../../core/clock.ts';
import { GroupCommit } from '../../core/group-commit.ts';
import type { Logger } from '../../core/logger.ts';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { checkSchemaVersion, migrateSchema } from '../../core/sqlite-migrate.ts';
import type { OutboxStore, PendingEvent } from '../outbox.ts';
import { MIGRATIONS, type RecordRow, toItem, toRecord, type WorkRow } from './work-log-schema.ts';

export type WorkState = 'assigned' | 'done' | 'failed' | 'dropped';

/** One accepted assignment: an attempt at a job, in this agent's hands. */
export interface WorkItem {
  agent: string;
  jobId: string;
  attempt: number;
  /** The desk that assigned it (the assignment's author). */
  desk: string;
  kind: number;
  customer: string;
  /** The signed kind 7600. */
  assignment: NostrEvent;
  /** The job request as the customer published it (encrypted ones stay encrypted here). */
  request: NostrEvent;
  /** The price the desk stated (the auction's), if any. */
  priceMsats: number | undefined;
  state: WorkState;
  reason: string | undefined;
  createdAt: number;
  updatedAt: number;
}

export type WorkRecord =
  | { seq: number; at: number; type: 'effect'; key: string; value: unknown }
  | {
      seq: number;
      at: number;
      type: 'outbox';
      key: string;
      event: NostrEvent;
      published: boolean;
      /** The relay refused it for good: why. */
      refused?: string;
    }
  | { seq: number; at: number; type: 'note'; text: string };

export type EffectLookup = { found: true; value: unknown } | { found: false };

/** A second process wants an agent that a live one runs already. */
export class AgentBusyError extends Error {
  constructor(
    readonly agent: string,
    readonly pid: number,
  ) {
    super(`this agent already runs in process ${pid} on this data directory; stop it first`);
    this.name = 'AgentBusyError';
  }
}

export interface WorkLogOptions {
  /** The file (created if missing), or `:memory:`. */
  path: string;
  clock?: Clock;
  logger?: Logger;
  /** For readers (`timmy job show` while agents run): the file must exist at this code's version. */
  readonly?: boolean;
}

/** The file; `forAgent` gives one agent's part of it. */
export class WorkLog {
  private readonly clock: Clock;
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;
  /** The group commit of the file (undefined read-only): the writes of a turn commit together. */
  private readonly group: GroupCommit | undefined;

  private constructor(
    readonly db: Database.Database,
    readonly path: string,
    clock: Clock,
  ) {
    this.clock = clock;
    this.group = db.readonly ? undefined : new GroupCommit(db);
  }

  /** Resolves once every write so far is committed and on the disk (docs/decisions/0014). */
  durable(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`work log ${this.path} is closed`));
    return this.group ? this.group.durable() : Promise.resolve();
  }

  static open(options: WorkLogOptions): WorkLog {
    const readonly = options.readonly === true;
    const db = new Database(options.path, readonly ? { readonly: true, fileMustExist: true } : {});
    try {
      db.pragma('busy_timeout = 5000');
      if (readonly) {
        const v = checkSchemaVersion(db, MIGRATIONS, 'work log', options.path);
        if (v < MIGRATIONS.length)
          throw new Error(
            `${options.path}: work log schema version ${v} is older than this code's; run an agent once to migrate it`,
          );
      } else {
        db.pragma('journal_mode = WAL');
        // As the job log (dvm/job-log.ts, docs/decisions/0014): the writes of a turn commit together at its
        // end (group commit, safe from a kill -9), and `durable()` (that commit and one fsync of the WAL, off
        // the event loop) is awaited before an outbox event goes out, so neither a kill nor a power cut loses
        // the record of something the relay has seen.
        db.pragma('synchronous = NORMAL');
        migrateSchema(db, MIGRATIONS, {
          what: 'work log',
          path: options.path,
          log: (options.logger ?? silentLogger).child({ component: 'work-log' }),
        });
      }
    } catch (err) {
      db.close();
      throw err;
    }
    return new WorkLog(db, options.path, options.clock ?? systemClock);
  }

  forAgent(agent: string): AgentWork {
    this.assertOpen();
    return new AgentWork(
      this.db,
      agent,
      () => Math.floor(this.clock.now()),
      () => this.assertOpen(),
      (sql) => this.prepare(sql),
      this.group,
    );
  }

  /** The agent's work for a peer's desk: a part of its own, apart from its home work (and its own lease). */
  forAway(agent: string, desk: string): AgentWork {
    return this.forAgent(awayPart(agent, desk));
  }

  /** A statement prepared once per file (every agent's part shares them). */
  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.group?.close();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`work log ${this.path} is closed`);
  }
}

/**
 * One agent's work and records. A write is committed with the rest of its event-loop turn, at its end
 * (core/group-commit.ts); `durable()` says when it is committed and on the disk.
 */
export class AgentWork implements OutboxStore {
  constructor(
    private readonly db: Database.Database,
    readonly agent: string,
    private readonly now: () => number,
    private readonly assertOpen: () => void,
    private readonly sql: (text: string) => Database.Statement,
    private readonly group: GroupCommit | undefined,
  ) {}

  /** Resolves once every write so far is committed and on the disk (docs/decisions/0014). */
  durable(): Promise<void> {
    return this.group ? this.group.durable() : Promise.resolve();
  }

  /** Before a write: it joins this turn's transaction (committed at the turn's end). */
  private writing(): void {
    this.assertOpen();
    this.group?.begin();
  }

  private commitNow(): void {
    this.group?.commit();
  }

  /**
   * Takes this process's lease on the agent: refused (AgentBusyError) while another live process on this
   * machine holds it. A lease of a process that died is taken over.
   */
  claim(pid = process.pid): void {
    this.writing();
    this.db
      .transaction(() => {
        const held = this.sql('SELECT pid FROM leases WHERE agent = ?').get(this.agent) as
          | { pid: number }
          | undefined;
        if (held && held.pid !== pid && processAlive(held.pid))
          throw new AgentBusyError(this.agent, held.pid);
        this.sql(
          'INSERT INTO leases (agent, pid, started_at) VALUES (?, ?, ?) ON CONFLICT (agent) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at',
        ).run(this.agent, pid, this.now());
      })
      .immediate();
    // Taken now, not at the end of the turn: another process must see it before it claims.
    this.commitNow();
  }

  release(pid = process.pid): void {
    this.writing();
    this.sql('DELETE FROM leases WHERE agent = ? AND pid = ?').run(this.agent, pid);
    this.commitNow();
  }

  /** Runs `fn` in one transaction: its writes are on disk together, or not at all. */
  transaction<T>(fn: () => T): T {
    this.writing();
    return this.db.transaction(fn).immediate();
  }

  /** Records an accepted assignment (once: accepting it again returns the stored item). */
  accept(item: Omit<WorkItem, 'agent' | 'state' | 'reason' | 'createdAt' | 'updatedAt'>): WorkItem {
    this.writing();
    const now = this.now();
    this.sql(
      `INSERT OR IGNORE INTO work (agent, job_id, attempt, desk, kind, customer, assignment, request,
           price_msats, state, reason, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'assigned', NULL, ?, ?)`,
    ).run(
      this.agent,
      item.jobId,
      item.attempt,
      item.desk,
      item.kind,
      item.customer,
      JSON.stringify(item.assignment),
      JSON.stringify(item.request),
      item.priceMsats ?? null,
      now,
      now,
    );
    return this.item(item.jobId, item.attempt) as WorkItem;
  }

  item(jobId: string, attempt: number): WorkItem | undefined {
    this.assertOpen();
    const row = this.sql('SELECT * FROM work WHERE agent = ? AND job_id = ? AND attempt = ?').get(
      this.agent,
      jobId,
      attempt,
    ) as WorkRow | undefined;
    return row ? toItem(row) : undefined;
  }

  /** Every attempt at the job this agent accepted, oldest first. */
  attempts(jobId: string): WorkItem[] {
    this.assertOpen();
    const rows = this.sql('SELECT * FROM work WHERE agent = ? AND job_id = ? ORDER BY attempt').all(
      this.agent,
      jobId,
    ) as WorkRow[];
    return rows.map(toItem);
  }

  /** Attempts still in hand (accepted, not finished), oldest first: what a restarted agent resumes. */
  open(): WorkItem[] {
    this.assertOpen();
    const rows = this.sql(
      "SELECT * FROM work WHERE agent = ? AND state = 'assigned' ORDER BY created_at, job_id",
    ).all(this.agent) as WorkRow[];
    return rows.map(toItem);
  }

  /** A delivered attempt turned out failed after all (the relay refused its result for good). */
  failAfter(jobId: string, attempt: number, reason: string): void {
    this.writing();
    this.sql(
      "UPDATE work SET state = 'failed', reason = ?, updated_at = ? WHERE agent = ? AND job_id = ? AND attempt = ? AND state IN ('assigned', 'done')",
    ).run(reason, this.now(), this.agent, jobId, attempt);
  }

  /** The attempt ends: delivered (`done`), refused or failed (`failed`), or no longer ours (`dropped`). */
  finish(jobId: string, attempt: number, state: Exclude<WorkState, 'assigned'>, reason?: string): void {
    this.writing();
    this.sql(
      "UPDATE work SET state = ?, reason = ?, updated_at = ? WHERE agent = ? AND job_id = ? AND attempt = ? AND state = 'assigned'",
    ).run(state, reason ?? null, this.now(), this.agent, jobId, attempt);
  }

  /** The value recorded under `key` for the job, if any. */
  effect(jobId: string, key: string): EffectLookup {
    this.assertOpen();
    const row = this.sql(
      "SELECT data FROM records WHERE agent = ? AND job_id = ? AND type = 'effect' AND key = ?",
    ).get(this.agent, jobId, key) as { data: string } | undefined;
    return row ? { found: true, value: JSON.parse(row.data) as unknown } : { found: false };
  }

  /** Records a value once; a second value for the same key is refused (the first is what counts). */
  recordEffect(jobId: string, key: string, value: unknown): void {
    this.writing();
    if (value === undefined) throw new TypeError(`effect ${key}: undefined is not recordable (use null)`);
    this.insert(jobId, 'effect', key, JSON.stringify(value));
  }

  /** Every effect of the job, by key (for replay). */
  effects(jobId: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const r of this.records(jobId)) if (r.type === 'effect') out[r.key] = r.value;
    return out;
  }

  /** The job's records in the order they were made. */
  records(jobId: string): WorkRecord[] {
    this.assertOpen();
    const rows = this.sql(
      'SELECT seq, type, key, data, published, refused, at FROM records WHERE agent = ? AND job_id = ? ORDER BY seq',
    ).all(this.agent, jobId) as RecordRow[];
    return rows.map(toRecord);
  }

  outboxItem(
    jobId: string,
    key: string,
  ): { event: NostrEvent; published: boolean; refused?: string } | undefined {
    this.assertOpen();
    const row = this.sql(
      "SELECT data, published, refused FROM records WHERE agent = ? AND job_id = ? AND type = 'outbox' AND key = ?",
    ).get(this.agent, jobId, key) as { data: string; published: number; refused: string | null } | undefined;
    if (!row) return undefined;
    const event = JSON.parse(row.data) as NostrEvent;
    return row.refused === null
      ? { event, published: row.published === 1 }
      : { event, published: false, refused: row.refused };
  }

  recordOutbox(jobId: string, key: string, event: NostrEvent): void {
    this.writing();
    this.insert(jobId, 'outbox', key, JSON.stringify(event));
  }

  markPublished(jobId: string, key: string): void {
    this.writing();
    this.sql(
      "UPDATE records SET published = 1 WHERE agent = ? AND job_id = ? AND type = 'outbox' AND key = ? AND published = 0",
    ).run(this.agent, jobId, key);
  }

  markRefused(jobId: string, key: string, reason: string): void {
    this.writing();
    this.sql(
      "UPDATE records SET published = 2, refused = ? WHERE agent = ? AND job_id = ? AND type = 'outbox' AND key = ? AND published = 0",
    ).run(reason, this.agent, jobId, key);
  }

  pendingOutbox(): PendingEvent[] {
    this.assertOpen();
    const rows = this.sql(
      "SELECT job_id, key, data FROM records WHERE agent = ? AND type = 'outbox' AND published = 0 ORDER BY seq",
    ).all(this.agent) as { job_id: string; key: string; data: string }[];
    return rows.map((r) => ({ jobId: r.job_id, key: r.key, event: JSON.parse(r.data) as NostrEvent }));
  }

  note(jobId: string, text: string): void {
    this.writing();
    this.sql("INSERT INTO records (agent, job_id, type, key, data, at) VALUES (?, ?, 'note', '', ?, ?)").run(
      this.agent,
      jobId,
      JSON.stringify(text),
      this.now(),
    );
  }

  private insert(jobId: string, type: 'effect' | 'outbox', key: string, data: string): void {
    try {
      this.sql('INSERT INTO records (agent, job_id, type, key, data, at) VALUES (?, ?, ?, ?, ?, ?)').run(
        this.agent,
        jobId,
        type,
        key,
        data,
        this.now(),
      );
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw new RecordExistsError(jobId, type, key);
      throw err;
    }
  }
}

/** A second record under a key that already holds one (the first is what counts). */
export class RecordExistsError extends Error {
  constructor(
    readonly jobId: string,
    readonly type: string,
    readonly key: string,
  ) {
    super(`job ${jobId}: ${type} '${key}' is already recorded`);
    this.name = 'RecordExistsError';
  }
}

/** The key of an agent's part for a peer's desk. */
export function awayPart(agent: string, desk: string): string {
  return `${agent}@${desk}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
