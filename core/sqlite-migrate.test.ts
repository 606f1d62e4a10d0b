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
