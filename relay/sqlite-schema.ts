/**
 * The SQLite event store's database: connection settings, the versioned schema (`PRAGMA user_version`) and
 * the column values an event is stored under. Used by relay/sqlite-store.ts and its writer thread (relay/sqlite-writer.ts).
 */
import Database from 'better-sqlite3';
import type { Logger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { isAddressableKind, isReplaceableKind, tagValue } from '../core/nostr.ts';
import { migrateSchema } from '../core/sqlite-migrate.ts';

/**
 * Schema migrations: entry i takes the database from `PRAGMA user_version` i to i + 1. Append, never edit.
 *
 * - `events.seq` is the rowid; `raw` is the event's JSON exactly as it is returned, so reads never re-serialise.
 * - `d_tag` is the replaceable key: '' for replaceable kinds, the first `d` tag's value (or '') for
 *   addressable kinds, NULL otherwise; a unique index enforces one event per (pubkey, kind, d_tag).
 * - `tags` holds every single-letter tag (name, first value), with created_at repeated so that tag queries
 *   read the (name, value, created_at) key in time order. A trigger keeps it in step with `events`.
 * - `deleted_ids` and `deleted_coords` are NIP-09 tombstones: ids and coordinates the author deleted, so that
 *   the event is refused if it arrives (again) later.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    pubkey TEXT NOT NULL,
    kind INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    d_tag TEXT,
    expiration INTEGER,
    raw TEXT NOT NULL
  ) STRICT;
  CREATE INDEX events_created_at ON events (created_at);
  CREATE INDEX events_kind ON events (kind, created_at);
  CREATE INDEX events_pubkey_kind ON events (pubkey, kind, created_at);
  CREATE UNIQUE INDEX events_address ON events (pubkey, kind, d_tag) WHERE d_tag IS NOT NULL;
  CREATE INDEX events_expiration ON events (expiration) WHERE expiration IS NOT NULL;

  CREATE TABLE tags (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    event_seq INTEGER NOT NULL,
    PRIMARY KEY (name, value, created_at, event_seq)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX tags_event ON tags (event_seq);
  CREATE TRIGGER events_delete_tags AFTER DELETE ON events BEGIN
    DELETE FROM tags WHERE event_seq = old.seq;
  END;

  CREATE TABLE deleted_ids (
    id TEXT NOT NULL,
    pubkey TEXT NOT NULL,
    PRIMARY KEY (id, pubkey)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE deleted_coords (
    pubkey TEXT NOT NULL,
    kind INTEGER NOT NULL,
    d_tag TEXT NOT NULL,
    deleted_until INTEGER NOT NULL,
    PRIMARY KEY (pubkey, kind, d_tag)
  ) STRICT, WITHOUT ROWID;
  `,
  // 2: the (pubkey, kind, created_at) index also carries id and expiration, so the keys of an authors × kinds
  // query (id, created_at, seq, kind, the expiration test) are read from the index alone, without visiting
  // the table rows (which hold the raw JSON, and outgrow the page cache first).
  `
  DROP INDEX events_pubkey_kind;
  CREATE INDEX events_pubkey_kind ON events (pubkey, kind, created_at, id, expiration);
  `,
];

/** Opens (creating if needed) the database at `path` (or `:memory:`), configured and migrated to the latest schema. */
export function openEventDatabase(path: string, log: Logger): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // FULL: every commit fsyncs the WAL before `save` resolves. A kill -9 alone would not lose WAL-mode
    // commits even at NORMAL (the bytes are already in the OS page cache), but an OS crash or power cut
    // would lose the last ones; an event answered `OK true` must survive both. Batches amortise the one
    // fsync per transaction.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -65536'); // 64 MiB of page cache
    db.pragma('temp_store = MEMORY');
    // Checkpoint every ~40 MiB of WAL instead of 4 MiB: far fewer fsyncs and rewrites of the main file
    // during ingest (random index pages dirtied by several commits are copied back once).
    db.pragma('wal_autocheckpoint = 10000');
    db.pragma('journal_size_limit = 67108864');
    migrateSchema(db, MIGRATIONS, { what: 'event store', path, log });
    // Statistics for the query planner: analyses tables that never were or have changed a lot.
    db.pragma('optimize = 0x10002');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The `d_tag` key of a replaceable ('') or addressable (first `d` value, or '') event; undefined otherwise. */
export function replaceableKey(e: NostrEvent): string | undefined {
  if (isReplaceableKind(e.kind)) return '';
  if (isAddressableKind(e.kind)) return tagValue(e.tags, 'd') ?? '';
  return undefined;
}

/**
 * NIP-40 expiration in seconds, rounded up (so `expiration <= now` keeps its meaning for integer `now`);
 * none when the tag is missing, empty or not a number.
 */
export function expirationOf(e: NostrEvent): number | undefined {
  const v = tagValue(e.tags, 'expiration');
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) return undefined;
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(n)));
}

export function isWellFormed(e: NostrEvent): boolean {
  return (
    typeof e.id === 'string' &&
    typeof e.pubkey === 'string' &&
    typeof e.sig === 'string' &&
    typeof e.content === 'string' &&
    Number.isSafeInteger(e.created_at) &&
    Number.isSafeInteger(e.kind) &&
    Array.isArray(e.tags) &&
    e.tags.every((t) => Array.isArray(t) && t.every((x) => typeof x === 'string'))
  );
}

/** `<kind>:<pubkey>:<d>` of a NIP-09 `a` tag; only replaceable (d ignored) and addressable kinds have one. */
export function parseCoordinate(a: string): { kind: number; pubkey: string; d: string } | undefined {
  const [kindText, pubkey, ...rest] = a.split(':');
  if (kindText === undefined || pubkey === undefined || !/^\d{1,9}$/.test(kindText)) return undefined;
  const kind = Number(kindText);
  if (isReplaceableKind(kind)) return { kind, pubkey, d: '' };
  if (isAddressableKind(kind)) return { kind, pubkey, d: rest.join(':') };
  return undefined;
}
