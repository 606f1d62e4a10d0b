import type Database from 'better-sqlite3';
import type { Logger } from './logger.ts';

/**
 * Versioned SQLite schemas, one runner for every database of the project (event store, job log and
 * treasury, the agents' work log, wallet). Entry i of `migrations` takes a schema from version i to i + 1:
 * append, never edit. A step is SQL, or a function for what SQL alone cannot do (copying rows from an older
 * file). A file holds one schema versioned by `PRAGMA user_version`, or several (the desk's job log and its
 * treasury share one file, so that a job's state and its money commit together): each of those names a
 * `component`, versioned in the file's `schema_versions` table.
 */

export type Migration = string | ((db: Database.Database) => void);

export interface SchemaOptions {
  /** What the schema is, for messages ("job log"). */
  what: string;
  path: string;
  /** Versioned in `schema_versions` under this name instead of `PRAGMA user_version`. */
  component?: string;
}

function readVersion(db: Database.Database, component: string | undefined): number {
  if (component === undefined) return db.pragma('user_version', { simple: true }) as number;
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'")
    .get();
  if (!table) return 0;
  const row = db.prepare('SELECT version FROM schema_versions WHERE component = ?').get(component) as
    | { version: number }
    | undefined;
  return row?.version ?? 0;
}

function writeVersion(db: Database.Database, component: string | undefined, version: number): void {
  if (component === undefined) {
    db.pragma(`user_version = ${version}`);
    return;
  }
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT',
  );
  db.prepare(
    'INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version',
  ).run(component, version);
}

/** Refuses a file written by a newer version of the code; returns the schema's version in the file. */
export function checkSchemaVersion(
  db: Database.Database,
  migrations: readonly Migration[],
  what: string,
  path: string,
  component?: string,
): number {
  const version = readVersion(db, component);
  if (version > migrations.length) {
    throw new Error(
      `${path}: ${what} schema version ${version} is newer than this code's ${migrations.length}; upgrade Timmy Time`,
    );
  }
  return version;
}

/**
 * Brings the schema to the newest version. Each step is its own BEGIN IMMEDIATE transaction that reads the
 * version again, so two processes opening the same file at once apply every migration exactly once. Logs
 * "<what> schema migrated" with `from`/`to` per step (at debug for a new file).
 */
export function migrateSchema(
  db: Database.Database,
  migrations: readonly Migration[],
  opts: SchemaOptions & { log: Logger },
): void {
  const { component } = opts;
  if (checkSchemaVersion(db, migrations, opts.what, opts.path, component) === migrations.length) return;
  const step = db.transaction((): number | undefined => {
    const v = readVersion(db, component);
    const migration = migrations[v];
    if (migration === undefined) return undefined;
    if (typeof migration === 'string') db.exec(migration);
    else migration(db);
    writeVersion(db, component, v + 1);
    return v;
  });
  // A new file's schema is routine (debug); an existing file brought to a newer version is news (info).
  let fresh: boolean | undefined;
  for (let v = step.immediate(); v !== undefined; v = step.immediate()) {
    fresh ??= v === 0;
    const fields = { path: opts.path, from: v, to: v + 1 };
    if (fresh) opts.log.debug(fields, `${opts.what} schema migrated`);
    else opts.log.info(fields, `${opts.what} schema migrated`);
  }
}
