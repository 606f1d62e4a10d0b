import type Database from 'better-sqlite3';
import type { Logger } from './logger.ts';

/**
 * Versioned SQLite schemas (`PRAGMA user_version`), one runner for every database of the instance (event
 * store, job log, wallet). Entry i of `migrations` takes a file from version i to i + 1: append, never edit.
 */

/** Refuses a file written by a newer version of the code; returns the file's version. */
export function checkSchemaVersion(
  db: Database.Database,
  migrations: readonly string[],
  what: string,
  path: string,
): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > migrations.length) {
    throw new Error(
      `${path}: ${what} schema version ${version} is newer than this code's ${migrations.length}; upgrade Timmy Time`,
    );
  }
  return version;
}

/**
 * Brings the file to the newest version. Each step is its own BEGIN IMMEDIATE transaction that reads the
 * version again, so two processes opening the same file at once apply every migration exactly once. Logs
 * "<what> schema migrated" with `from`/`to` per step.
 */
export function migrateSchema(
  db: Database.Database,
  migrations: readonly string[],
  opts: { what: string; path: string; log: Logger },
): void {
  if (checkSchemaVersion(db, migrations, opts.what, opts.path) === migrations.length) return;
  const step = db.transaction((): number | undefined => {
    const v = db.pragma('user_version', { simple: true }) as number;
    const sql = migrations[v];
    if (sql === undefined) return undefined;
    db.exec(sql);
    db.pragma(`user_version = ${v + 1}`);
    return v;
  });
  for (let v = step.immediate(); v !== undefined; v = step.immediate()) {
    opts.log.info({ path: opts.path, from: v, to: v + 1 }, `${opts.what} schema migrated`);
  }
}
