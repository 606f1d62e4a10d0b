import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { arch, platform } from 'node:process';
import Database from 'better-sqlite3';
import { getLoadablePath } from 'sqlite-vec';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { migrateSchema } from '../core/sqlite-migrate.ts';
import { dot, vectorBytes, vectorFromBytes } from './embedder.ts';
import { filterSql, fusedRanks, type Hit, type Scored, textQuery } from './search-sql.ts';
import { MEMORY_MIGRATIONS, vectorTableSql } from './store-schema.ts';
import type { MemoryFilter, MemoryKind, MemoryRecord } from './types.ts';

export interface VectorStoreOptions {
  /** The SQLite file (":memory:" for a private one). */
  path: string;
  logger: Logger;
  /** The sqlite-vec loadable extension; default the one the sqlite-vec npm package ships for this platform. */
  extensionPath?: string;
  /** How long a writer waits for another connection's write (default 10 s). */
  busyTimeoutMs?: number;
}

/** The memory file cannot be used: the sqlite-vec extension is missing or broken, a model mismatch. */
export class VectorStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VectorStoreError';
  }
}

export interface NewMemory {
  agent: string;
  kind: MemoryKind;
  content: string;
  importance: number;
  createdAt: number;
  accessedAt?: number;
  accessCount?: number;
  meta?: Record<string, unknown>;
  /** A vector of the active model, when the caller has it (an import of the same model). */
  embedding?: Float32Array;
}

export interface ActiveModel {
  model: string;
  dimension: number;
}

interface Row {
  id: number;
  agent: string;
  kind: string;
  content: string;
  content_hash: string;
  importance: number;
  created_at: number;
  accessed_at: number;
  access_count: number;
  meta: string;
  model: string | null;
  dimension: number | null;
}

const COLUMNS =
  'id, agent, kind, content, content_hash, importance, created_at, accessed_at, access_count, meta, model, dimension';

