/**
 * NIP-01 filter → SQL for relay/sqlite-store.ts. Pure functions over the schema's `events` and `tags` tables,
 * so the SQL shapes can be tested without a database.
 *
 * Shapes are kept few so the store's prepared-statement cache stays small: a list of one value is `col = ?`,
 * lists of up to MAX_INLINE_VALUES values are `col IN (?, ...)` padded to a power of two (by repeating the
 * last value), and longer lists bind one JSON array through `json_each(?)`, so no filter can reach SQLite's
 * bound-variable limit however long its lists are.
 */
import { RelayError } from '../core/errors.ts';
import type { Filter } from '../core/nostr.ts';

export const MAX_INLINE_VALUES = 64;

export type SqlParam = string | number;

export interface FilterSql {
  /** FROM clause: `events e`, or `tags t JOIN events e` when the filter has a one-value tag filter. */
  from: string;
  /** Conditions for the WHERE clause, joined by AND; never empty (expiration is always tested). */
  where: string;
  /** The created_at column to ORDER BY: `t.created_at` when joined, so SQLite can walk the tag index in order. */
  createdAt: string;
  params: SqlParam[];
}

/** Tag names NIP-01 indexes: one ASCII letter. The store indexes exactly these, and `#<name>` filters use them. */
export const INDEXED_TAG_NAME = /^[a-zA-Z]$/;

/**
 * The SQL of one filter, or `undefined` when the filter can match nothing: an empty list, or a tag filter on
 * a name that is not a single letter (such tags are not indexed). Unknown fields (`search`, ...) are ignored.
 * Throws `RelayError('invalid', ...)` for a field of the wrong type.
 *
 * A tag filter with one value (`{"#e": [id]}`, the common case) becomes a join from `tags`, so that SQLite may
 * walk (name, value, created_at) newest first and stop at the limit, or drive from `events` and probe the tag
 * by its full key, whichever its statistics favour. Other tag filters become `e.seq IN (SELECT ...)`; a join
 * over several values could yield one event twice.
 */
export function filterSql(filter: Filter, nowSeconds: number): FilterSql | undefined {
  const conds = ['(e.expiration IS NULL OR e.expiration > ?)'];
  const params: SqlParam[] = [nowSeconds];

  const ids = stringList(filter.ids, 'ids');
  if (ids) {
    if (ids.length === 0) return undefined;
    conds.push(inList('e.id', ids, params));
  }
  const authors = stringList(filter.authors, 'authors');
  if (authors) {
    if (authors.length === 0) return undefined;
    conds.push(inList('e.pubkey', authors, params));
  }
  const kinds = kindList(filter.kinds);
  if (kinds) {
    if (kinds.length === 0) return undefined;
    conds.push(inList('e.kind', kinds, params));
  }
  const since = timestamp(filter.since, 'since');
  const until = timestamp(filter.until, 'until');

  const tagFilters: { name: string; values: string[] }[] = [];
  for (const key of Object.keys(filter).sort()) {
    if (!key.startsWith('#')) continue;
    const values = stringList((filter as Record<string, unknown>)[key], key);
    if (!values) continue;
    const name = key.slice(1);
    if (values.length === 0 || !INDEXED_TAG_NAME.test(name)) return undefined;
    tagFilters.push({ name, values: [...new Set(values)] });
  }
  const joined = tagFilters.find((t) => t.values.length === 1);
  const createdAt = joined ? 't.created_at' : 'e.created_at';
  if (joined) {
    conds.push('t.name = ?', 't.value = ?');
    params.push(joined.name, joined.values[0]!);
  }
  if (since !== undefined) {
    conds.push(`${createdAt} >= ?`);
    params.push(since);
  }
  if (until !== undefined) {
    conds.push(`${createdAt} <= ?`);
    params.push(until);
  }
  let n = 0;
  for (const tag of tagFilters) {
    if (tag === joined) continue;
    // The tags table repeats created_at, so since/until narrow the (name, value, created_at) key range.
    const a = `t${++n}`;
    params.push(tag.name);
    let sub = `SELECT ${a}.event_seq FROM tags ${a} WHERE ${a}.name = ? AND ${inList(`${a}.value`, tag.values, params)}`;
    if (since !== undefined) {
      sub += ` AND ${a}.created_at >= ?`;
      params.push(since);
    }
    if (until !== undefined) {
      sub += ` AND ${a}.created_at <= ?`;
      params.push(until);
    }
    conds.push(`e.seq IN (${sub})`);
  }
  const from = joined
    ? 'tags t JOIN events e ON e.seq = t.event_seq AND e.created_at = t.created_at'
    : 'events e';
  return { from, where: conds.join(' AND '), createdAt, params };
}

