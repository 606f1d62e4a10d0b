import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { MemoryLogger } from './logger.ts';
import { checkSchemaVersion, migrateSchema } from './sqlite-migrate.ts';

const V1 = 'CREATE TABLE a (x INTEGER)';
const V2 = 'ALTER TABLE a ADD COLUMN y TEXT';

test('applies each missing migration once, in order, and logs each step', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'timmy-migrate-'));
  const path = join(dir, 'x.sqlite');
  try {
    const log = new MemoryLogger();
    const first = new Database(path);
    migrateSchema(first, [V1], { what: 'thing', path, log });
    first.close();
    // A second connection (another process, say) opened before the upgrade runs it too: applied once.
    const a = new Database(path);
    const b = new Database(path);
    migrateSchema(a, [V1, V2], { what: 'thing', path, log });
    migrateSchema(b, [V1, V2], { what: 'thing', path, log });
    assert.equal(a.pragma('user_version', { simple: true }), 2);
    assert.deepEqual(
      (a.prepare('PRAGMA table_info(a)').all() as { name: string }[]).map((c) => c.name),
      ['x', 'y'],
    );
    assert.deepEqual(
      log.records.filter((r) => r.msg === 'thing schema migrated').map((r) => [r.fields.from, r.fields.to]),
      [
        [0, 1],
        [1, 2],
      ],
    );
    a.close();
    b.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('refuses a file of a newer version with a message that says what to do', () => {
  const db = new Database(':memory:');
  db.pragma('user_version = 3');
  assert.throws(
    () => migrateSchema(db, [V1, V2], { what: 'thing', path: 'x.sqlite', log: new MemoryLogger() }),
    /x\.sqlite: thing schema version 3 is newer than this code's 2; upgrade Timmy Time/,
  );
  assert.throws(() => checkSchemaVersion(db, [V1], 'thing', 'x.sqlite'), /newer/);
  db.close();
});

test('two components share a file, each with its own version; a step may be a function', () => {
  const db = new Database(':memory:');
  const log = new MemoryLogger();
  migrateSchema(db, [V1], { what: 'main', path: 'x.sqlite', log });
  const copy = (d: Database.Database): void => {
    d.exec('CREATE TABLE b (z INTEGER)');
    d.prepare('INSERT INTO b (z) SELECT x FROM a').run();
  };
  db.prepare('INSERT INTO a (x) VALUES (7)').run();
  migrateSchema(db, ['CREATE TABLE c (w TEXT)', copy], {
    what: 'side',
    path: 'x.sqlite',
    component: 'side',
    log,
  });
  // Applied once: a second run changes nothing.
  migrateSchema(db, ['CREATE TABLE c (w TEXT)', copy], {
    what: 'side',
    path: 'x.sqlite',
    component: 'side',
    log,
  });
  assert.equal(db.pragma('user_version', { simple: true }), 1, 'the main schema keeps user_version');
  assert.deepEqual(db.prepare('SELECT component, version FROM schema_versions').all(), [
    { component: 'side', version: 2 },
  ]);
  assert.deepEqual(db.prepare('SELECT z FROM b').all(), [{ z: 7 }]);
  assert.equal(checkSchemaVersion(db, [V1, V2], 'side', 'x.sqlite', 'side'), 2);
  assert.throws(
    () => checkSchemaVersion(db, [V1], 'side', 'x.sqlite', 'side'),
    /side schema version 2 is newer/,
  );
  // A step that throws leaves its schema where it was.
  assert.throws(() =>
    migrateSchema(db, [V1, V2, 'CREATE TABLE oops (', V2], { what: 'main', path: 'x.sqlite', log }),
  );
  assert.equal(db.pragma('user_version', { simple: true }), 2, 'steps before the bad one are kept');
  db.close();
});
