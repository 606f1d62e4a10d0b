import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import type { Clock } from '../core/clock.ts';
import { systemClock, unixSeconds } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { EventStore, QueryOptions, SaveOutcome } from '../core/event-store.ts';
import type { Logger } from '../core/logger.ts';
import { silentLogger } from '../core/logger.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import { WalSync } from '../core/wal-sync.ts';
import { SqliteCursor } from './sqlite-cursor.ts';
import { effectiveLimit, type FilterSql, fanOut, filterSql, selectSql } from './sqlite-filter-sql.ts';
import {
  compareRows,
  dedupe,
  KEY_COLUMNS,
  type Keyed,
  type KeyRow,
  newestFirst,
  ROW_COLUMNS,
  type Row,
} from './sqlite-rows.ts';
import { openEventDatabase } from './sqlite-schema.ts';
import { WriteThread } from './sqlite-write-thread.ts';
import { EventWriter, storedJson } from './sqlite-writes.ts';
import type { CursorStore, StoredCursor } from './stored-cursor.ts';

export interface SqliteEventStoreOptions {
  /** Database file (created if missing), or `':memory:'`. */
  path: string;
  logger?: Logger;
  /** Time source for NIP-40 checks in `save` and the default `nowSeconds` of queries (default: system clock). */
  clock?: Clock;
  /** Queries slower than this are logged at warn (default 100 ms). */
  slowQueryMs?: number;
  /**
   * Save in a writer thread with its own connection (default true; a `:memory:` database always saves on
   * the caller's thread). `save` resolves after the commit either way.
   */
  writerThread?: boolean;
}

/**
 * `relay.writerThread`: whether the embedded relay saves in a writer thread. The thread halves the event
 * loop's busy time per stored event but costs more CPU in all (each event's JSON is parsed again, every batch
 * crosses threads), so it pays only with a core to spare: `auto` is on with more than 2 cores. Measured on
 * 2 cores, writes on the event loop ingest 1.07x-1.28x faster (docs/benchmarks.md, "The writer thread").
 */
export function writerThreadFor(setting: 'auto' | 'on' | 'off', cores = availableParallelism()): boolean {
  return setting === 'on' || (setting === 'auto' && cores > 2);
}

export interface SqliteStoreStats {
  /** Stored events (expired ones not yet purged included). */
  events: number;
  /** Size of the main database file (page_count × page_size). */
  dbBytes: number;
  /** Size of the write-ahead log beside it (0 for `:memory:`). */
  walBytes: number;
}

/** More filters than this in one `count` are counted in JS instead of one UNION statement. */
const MAX_UNION_FILTERS = 100;
const MAX_UNION_PARAMS = 30_000;
/** Prepared statements kept, by SQL text (least recently used dropped first). */
const STATEMENT_CACHE_SIZE = 256;
/** Most rows an authors × kinds query reads in one unsorted statement before it is split by author and kind. */
const WHOLE_READ_CAP = 4096;

/**
 * The relay's `EventStore` on SQLite (better-sqlite3, WAL). Queries run synchronously on the caller's
 * thread; saves go to a writer thread (relay/sqlite-write-thread.ts) and resolve once committed.
 */
export class SqliteEventStore implements EventStore, CursorStore {
  private readonly db: Database.Database;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly slowQueryMs: number;
  private readonly path: string;
  private readonly cache = new Map<string, Database.Statement>();
  private readonly s: ReturnType<typeof prepareReads>;
  /** Writes on this thread: for `:memory:`, with `writerThread: false`, or after the writer thread died. */
  private readonly writer: EventWriter;
  private readonly thread: WriteThread | undefined;
  /**
   * Writes on the event loop commit with `synchronous=NORMAL` and are made durable by one `fdatasync` of the
   * WAL per turn on libuv's thread pool (core/wal-sync.ts), awaited before `save` resolves: the `OK` still
   * waits for the disk, as with FULL, but the event loop does not.
   */
  private readonly walSync: WalSync | undefined;
  private closed = false;

  constructor(options: SqliteEventStoreOptions) {
    this.path = options.path;
    this.log = (options.logger ?? silentLogger).child({ component: 'sqlite-store' });
    this.clock = options.clock ?? systemClock;
    this.slowQueryMs = options.slowQueryMs ?? 100;
    this.db = openEventDatabase(options.path, this.log);
    this.s = prepareReads(this.db);
    this.writer = new EventWriter(this.db);
    const onDisk = options.path !== ':memory:' && options.path !== '';
    this.thread =
      onDisk && (options.writerThread ?? true) ? new WriteThread(options.path, this.log) : undefined;
    void this.thread?.ready();
    if (onDisk && !this.thread) {
      this.db.pragma('synchronous = NORMAL');
      this.walSync = new WalSync(options.path);
    }
  }