/**
 * The query of one filter: `columns` (by default id, created_at and raw JSON), newest first, `LIMIT ?`
 * bound last (-1: none).
 */
export function selectSql(sql: FilterSql, columns = 'e.id, e.created_at, e.raw'): string {
  return `SELECT ${columns} FROM ${sql.from} WHERE ${sql.where} ORDER BY ${sql.createdAt} DESC, e.id LIMIT ?`;
}

/** Most (author, kind) pairs `fanOut` splits a filter into. */
export const MAX_FAN_OUT = 64;

/**
 * A limited filter on a few authors and kinds (no ids, no tags), split into one filter per (author, kind).
 * Each reads at most `limit` rows in (pubkey, kind, created_at) order, so the whole costs at most
 * pairs × limit rows whether those authors have ten events or a million; one query over all the authors
 * would have to sort every matching row (or scan by time and probe) to find the newest few. The caller merges
 * the parts and cuts to the limit. `undefined` when the filter is not of that shape.
 */
export function fanOut(filter: Filter, limit: number | undefined): Filter[] | undefined {
  if (limit === undefined || filter.ids !== undefined) return undefined;
  if (Object.keys(filter).some((k) => k.startsWith('#'))) return undefined;
  const { authors, kinds } = filter;
  if (!Array.isArray(authors) || !Array.isArray(kinds)) return undefined;
  const a = [...new Set(authors)];
  const k = [...new Set(kinds)];
  const pairs = a.length * k.length;
  if (pairs < 2 || pairs > MAX_FAN_OUT) return undefined;
  return a.flatMap((author) => k.map((kind) => ({ ...filter, authors: [author], kinds: [kind] })));
}

/**
 * The number of events a filter may return: its `limit` capped by `maxLimit` (which also applies when the
 * filter has none); `undefined` for no bound. `limit: 0` (or below) is 0: the client wants no stored events.
 */
export function effectiveLimit(limit: unknown, maxLimit: number | undefined): number | undefined {
  let n: number | undefined;
  if (limit !== undefined && limit !== null) {
    if (typeof limit !== 'number' || Number.isNaN(limit))
      throw new RelayError('invalid', 'limit must be a number');
    n = Math.max(0, Math.floor(limit));
  }
  if (maxLimit !== undefined) n = n === undefined ? maxLimit : Math.min(n, maxLimit);
  return n;
}

function inList(column: string, values: readonly SqlParam[], params: SqlParam[]): string {
  const unique = [...new Set(values)];
  if (unique.length === 1) {
    params.push(unique[0]!);
    return `${column} = ?`;
  }
  if (unique.length > MAX_INLINE_VALUES) {
    params.push(JSON.stringify(unique));
    return `${column} IN (SELECT value FROM json_each(?))`;
  }
  let size = 2;
  while (size < unique.length) size *= 2;
  const last = unique[unique.length - 1]!;
  for (let i = 0; i < size; i++) params.push(unique[i] ?? last);
  return `${column} IN (${'?,'.repeat(size - 1)}?)`;
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new RelayError('invalid', `${field} must be an array of strings`);
  }
  return value as string[];
}

function kindList(value: unknown): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) {
    throw new RelayError('invalid', 'kinds must be an array of integers');
  }
  return value as number[];
}

function timestamp(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new RelayError('invalid', `${field} must be a number`);
  return value;
}
