import { type Clock, systemClock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Embedder } from './embedder.ts';
import { type MigrationProgress, migrateVectors } from './migrate.ts';
import { type PruneReport, pruneMemories } from './prune.ts';
import { recallScore } from './recall.ts';
import type { Hit } from './search-sql.ts';
import type { MemoryFilter, MemoryKind, MemoryRecord } from './types.ts';
import type { NewMemory, VectorStore } from './vector-store.ts';

export interface MemoriesOptions {
  store: VectorStore;
  embedder: Embedder;
  logger: Logger;
  clock?: Clock;
  /** The half-life of an episodic memory's recency (memory.halfLifeHours); default a week. */
  halfLifeMs?: number;
  /** Reports a change of model's re-embedding. */
  onMigration?: (p: MigrationProgress) => void;
}

export interface RememberInput {
  agent: string;
  kind: MemoryKind;
  content: string;
  /** 0 to 1; default 0.5. */
  importance?: number;
  meta?: Record<string, unknown>;
}

export interface SearchResult extends Hit {
  memory: MemoryRecord;
}

export interface Recalled {
  memory: MemoryRecord;
  similarity: number;
  /** The time-weighted score (memory/recall.ts). */
  score: number;
}

export interface MemoryStats {
  path: string;
  model: string | undefined;
  dimension: number | undefined;
  total: number;
  indexed: number;
  pending: number;
  byAgent: { agent: string; kind: MemoryKind; count: number }[];
  fileBytes: number;
}

const HOUR_MS = 3_600_000;

/**
 * The memory of the agents: remember, search, recall (time-weighted), prune, over one VectorStore and one
 * Embedder. A memory is written at once and embedded right after (a memory whose embedding failed, or was cut
 * short by a stop, waits in the store and is embedded on the next `remember` or `open`). When the store's
 * vectors were made by another model, `open` starts re-embedding them in the background
 * (memory/migrate.ts); searches wait for it.
 */
export class Memories {
  readonly store: VectorStore;
  readonly embedder: Embedder;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly halfLifeMs: number;
  /** Settles when the store's vectors are the embedder's (a migration, or the first choice of model). */
  readonly ready: Promise<void>;
  private indexing: Promise<void> = Promise.resolve();

  constructor(options: MemoriesOptions) {
    this.store = options.store;
    this.embedder = options.embedder;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.halfLifeMs = options.halfLifeMs ?? 168 * HOUR_MS;
    this.ready = this.prepare(options.onMigration);
    this.ready.catch(() => {});
  }

  private async prepare(onMigration?: (p: MigrationProgress) => void): Promise<void> {
    // An embedder that knows its dimension (USE lite) is not loaded until something needs embedding.
    if (this.embedder.dimension === 0) await this.embedder.ready();
    const active = this.store.activeModel();
    const wanted = { model: this.embedder.model, dimension: this.embedder.dimension };
    if (active === undefined) this.store.useModel(wanted);
    const now = this.store.activeModel();
    if (now?.model === wanted.model && now.dimension === wanted.dimension) {
      await this.indexPending();
      return;
    }
    this.logger.info(
      { from: active?.model ?? null, to: wanted.model, memories: this.store.count() },
      'memory: re-embedding every memory with the configured model',
    );
    const n = await migrateVectors(this.store, this.embedder, {
      onProgress: (p) => {
        onMigration?.(p);
        this.logger.info({ done: p.done, total: p.total }, 'memory migration progress');
      },
    });
    this.logger.info({ model: wanted.model, reembedded: n }, 'memory migration done');
  }

  /** Stores a memory and embeds it; resolves with it once searchable. */
  async remember(input: RememberInput): Promise<MemoryRecord> {
    return (await this.rememberMany([input]))[0] as MemoryRecord;
  }

  async rememberMany(inputs: readonly RememberInput[]): Promise<MemoryRecord[]> {
    const now = this.clock.now();
    return this.embedded(this.store.insert(inputs.map((m) => newMemory(m, now))));
  }

  /**
   * Keeps one memory where there would be several: the memories matching `match` (e.g. the desk's
   * semantic memory of one customer: `{ agent, kinds: ['semantic'], meta: { customer } }`) are replaced by
   * this one, in one transaction. The same content again changes nothing (no new embedding).
   */
  async replace(match: MemoryFilter, input: RememberInput): Promise<MemoryRecord> {
    const [only, more] = this.store.find(match, 2);
    if (only && more === undefined && only.content === input.content && only.kind === input.kind) return only;
    const ids = this.store.replace(match, [newMemory(input, this.clock.now())]);
    return (await this.embedded(ids))[0] as MemoryRecord;
  }

  /** The memories matching the filter (metadata too), newest first, at most `limit` (default 100). */
  find(filter: MemoryFilter, limit = 100): MemoryRecord[] {
    return this.store.find(filter, limit);
  }

  /**
   * Deletes every memory matching the filter (e.g. `{ meta: { customer } }`: everything remembered about a
   * customer, in every namespace); returns how many. An empty filter is refused: it would forget everything.
   */
  forget(filter: MemoryFilter): number {
    const empty =
      filter.agent === undefined &&
      (filter.kinds ?? []).length === 0 &&
      filter.since === undefined &&
      filter.until === undefined &&
      Object.keys(filter.meta ?? {}).length === 0;
    if (empty) throw new Error('forget needs a filter (an agent, a kind, a time or a metadata value)');
    const ids = [...this.store.iterate(filter)].map((r) => r.id);
    this.store.delete(ids);
    return ids.length;
  }

