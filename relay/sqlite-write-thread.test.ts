import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { MemoryLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { SqliteEventStore, writerThreadFor } from './sqlite-store.ts';
import { WriteThread } from './sqlite-write-thread.ts';

const dir = mkdtempSync(join(tmpdir(), 'timmy-write-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const sk = generateSecretKey();
const now = () => Math.floor(Date.now() / 1000);
function sign(kind: number, tags: string[][] = [], content = ''): NostrEvent {
  const { id, pubkey, created_at, sig } = finalizeEvent({ kind, created_at: now(), tags, content }, sk);
  return { id, pubkey, created_at, kind, tags, content, sig };
}

test('saves go through the writer thread and are readable on the store’s own connection once resolved', async () => {
  const store = new SqliteEventStore({ path: join(dir, 'a.db') });
  try {
    await store.ready();
    const a = sign(1, [['t', 'x']], 'a');
    const expiring = sign(1, [['expiration', String(now() + 3600)]]);
    assert.deepEqual(await store.save([a, expiring, a]), [
      { status: 'saved' },
      { status: 'saved' },
      { status: 'duplicate' },
    ]);
    assert.deepEqual(
      (await store.query([{ '#t': ['x'] }])).map((e) => e.id),
      [a.id],
    );
    const bad = { ...sign(1), created_at: 1.5 } as NostrEvent;
    assert.deepEqual(await store.save([bad]), [{ status: 'rejected', reason: 'invalid: malformed event' }]);
    assert.equal(await store.purgeExpired(now() + 7200), 1);
    assert.deepEqual(
      (await store.query([{}])).map((e) => e.id),
      [a.id],
    );
  } finally {
    await store.close();
  }
});

test('a writer thread that cannot open its database fails its requests with the reason, and says it failed', async () => {
  const log = new MemoryLogger();
  const thread = new WriteThread(dir, log); // a directory, not a database file
  await thread.ready();
  assert.equal(thread.failed, true);
  await assert.rejects(thread.save(['{}'], now()), /writer thread/);
  assert.ok(log.records.some((r) => r.msg.includes('writer thread stopped')));
  await thread.close();
});

test('with writerThread: false the store saves on its own thread, each save resolved after an fsync', async () => {
  const store = new SqliteEventStore({ path: join(dir, 'b.db'), writerThread: false });
  const internals = store as unknown as {
    db: { pragma(sql: string, o: { simple: true }): unknown };
    walSync: { syncs: number };
  };
  try {
    // NORMAL: the commit does not fsync on the event loop; the group fdatasync on the thread pool does.
    assert.equal(internals.db.pragma('synchronous', { simple: true }), 1);
    const e = sign(1);
    assert.deepEqual(await store.save([e]), [{ status: 'saved' }]);
    assert.equal(internals.walSync.syncs, 1);
    // Saves of one turn share one fsync; a duplicate waits for the disk too.
    const [a, b] = await Promise.all([store.save([sign(1, [], 'x')]), store.save([e])]);
    assert.deepEqual([a, b], [[{ status: 'saved' }], [{ status: 'duplicate' }]]);
    assert.equal(internals.walSync.syncs, 2);
    assert.deepEqual(
      (await store.query([{ ids: [e.id] }])).map((x) => x.id),
      [e.id],
    );
  } finally {
    await store.close();
  }
});

test('relay.writerThread: on and off are obeyed; auto uses the thread only with a core to spare', () => {
  assert.equal(writerThreadFor('on', 1), true);
  assert.equal(writerThreadFor('off', 64), false);
  assert.equal(writerThreadFor('auto', 2), false);
  assert.equal(writerThreadFor('auto', 4), true);
});