  /** Resolves once the writer thread (if any) has its connection open, so the first save does not wait for it. */
  ready(): Promise<void> {
    return this.thread?.ready() ?? Promise.resolve();
  }

  async save(events: readonly NostrEvent[]): Promise<SaveOutcome[]> {
    this.assertOpen();
    if (events.length === 0) return [];
    const raws = events.map(storedJson);
    const now = unixSeconds(this.clock);
    if (this.thread && !this.thread.failed) return this.thread.save(raws, now);
    const outcomes = this.writer.save(events, raws, now);
    // A duplicate waits too: the first copy may be committed and not yet on the disk.
    await this.walSync?.durable();
    return outcomes;
  }

  async query(filters: readonly Filter[], options: QueryOptions = {}): Promise<NostrEvent[]> {
    return this.select<Row>(filters, options, ROW_COLUMNS).map((r) => JSON.parse(r[2]) as NostrEvent);
  }

  /**
   * The answer of `query` as a cursor: the matching rows' keys are selected now (a few dozen bytes each),
   * each event's stored text only when `next` asks for it, so a large answer waiting for a slow client
   * holds no events. An event deleted meanwhile is skipped.
   */
  openCursor(filters: readonly Filter[], options: QueryOptions = {}): StoredCursor {
    const keys = this.select<KeyRow>(filters, options, KEY_COLUMNS);
    return new SqliteCursor(keys, () => {
      this.assertOpen();
      return this.s.rawBySeq;
    });
  }

  /**
   * Same as `query`, but each event as the JSON text it was stored as, ready to splice into
   * `["EVENT", <sub>, <raw>]` without parsing and re-serialising.
   */
  async queryRaw(filters: readonly Filter[], options: QueryOptions = {}): Promise<string[]> {
    return this.select<Row>(filters, options, ROW_COLUMNS).map((r) => r[2]);
  }

  /** NIP-45: distinct events matching any filter, ignoring `limit`; expired events are not counted. */
  async count(filters: readonly Filter[], options: Pick<QueryOptions, 'nowSeconds'> = {}): Promise<number> {
    this.assertOpen();
    const now = options.nowSeconds ?? unixSeconds(this.clock);
    const parts = filters.map((f) => filterSql(f, now)).filter((p): p is FilterSql => p !== undefined);
    const first = parts[0];
    if (!first) return 0;
    if (parts.length === 1) {
      return this.stmt(`SELECT count(*) FROM ${first.from} WHERE ${first.where}`)
        .pluck()
        .get(...first.params) as number;
    }
    const params = parts.flatMap((p) => p.params);
    if (parts.length <= MAX_UNION_FILTERS && params.length <= MAX_UNION_PARAMS) {
      const union = parts.map((p) => `SELECT e.seq FROM ${p.from} WHERE ${p.where}`).join(' UNION ');
      return this.stmt(`SELECT count(*) FROM (${union})`)
        .pluck()
        .get(...params) as number;
    }
    const seen = new Set<number>();
    for (const p of parts) {
      const seqs = this.stmt(`SELECT e.seq FROM ${p.from} WHERE ${p.where}`)
        .pluck()
        .all(...p.params) as number[];
      for (const seq of seqs) seen.add(seq);
    }
    return seen.size;
  }

  async purgeExpired(nowSeconds: number): Promise<number> {
    this.assertOpen();
    const n =
      this.thread && !this.thread.failed
        ? await this.thread.purge(nowSeconds)
        : this.writer.purgeExpired(nowSeconds);
    if (n > 0) this.log.debug({ purged: n }, 'purged expired events');
    return n;
  }