  private async embedded(ids: readonly number[]): Promise<MemoryRecord[]> {
    await this.ready;
    await this.indexPending();
    const rows = this.store.getMany(ids);
    return ids.map((id) => rows.get(id)).filter((r): r is MemoryRecord => r !== undefined);
  }

  /** Embeds the memories that wait for a vector, a batch at a time (one run at a time). */
  indexPending(batch = 64): Promise<void> {
    const run = this.indexing.then(async () => {
      for (;;) {
        const rows = this.store.unembedded(batch);
        if (rows.length === 0) return;
        const vectors = await this.embedder.embed(rows.map((r) => r.content));
        this.store.setVectors(rows.map((r, i) => ({ id: r.id, embedding: vectors[i] as Float32Array })));
      }
    });
    this.indexing = run.catch((err: unknown) => {
      this.logger.warn({ err: errorMessage(err) }, 'memory: embedding failed; retried on the next write');
    });
    return run;
  }

  /** Nearest by meaning (binary KNN then float rerank), or hybrid with BM25 when `hybrid` is set. */
  async search(
    query: string,
    options: { k?: number; filter?: MemoryFilter; hybrid?: boolean } = {},
  ): Promise<SearchResult[]> {
    await this.ready;
    const [vector] = await this.embedder.embed([query]);
    return this.searchVector(vector as Float32Array, query, options);
  }

  /** `search` with the query already embedded (its text is used by the hybrid search only). */
  searchVector(
    vector: Float32Array,
    query: string,
    options: { k?: number; filter?: MemoryFilter; hybrid?: boolean } = {},
  ): SearchResult[] {
    const k = options.k ?? 10;
    const filter = options.filter ?? {};
    const hits: Hit[] = options.hybrid
      ? this.store.hybrid(vector, query, k, filter)
      : this.store
          .knn(vector, k, filter)
          .map((s, i) => ({ id: s.id, score: s.score, similarity: s.score, vectorRank: i + 1 }));
    const rows = this.store.getMany(hits.map((h) => h.id));
    return hits.flatMap((h) => {
      const memory = rows.get(h.id);
      return memory ? [{ ...h, memory }] : [];
    });
  }

  /**
   * The memories most worth bringing back for this query: the nearest 50 by meaning (filtered; with a list
   * of filters, the nearest 50 of each), weighed by recency and importance (memory/recall.ts), the best k;
   * each counts as recalled now.
   */
  async recall(
    query: string,
    options: { k?: number; filter?: MemoryFilter | readonly MemoryFilter[] } = {},
  ): Promise<Recalled[]> {
    await this.ready;
    const k = options.k ?? 5;
    if (k <= 0) return [];
    const [vector] = await this.embedder.embed([query]);
    // Several filters: the union of their nearest (one embedding of the query), ranked together.
    const filters: readonly MemoryFilter[] = Array.isArray(options.filter)
      ? options.filter
      : [(options.filter as MemoryFilter | undefined) ?? {}];
    const seen = new Set<number>();
    const near = filters
      .flatMap((f) => this.store.knn(vector as Float32Array, Math.max(50, k), f))
      .filter((n) => !seen.has(n.id) && seen.add(n.id) !== undefined);
    const rows = this.store.getMany(near.map((n) => n.id));
    const now = this.clock.now();
    const recalled = near
      .flatMap((n) => {
        const memory = rows.get(n.id);
        return memory
          ? [{ memory, similarity: n.score, score: recallScore(n.score, memory, now, this.halfLifeMs) }]
          : [];
      })
      .sort((a, b) => b.score - a.score || a.memory.id - b.memory.id)
      .slice(0, k);
    this.store.touch(
      recalled.map((r) => r.memory.id),
      now,
    );
    return recalled;
  }

  prune(budgetPerAgent: number, agent?: string): PruneReport {
    return pruneMemories(this.store, {
      budgetPerAgent,
      now: this.clock.now(),
      halfLifeMs: this.halfLifeMs,
      ...(agent === undefined ? {} : { agent }),
    });
  }

  /** How many memories the store holds (cheap: for metrics). */
  count(): number {
    return this.store.count();
  }

  stats(fileBytes = 0): MemoryStats {
    const active = this.store.activeModel();
    const total = this.store.count();
    const indexed = this.store.indexedCount();
    return {
      path: this.store.path,
      model: active?.model,
      dimension: active?.dimension,
      total,
      indexed,
      pending: total - indexed,
      byAgent: this.store.db
        .prepare(
          'SELECT agent, kind, count(*) AS count FROM memories GROUP BY agent, kind ORDER BY agent, kind',
        )
        .all() as { agent: string; kind: MemoryKind; count: number }[],
      fileBytes,
    };
  }

  /**
   * Stops the embedder (an embedding under way is dropped: its memories stay in the file and are embedded on
   * the next open), then closes the store.
   */
  async close(): Promise<void> {
    await this.embedder.close();
    await this.ready.catch(() => {});
    await this.indexing;
    this.store.close();
  }
}

function newMemory(m: RememberInput, now: number): NewMemory {
  return {
    agent: m.agent,
    kind: m.kind,
    content: m.content,
    importance: m.importance ?? 0.5,
    createdAt: now,
    meta: m.meta ?? {},
  };
}
