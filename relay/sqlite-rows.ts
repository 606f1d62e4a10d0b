/**
 * Rows selected by relay/sqlite-store.ts: each starts with the event id and created_at, so the answers of
 * several filters (or fan-out parts) can be merged into the NIP-01 order however many columns they carry.
 */

/** A selected row: id and created_at first, then what was asked for. */
export type Keyed = readonly [id: string, createdAt: number, ...rest: unknown[]];
/** `query`: the event's stored JSON. */
export type Row = [id: string, createdAt: number, raw: string];
/** `openCursor`: where to read the JSON later, and the kind (for read access). */
export type KeyRow = [id: string, createdAt: number, seq: number, kind: number];

export const ROW_COLUMNS = 'e.id, e.created_at, e.raw';
export const KEY_COLUMNS = 'e.id, e.created_at, e.seq, e.kind';

export function dedupe<R extends Keyed>(rows: R[]): R[] {
  const byId = new Map<string, R>();
  for (const r of rows) byId.set(r[0], r);
  return [...byId.values()];
}

/** The NIP-01 order every query answers in: created_at descending, then id ascending. */
export function compareRows(a: Keyed, b: Keyed): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/** Sorts in place, newest first (`compareRows`). */
export function newestFirst<R extends Keyed>(rows: R[]): R[] {
  return rows.sort(compareRows);
}