  stats(): SqliteStoreStats {
    this.assertOpen();
    const events = this.db.prepare('SELECT count(*) FROM events').pluck().get() as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    let walBytes = 0;
    if (this.path !== ':memory:' && this.path !== '') {
      try {
        walBytes = statSync(`${this.path}-wal`).size;
      } catch {
        walBytes = 0;
      }
    }
    return { events, dbBytes: pages * pageSize, walBytes };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.thread?.close().catch((err: unknown) => {
        this.log.warn({ err: errorMessage(err) }, 'closing the writer thread failed');
      });
      this.db.pragma('optimize');
    } finally {
      this.cache.clear();
      this.db.close();
      this.walSync?.close();
    }
  }

  /** The rows (`columns`, starting with id and created_at) of what `filters` match, in NIP-01 order. */
  private select<R extends Keyed>(filters: readonly Filter[], options: QueryOptions, columns: string): R[] {
    this.assertOpen();
    const started = performance.now();
    const now = options.nowSeconds ?? unixSeconds(this.clock);
    const results: R[][] = [];
    for (const f of filters) {
      const limit = effectiveLimit(f.limit, options.maxLimit);
      if (limit !== 0) results.push(this.selectFilter<R>(f, limit, now, columns));
    }
    const rows = results.length <= 1 ? (results[0] ?? []) : newestFirst(dedupe(results.flat()));
    const ms = performance.now() - started;
    if (ms > this.slowQueryMs)
      this.log.warn({ ms: Math.round(ms), filters, rows: rows.length }, 'slow query');
    return rows;
  }

  private selectFilter<R extends Keyed>(
    f: Filter,
    limit: number | undefined,
    now: number,
    columns: string,
  ): R[] {
    const sql = filterSql(f, now);
    if (!sql) return [];
    const parts = fanOut(f, limit);
    if (parts && limit !== undefined) {
      return (
        this.selectWhole<R>(sql, parts.length, limit, columns) ??
        this.selectFanOut<R>(parts, limit, now, columns)
      );
    }
    return this.stmt(selectSql(sql, columns))
      .raw()
      .all(...sql.params, limit ?? -1) as R[];
  }

  /**
   * An authors × kinds filter in one statement, when it matches few rows: every matching row is read in
   * index order, unsorted, up to a bound (`parts` × `limit`, at most WHOLE_READ_CAP), and sorted here. With
   * the (pubkey, kind, created_at, id, expiration) index that reads no table row, so a feed over quiet
   * authors costs one statement instead of one or two per (author, kind). `undefined` when more rows match
   * than the bound: busy authors are read part by part (`selectFanOut`), which never reads more than
   * parts × `limit` rows however many match.
   */
  private selectWhole<R extends Keyed>(
    sql: FilterSql,
    parts: number,
    limit: number,
    columns: string,
  ): R[] | undefined {
    const bound = Math.min(parts * limit, WHOLE_READ_CAP);
    const rows = this.stmt(`SELECT ${columns} FROM ${sql.from} WHERE ${sql.where} LIMIT ?`)
      .raw()
      .all(...sql.params, bound + 1) as R[];
    if (rows.length > bound) return undefined;
    return newestFirst(rows).slice(0, limit);
  }

  /**
   * The newest `limit` over (author, kind) parts. A first round reads a share of the limit from each part;
   * only a part whose share was full and whose oldest row could still rank among the newest `limit` is read
   * again, to the full limit. When some authors are much busier than the others, that reads a few times
   * `limit` rows instead of parts × `limit`.
   */
  private selectFanOut<R extends Keyed>(
    parts: readonly Filter[],
    limit: number,
    now: number,
    columns: string,
  ): R[] {
    const share = Math.min(limit, Math.ceil((2 * limit) / parts.length));
    const got = parts.map((p) => this.selectFilter<R>(p, share, now, columns));
    let rows = newestFirst(got.flat());
    if (share < limit) {
      const cutoff = rows.length >= limit ? rows[limit - 1] : undefined;
      let again = false;
      got.forEach((part, i) => {
        const oldest = part[share - 1];
        if (!oldest || (cutoff && compareRows(oldest, cutoff) > 0)) return;
        got[i] = this.selectFilter<R>(parts[i]!, limit, now, columns);
        again = true;
      });
      if (again) rows = newestFirst(got.flat());
    }
    return rows.slice(0, limit);
  }

  private stmt(sql: string): Database.Statement {
    let st = this.cache.get(sql);
    if (st) {
      this.cache.delete(sql);
    } else {
      st = this.db.prepare(sql);
      if (this.cache.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
    }
    this.cache.set(sql, st);
    return st;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('SqliteEventStore is closed');
  }
}

function prepareReads(db: Database.Database) {
  return {
    rawBySeq: db.prepare(
      'SELECT e.seq, e.id, e.raw FROM events e WHERE e.seq IN (SELECT value FROM json_each(?))',
    ),
  };
}
