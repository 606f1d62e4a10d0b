import type { MemoryFilter } from './types.ts';

/** A memory id with a score (higher is better). */
export interface Scored {
  id: number;
  score: number;
}

/** A fused result: the fused score and the memory's rank in each list (undefined where it was absent). */
export interface Hit {
  id: number;
  score: number;
  vectorRank?: number;
  textRank?: number;
  /** The cosine similarity, when the vector search found it. */
  similarity?: number;
}

/** The reciprocal-rank-fusion constant (Cormack et al. 2009): a result's weight is 1 / (RRF_K + rank). */
export const RRF_K = 60;

/** A metadata key a filter may name: a plain identifier (it is written into the SQL's JSON path). */
const META_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The filter as `AND …` SQL over the columns agent, kind and created_at (which the memories table and the
 * vec0 table both have), and, on the memories table only, the metadata values (`json_extract(meta, '$.key')`,
 * the expression `memories_by_customer` indexes for `customer`). Integers are bound as BigInt: vec0's integer
 * metadata columns refuse doubles.
 */
export function filterSql(
  filter: MemoryFilter,
  table: 'memories' | 'memory_vec',
): {
  sql: string;
  params: (string | bigint)[];
} {
  const parts: string[] = [];
  const params: (string | bigint)[] = [];
  if (filter.agent !== undefined) {
    parts.push('agent = ?');
    params.push(filter.agent);
  }
  if (filter.kinds !== undefined && filter.kinds.length > 0) {
    parts.push(`kind IN (${filter.kinds.map(() => '?').join(', ')})`);
    params.push(...filter.kinds);
  }
  if (filter.since !== undefined) {
    parts.push('created_at >= ?');
    params.push(BigInt(Math.round(filter.since)));
  }
  if (filter.until !== undefined) {
    parts.push('created_at < ?');
    params.push(BigInt(Math.round(filter.until)));
  }
  for (const [key, value] of Object.entries(filter.meta ?? {})) {
    if (table !== 'memories') throw new Error('a metadata filter applies to the memories table only');
    if (!META_KEY.test(key))
      throw new Error(`a metadata key must be an identifier, not ${JSON.stringify(key)}`);
    parts.push(`json_extract(meta, '$.${key}') = ?`);
    params.push(typeof value === 'number' ? BigInt(Math.round(value)) : value);
  }
  return { sql: parts.map((p) => `AND ${p}`).join(' '), params };
}

/**
 * A person's words as an FTS5 query: each word quoted (so nothing in it is FTS syntax), joined by OR, so
 * BM25 ranks the memories sharing the most (and rarest) words first.
 */
export function textQuery(text: string): string {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)]
    .slice(0, 32)
    .map((w) => `"${w}"`)
    .join(' OR ');
}

/**
 * Reciprocal rank fusion of the vector list and the BM25 list (both best first):
 * score = 1 / (RRF_K + vectorRank) + 1 / (RRF_K + textRank), ranks from 1, a missing term 0.
 */
export function fusedRanks(vector: readonly Scored[], text: readonly Scored[]): Hit[] {
  const hits = new Map<number, Hit>();
  vector.forEach((s, i) => {
    hits.set(s.id, { id: s.id, score: 1 / (RRF_K + i + 1), vectorRank: i + 1, similarity: s.score });
  });
  text.forEach((s, i) => {
    const hit = hits.get(s.id) ?? { id: s.id, score: 0 };
    hit.score += 1 / (RRF_K + i + 1);
    hit.textRank = i + 1;
    hits.set(s.id, hit);
  });
  return [...hits.values()].sort((a, b) => b.score - a.score || a.id - b.id);
}
