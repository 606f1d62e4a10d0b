import type { Filter, NostrEvent } from './nostr.ts';

/** Outcome of saving one event, in the order the events were given. */
export type SaveOutcome =
  | { status: 'saved' }
  /** Already stored (same id). NIP-01 says answer `OK true "duplicate: ..."`. */
  | { status: 'duplicate' }
  /**
   * Not stored, with a NIP-01 prefixed reason, e.g. `blocked: deleted by author` (NIP-09),
   * `invalid: event is expired` (NIP-40), `duplicate: have a newer version` (replaceable).
   */
  | { status: 'rejected'; reason: string };

/**
 * Where a relay keeps events. Implementations: relay/sqlite-store.ts (better-sqlite3, WAL) and
 * relay/memory-store.ts (the fake). Both pass tests/contracts/event-store.contract.ts.
 *
 * Semantics (NIP-01, NIP-09, NIP-40):
 * - events given to `save` are already verified (id and signature); ephemeral kinds are never given.
 * - replaceable kinds (0, 3, 10000-19999) keep only the newest per (pubkey, kind); addressable kinds
 *   (30000-39999) the newest per (pubkey, kind, d tag); on equal created_at the lowest id wins.
 * - kind 5 deletes the author's events named by `e` tags and, for `a` tags, the author's addressable events
 *   up to the deletion's created_at; a deleted id is refused when it arrives again; kind 5 is never deleted
 *   by kind 5.
 * - an event whose NIP-40 `expiration` is in the past is refused and never returned by queries.
 * - `query` answers each filter (all NIP-01 fields, including `#x` tag filters for single-letter tags),
 *   newest first (created_at desc, then id asc), each filter's `limit` applied to it, the union deduplicated.
 * - a batch is saved atomically and durably: once the promise resolves, the events survive a kill -9.
 */
export interface EventStore {
  save(events: readonly NostrEvent[]): Promise<SaveOutcome[]>;
  query(filters: readonly Filter[], options?: QueryOptions): Promise<NostrEvent[]>;
  count(filters: readonly Filter[]): Promise<number>;
  /** Removes events whose expiration is at or before `nowSeconds`; returns how many. */
  purgeExpired(nowSeconds: number): Promise<number>;
  close(): Promise<void>;
}

export interface QueryOptions {
  /** Upper bound applied to every filter's limit (and used when a filter has none). */
  maxLimit?: number;
  /** Current time in seconds, for NIP-40 (defaults to the wall clock). */
  nowSeconds?: number;
}
