import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { GroupCommit } from './group-commit.ts';

const dir = mkdtempSync(join(tmpdir(), 'group-commit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function fresh(): { db: Database.Database; path: string; count: () => number; close: () => void } {
  const path = join(dir, `db-${n++}.sqlite`);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (x INTEGER)');
  const reader = new Database(path, { readonly: true });
  return {
    db,
    path,
    count: () => reader.prepare('SELECT count(*) FROM t').pluck().get() as number,
    close: () => {
      reader.close();
      db.close();
    },
  };
}

describe('GroupCommit', () => {
  test('the writes of one turn commit together at its end; another connection sees none before', async () => {
    const f = fresh();
    const group = new GroupCommit(f.db);
    const insert = f.db.prepare('INSERT INTO t VALUES (?)');
    for (let i = 0; i < 10; i++) {
      group.begin();
      insert.run(i);
    }
    assert.equal(f.count(), 0);
    await group.committed();
    assert.equal(f.count(), 10);
    assert.equal(group.commits, 1);
    group.begin();
    insert.run(10);
    await group.durable();
    assert.equal(f.count(), 11);
    assert.equal(group.commits, 2);
    group.close();
    f.close();
  });

  test('a db.transaction inside the turn is a savepoint: it rolls back alone', async () => {
    const f = fresh();
    const group = new GroupCommit(f.db);
    const insert = f.db.prepare('INSERT INTO t VALUES (?)');
    group.begin();
    insert.run(1);
    assert.throws(() =>
      f.db.transaction(() => {
        insert.run(2);
        throw new Error('refused');
      })(),
    );
    group.begin();
    f.db.transaction(() => insert.run(3))();
    await group.committed();
    assert.deepEqual(f.db.prepare('SELECT x FROM t ORDER BY x').pluck().all(), [1, 3]);
    group.close();
    f.close();
  });

  test('a turn rolled back by SQLite: the waiters are rejected and told; the next turn works', async () => {
    const f = fresh();
    const group = new GroupCommit(f.db);
    const lost: string[] = [];
    group.onRollback((err) => lost.push(err.message));
    group.begin();
    f.db.prepare('INSERT INTO t VALUES (1)').run();
    const waiting = group.committed();
    f.db.exec('ROLLBACK'); // as SQLite does by itself on an I/O error or a full disk
    await assert.rejects(waiting, /rolled back/);
    assert.equal(lost.length, 1);
    group.begin();
    f.db.prepare('INSERT INTO t VALUES (2)').run();
    await group.committed();
    assert.deepEqual(f.db.prepare('SELECT x FROM t').pluck().all(), [2]);
    group.close();
    f.close();
  });

  test('close commits what is open; a closed group refuses writes', () => {
    const f = fresh();
    const group = new GroupCommit(f.db);
    group.begin();
    f.db.prepare('INSERT INTO t VALUES (1)').run();
    group.close();
    assert.equal(f.count(), 1);
    assert.throws(() => group.begin(), /closed/);
    f.close();
  });
});
