/**
 * The job log's database: connection settings and the versioned schema (`PRAGMA user_version`).
 * dvm/job-log.ts is the only user.
 */
import Database from 'better-sqlite3';
import type { Logger } from '../core/logger.ts';
import { checkSchemaVersion, migrateSchema } from '../core/sqlite-migrate.ts';

/**
 * Schema migrations: entry i takes the database from `PRAGMA user_version` i to i + 1. Append, never edit.
 *
 * - `entries` is the log itself, the only source of truth: one row per entry, never updated or deleted.
 *   `seq` is the rowid, so it increases with every commit (rows are never deleted, so it is never reused);
 *   `data` is the entry's JSON, `type` repeats its type for `changesSince` and for reading the log by hand.
 * - `jobs` is a projection of the log for listing (one row per job, updated in the same transaction as the
 *   entry that changes it); `last_seq` is the seq of the job's last entry, so a cached view is known fresh
 *   when its `lastSeq` equals it. Its indexes are few on purpose (each is rewritten by most appends):
 *   `jobs_updated` serves listings newest first (a state filter walks it too), the partial `jobs_active`
 *   what a restart resumes.
 * - `outbox_pending` holds the outbox entries not yet followed by their `published` entry (a projection too),
 *   so finding what to publish after a restart does not scan the log.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE entries (
    seq INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL
  ) STRICT;
  CREATE INDEX entries_job ON entries (job_id, seq);

  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind INTEGER NOT NULL,
    customer TEXT NOT NULL,
    state TEXT NOT NULL,
    agent TEXT,
    attempt INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    reason TEXT,
    last_seq INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX jobs_updated ON jobs (updated_at, last_seq);
  CREATE INDEX jobs_active ON jobs (created_at, id) WHERE state NOT IN ('completed', 'failed', 'cancelled');

  CREATE TABLE outbox_pending (
    seq INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL,
    key TEXT NOT NULL,
    UNIQUE (job_id, key)
  ) STRICT;
  `,
  // 2: `forwarded` is terminal too (a peer desk took the job: docs/federation.md).
  `
  DROP INDEX jobs_active;
  CREATE INDEX jobs_active ON jobs (created_at, id)
    WHERE state NOT IN ('completed', 'failed', 'cancelled', 'forwarded');
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export type Synchronous = 'FULL' | 'NORMAL';

export interface OpenJobDatabaseOptions {
  readonly?: boolean;
  /** See DEFAULT_SYNCHRONOUS in dvm/job-log.ts. */
  synchronous: Synchronous;
}

/**
 * Opens (creating if needed) the job log at `path`, configured and migrated to the latest schema. Read-only
 * opens neither create nor migrate: the file must exist and be at this code's schema version.
 */
export function openJobDatabase(
  path: string,
  options: OpenJobDatabaseOptions,
  log: Logger,
): Database.Database {
  const readonly = options.readonly === true;
  const db = new Database(path, readonly ? { readonly: true, fileMustExist: true } : {});
  try {
    db.pragma('busy_timeout = 5000');
    if (!readonly) configureWriter(db, options.synchronous);
    checkVersion(db, path, readonly, log);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * The settings of a connection that writes the log (exported so that the benchmark's baseline table gets
 * exactly the same ones).
 */
export function configureWriter(db: Database.Database, synchronous: Synchronous): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('cache_size = -16384'); // 16 MiB of page cache
  // Checkpoint every ~16 MiB of WAL instead of 4 MiB: an append that lands on an automatic checkpoint
  // pays for copying pages back and fsyncing the main file; this makes that one append in ~1,000.
  db.pragma('wal_autocheckpoint = 4000');
  db.pragma('journal_size_limit = 33554432');
}

function checkVersion(db: Database.Database, path: string, readonly: boolean, log: Logger): void {
  if (!readonly) {
    migrateSchema(db, MIGRATIONS, { what: 'job log', path, log });
    return;
  }
  const version = checkSchemaVersion(db, MIGRATIONS, 'job log', path);
  if (version < SCHEMA_VERSION) {
    throw new Error(
      `${path}: job log schema version ${version} is older than this code's ${SCHEMA_VERSION}; open it once read-write (start Timmy Time) to migrate it`,
    );
  }
}
