import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { WalSync } from './wal-sync.ts';

const dir = mkdtempSync(join(tmpdir(), 'wal-sync-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function walDb(): { db: Database.Database; path: string } {
  const path = join(dir, `db-${n++}.sqlite`);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (x INTEGER)');
  return { db, path };
}

describe('WalSync', () => {
  test('the callers of one event-loop turn share one fsync', async () => {
    const { db, path } = walDb();
    const sync = new WalSync(path);
    try {
      const waits: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) {
        db.prepare('INSERT INTO t VALUES (?)').run(i);
        waits.push(sync.durable());
      }
      await Promise.all(waits);
      assert.equal(sync.syncs, 1);
      await sync.durable();
      assert.equal(sync.syncs, 2, 'a later turn gets an fsync of its own');
    } finally {
      sync.close();
      db.close();
    }
  });

  test('a caller that comes while an fsync runs waits for the next one', async () => {
    const { db, path } = walDb();
    const sync = new WalSync(path);
    try {
      db.prepare('INSERT INTO t VALUES (1)').run();
      const first = sync.durable();
      // Let the first fsync start (it is scheduled at the end of the turn), then ask again.
      await new Promise((r) => setImmediate(r));
      db.prepare('INSERT INTO t VALUES (2)').run();
      let secondDone = false;
      const second = sync.durable().then(() => {
        secondDone = true;
      });
      await first;
      assert.equal(sync.syncs, 1);
      await second;
      assert.ok(secondDone);
      assert.equal(sync.syncs, 2);
    } finally {
      sync.close();
      db.close();
    }
  });

  test('nothing to sync: an in-memory database, or a file without a WAL yet', async () => {
    const memory = new WalSync(':memory:');
    await memory.durable();
    assert.equal(memory.syncs, 0);
    const none = new WalSync(join(dir, 'never-opened.sqlite'));
    await none.durable();
    assert.equal(none.syncs, 0);
    none.close();
  });

  test('closed: durable() rejects with the reason, also for a caller waiting on the next fsync', async () => {
    const { db, path } = walDb();
    const sync = new WalSync(path);
    db.prepare('INSERT INTO t VALUES (1)').run();
    const first = sync.durable();
    await new Promise((r) => setImmediate(r));
    const late = sync.durable();
    sync.close();
    await first;
    await assert.rejects(late, /closed/);
    await assert.rejects(sync.durable(), /closed/);
    db.close();
  });
});