export function contentHash(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

function toRecord(r: Row): MemoryRecord {
  return {
    id: r.id,
    agent: r.agent,
    kind: r.kind as MemoryKind,
    content: r.content,
    contentHash: r.content_hash,
    importance: r.importance,
    createdAt: r.created_at,
    accessedAt: r.accessed_at,
    accessCount: r.access_count,
    meta: JSON.parse(r.meta) as Record<string, unknown>,
    model: r.model,
    dimension: r.dimension,
  };
}

/** How much of the memory file is read through mmap (virtual address space; the pages are the OS's cache). */
const MMAP_BYTES = 2 ** 30;

/**
 * The binary first pass's candidates for a search of k: max(50, 5k), or max(100, 10k) within one agent's
 * memories. On the benchmark's data (docs/benchmarks.md, "Memory"), 50 give a recall@10 of 0.97-0.99 at
 * 10K-100K after the rerank (100: 0.99-1.000 at about twice the KNN's time), but 0.91 within one agent of
 * ten at 10K, whose nearest are farther apart; at 1M they are too few: pass more.
 */
export function defaultCandidates(k: number, filter: MemoryFilter = {}): number {
  return filter.agent === undefined ? Math.max(50, 5 * k) : Math.max(100, 10 * k);
}

/** The path of the sqlite-vec extension, with a clear error when the package for this platform is missing. */
export function sqliteVecPath(explicit?: string): string {
  let path = explicit;
  if (path === undefined) {
    try {
      path = getLoadablePath();
    } catch (err) {
      throw new VectorStoreError(
        `the sqlite-vec extension is missing (${errorMessage(err)}); install it with \`npm install sqlite-vec\` (its package sqlite-vec-${platform === 'win32' ? 'windows' : platform}-${arch} carries vec0)`,
      );
    }
  }
  if (!existsSync(path))
    throw new VectorStoreError(
      `the sqlite-vec extension is missing: no file at ${path}; reinstall it with \`npm install sqlite-vec\``,
    );
  return path;
}

/**
 * Memories on better-sqlite3 + sqlite-vec: a row per memory (content, metadata, its float32 vector and the
 * model that made it), FTS5 over the content, and a vec0 table of binary-quantized vectors (one bit per
 * dimension) for the first pass of a search. A search takes the nearest candidates by Hamming distance
 * (filtered by agent, kind and time inside the KNN), then reranks them by the exact cosine of their float
 * vectors. Several connections (processes, agents) may write at once: WAL, each write its own immediate
 * transaction, a busy timeout.
 */
export class VectorStore {
  readonly path: string;
  readonly db: Database.Database;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
  }

  static open(options: VectorStoreOptions): VectorStore {
    const extension = sqliteVecPath(options.extensionPath);
    const db = new Database(options.path);
    try {
      try {
        db.loadExtension(extension);
        db.prepare('SELECT vec_version()').get();
      } catch (err) {
        throw new VectorStoreError(
          `the sqlite-vec extension at ${extension} cannot be loaded (${errorMessage(err)}): the file is corrupt or not for this platform; reinstall it with \`npm install sqlite-vec\``,
        );
      }
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
      if (options.path !== ':memory:') {
        db.pragma('journal_mode = WAL');
        // The search reads every bit vector (vec0's chunks) once a query: mapped, not copied through
        // SQLite's page cache (docs/benchmarks.md, "Memory": a third off a search at 100K).
        db.pragma(`mmap_size = ${MMAP_BYTES}`);
      }
      db.pragma('synchronous = NORMAL');
      migrateSchema(db, MEMORY_MIGRATIONS, { what: 'memory', path: options.path, log: options.logger });
      return new VectorStore(options.path, db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** The model whose vectors the search table holds, once one was chosen. */
  activeModel(): ActiveModel | undefined {
    const model = this.setting('model');
    const dimension = this.setting('dimension');
    return model === undefined || dimension === undefined
      ? undefined
      : { model, dimension: Number(dimension) };
  }

  /** Chooses the model of an empty store (creates its search table); the same model again is a no-op. */
  useModel(active: ActiveModel): void {
    this.db
      .transaction(() => {
        const now = this.activeModel();
        if (now && (now.model !== active.model || now.dimension !== active.dimension))
          throw new VectorStoreError(
            `${this.path} holds vectors of ${now.model} (${now.dimension}-d), not ${active.model} (${active.dimension}-d): migrate them (timmy memory migrate)`,
          );
        if (!now) this.createVectorTable(active);
      })
      .immediate();
  }

  /** Creates the search table for a model and records it as active (inside the caller's transaction). */
  createVectorTable(active: ActiveModel): void {
    if (active.dimension % 8 !== 0 || active.dimension <= 0)
      throw new VectorStoreError(`a dimension of ${active.dimension}: must be a positive multiple of 8`);
    this.db.exec('DROP TABLE IF EXISTS memory_vec');
    this.db.exec(vectorTableSql(active.dimension));
    this.setSetting('model', active.model);
    this.setSetting('dimension', String(active.dimension));
  }

  setting(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM memory_settings WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  setSetting(key: string, value: string | undefined): void {
    if (value === undefined) this.db.prepare('DELETE FROM memory_settings WHERE key = ?').run(key);
    else
      this.db
        .prepare(
          'INSERT INTO memory_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        )
        .run(key, value);
  }

  /** Adds memories (one transaction); returns their ids. Those without a vector wait in `unembedded`. */
  insert(items: readonly NewMemory[]): number[] {
    const insert = this.db.prepare(
      `INSERT INTO memories (agent, kind, content, content_hash, importance, created_at, accessed_at, access_count, meta)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    return this.db
      .transaction(() => {
        const ids: number[] = [];
        const withVectors: { id: number; embedding: Float32Array }[] = [];
        for (const m of items) {
          const id = Number(
            insert.run(
              m.agent,
              m.kind,
              m.content,
              contentHash(m.content),
              Math.min(1, Math.max(0, m.importance)),
              Math.round(m.createdAt),
              Math.round(m.accessedAt ?? m.createdAt),
              m.accessCount ?? 0,
              JSON.stringify(m.meta ?? {}),
            ).lastInsertRowid,
          );
          ids.push(id);
          if (m.embedding) withVectors.push({ id, embedding: m.embedding });
        }
        if (withVectors.length > 0) this.writeVectors(withVectors);
        return ids;
      })
      .immediate();
  }

  /** Stores the active model's vectors of these memories (one transaction); a memory deleted since is skipped. */
  setVectors(items: readonly { id: number; embedding: Float32Array }[]): void {
    this.db.transaction(() => this.writeVectors(items)).immediate();
  }

  private writeVectors(items: readonly { id: number; embedding: Float32Array }[]): void {
    const active = this.activeModel();
    if (!active) throw new VectorStoreError('no embedding model chosen for this memory file yet');
    const update = this.db.prepare(
      'UPDATE memories SET model = ?, dimension = ?, embedding = ? WHERE id = ? RETURNING agent, kind, created_at',
    );
    const del = this.db.prepare('DELETE FROM memory_vec WHERE rowid = ?');
    const ins = this.db.prepare(
      'INSERT INTO memory_vec (rowid, embedding, agent, kind, created_at) VALUES (?, vec_quantize_binary(vec_f32(?)), ?, ?, ?)',
    );
    for (const { id, embedding } of items) {
      if (embedding.length !== active.dimension)
        throw new VectorStoreError(
          `a vector of ${embedding.length} dimensions for a store of ${active.model} (${active.dimension}-d)`,
        );
      const bytes = vectorBytes(embedding);
      const row = update.get(active.model, active.dimension, bytes, id) as
        | { agent: string; kind: string; created_at: number }
        | undefined;
      if (!row) continue;
      del.run(BigInt(id));
      ins.run(BigInt(id), bytes, row.agent, row.kind, BigInt(row.created_at));
    }
  }

  /** Memories waiting for a vector of the active model, oldest first. */
  unembedded(limit: number): { id: number; content: string }[] {
    const active = this.activeModel();
    return this.db
      .prepare(
        'SELECT id, content FROM memories WHERE embedding IS NULL OR model IS NOT ? OR dimension IS NOT ? ORDER BY id LIMIT ?',
      )
      .all(active?.model ?? null, active?.dimension ?? null, limit) as { id: number; content: string }[];
  }

  get(id: number): MemoryRecord | undefined {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM memories WHERE id = ?`).get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  getMany(ids: readonly number[]): Map<number, MemoryRecord> {
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM memories WHERE id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(ids)) as Row[];
    return new Map(rows.map((r) => [r.id, toRecord(r)]));
  }

  /** The float vector of a memory (undefined while unembedded). */
  vector(id: number): Float32Array | undefined {
    const row = this.db.prepare('SELECT embedding FROM memories WHERE id = ?').get(id) as
      | { embedding: Buffer | null }
      | undefined;
    return row?.embedding ? vectorFromBytes(row.embedding) : undefined;
  }

  /** Every memory matching the filter, in id order, read in pages (for export, pruning). */
  *iterate(
    filter: MemoryFilter = {},
    page = 1000,
  ): Generator<MemoryRecord & { embedding: Float32Array | null }> {
    const f = filterSql(filter, 'memories');
    let after = 0;
    const stmt = this.db.prepare(
      `SELECT ${COLUMNS}, embedding FROM memories WHERE id > ? ${f.sql} ORDER BY id LIMIT ?`,
    );
    for (;;) {
      const rows = stmt.all(after, ...f.params, page) as (Row & { embedding: Buffer | null })[];
      for (const r of rows)
        yield { ...toRecord(r), embedding: r.embedding ? vectorFromBytes(r.embedding) : null };
      if (rows.length < page) return;
      after = (rows[rows.length - 1] as Row).id;
    }
  }

  count(filter: MemoryFilter = {}): number {
    const f = filterSql(filter, 'memories');
    return (
      this.db.prepare(`SELECT count(*) AS n FROM memories WHERE 1 = 1 ${f.sql}`).get(...f.params) as {
        n: number;
      }
    ).n;
  }

  /** Rows of the search table (embedded memories of the active model). */
  indexedCount(): number {
    if (!this.activeModel()) return 0;
    return (this.db.prepare('SELECT count(*) AS n FROM memory_vec').get() as { n: number }).n;
  }

  /** Deletes memories (and their vectors) in one transaction. */
  delete(ids: readonly number[]): void {
    if (ids.length === 0) return;
    const hasVec = this.activeModel() !== undefined;
    const del = this.db.prepare('DELETE FROM memories WHERE id = ?');
    const delVec = hasVec ? this.db.prepare('DELETE FROM memory_vec WHERE rowid = ?') : undefined;
    this.db
      .transaction(() => {
        for (const id of ids) {
          del.run(id);
          delVec?.run(BigInt(id));
        }
      })
      .immediate();
  }

  /** The memories matching the filter (metadata included), newest first, at most `limit`. */
  find(filter: MemoryFilter, limit: number): MemoryRecord[] {
    const f = filterSql(filter, 'memories');
    return (
      this.db
        .prepare(
          `SELECT ${COLUMNS} FROM memories WHERE 1 = 1 ${f.sql} ORDER BY created_at DESC, id DESC LIMIT ?`,
        )
        .all(...f.params, limit) as Row[]
    ).map(toRecord);
  }

  /**
   * Deletes the memories matching `filter` and adds `items`, in one transaction (one memory kept up to date
   * rather than a new one each time); returns the new ids.
   */
  replace(filter: MemoryFilter, items: readonly NewMemory[]): number[] {
    const f = filterSql(filter, 'memories');
    const select = this.db.prepare(`SELECT id FROM memories WHERE 1 = 1 ${f.sql}`);
    return this.db
      .transaction(() => {
        this.delete((select.all(...f.params) as { id: number }[]).map((r) => r.id));
        return this.insert(items);
      })
      .immediate();
  }

  /** Marks memories recalled now: accessed_at and access_count. */
  touch(ids: readonly number[], at: number): void {
    if (ids.length === 0) return;
    this.db
      .prepare(
        'UPDATE memories SET accessed_at = ?, access_count = access_count + 1 WHERE id IN (SELECT value FROM json_each(?))',
      )
      .run(Math.round(at), JSON.stringify(ids));
  }

  update(id: number, fields: { importance?: number; accessCount?: number; accessedAt?: number }): void {
    const row = this.get(id);
    if (!row) return;
    this.db
      .prepare('UPDATE memories SET importance = ?, access_count = ?, accessed_at = ? WHERE id = ?')
      .run(
        Math.min(1, Math.max(0, fields.importance ?? row.importance)),
        fields.accessCount ?? row.accessCount,
        Math.round(fields.accessedAt ?? row.accessedAt),
        id,
      );
  }

  /**
   * The k nearest memories to a unit vector: `candidates` by Hamming distance over the binary vectors
   * (filtered inside the KNN), reranked by the cosine of their float vectors. Default candidates:
   * `defaultCandidates` (vec0's KNN costs about linearly in them).
   */
  knn(query: Float32Array, k: number, filter: MemoryFilter = {}, candidates?: number): Scored[] {
    if (!this.activeModel() || k <= 0) return [];
    // The vec0 table has no metadata: those few memories (one customer's) are ranked exactly.
    if (filter.meta !== undefined && Object.keys(filter.meta).length > 0)
      return this.exactKnn(query, k, filter);
    const n = Math.max(k, candidates ?? defaultCandidates(k, filter));
    const f = filterSql(filter, 'memory_vec');
    const first = this.db
      .prepare(
        `SELECT rowid AS id FROM memory_vec WHERE embedding MATCH vec_quantize_binary(vec_f32(?)) AND k = ? ${f.sql}`,
      )
      .all(vectorBytes(query), n, ...f.params) as { id: number }[];
    if (first.length === 0) return [];
    const rows = this.db
      .prepare('SELECT id, embedding FROM memories WHERE id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(first.map((r) => Number(r.id)))) as { id: number; embedding: Buffer }[];
    return rows
      .map((r) => ({ id: r.id, score: dot(query, vectorFromBytes(r.embedding)) }))
      .sort((a, b) => b.score - a.score || a.id - b.id)
      .slice(0, k);
  }

  /** The exact k nearest by float cosine over every matching memory (the benchmark's reference). */
  exactKnn(query: Float32Array, k: number, filter: MemoryFilter = {}): Scored[] {
    const f = filterSql(filter, 'memories');
    const top: Scored[] = [];
    const stmt = this.db.prepare(`SELECT id, embedding FROM memories WHERE embedding IS NOT NULL ${f.sql}`);
    for (const r of stmt.iterate(...f.params) as Iterable<{ id: number; embedding: Buffer }>) {
      const v = new Float32Array(r.embedding.buffer, r.embedding.byteOffset, r.embedding.byteLength / 4);
      const score = dot(query, v);
      if (top.length < k || score > (top[top.length - 1] as Scored).score) {
        top.push({ id: r.id, score });
        top.sort((a, b) => b.score - a.score || a.id - b.id);
        if (top.length > k) top.pop();
      }
    }
    return top;
  }

  /** Full-text matches (FTS5, BM25: lower is better, so the score is its negation), best first. */
  textSearch(text: string, k: number, filter: MemoryFilter = {}): Scored[] {
    const q = textQuery(text);
    if (q === '' || k <= 0) return [];
    const f = filterSql(filter, 'memories');
    const rows = this.db
      .prepare(
        `SELECT memories.id AS id, bm25(memories_fts) AS rank FROM memories_fts JOIN memories ON memories.id = memories_fts.rowid
         WHERE memories_fts MATCH ? ${f.sql} ORDER BY rank LIMIT ?`,
      )
      .all(q, ...f.params, k) as { id: number; rank: number }[];
    return rows.map((r) => ({ id: r.id, score: -r.rank }));
  }

  /** Vector and full-text results fused by reciprocal rank (docs/memory.md), best first. */
  hybrid(query: Float32Array, text: string, k: number, filter: MemoryFilter = {}): Hit[] {
    const depth = Math.max(50, 5 * k);
    return fusedRanks(this.knn(query, depth, filter), this.textSearch(text, depth, filter)).slice(0, k);
  }
}
