import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteEventStore } from '../../relay/sqlite-store.ts';
import { RawClient, TestKey, until } from '../../testkit/raw-client.ts';
import { frame, upgradedSocket } from '../../testkit/raw-socket.ts';
import { startTestRelay } from '../../testkit/relay.ts';

/**
 * Finding 3 of issue 12: ~600 stored 120 KB events, then a socket that never reads sends 150 ×
 * `["REQ","same",{"kinds":[1],"limit":1000}]`: every answer was materialised and held while waiting for the
 * socket to drain, and a replaced subscription kept its answer: 229 MB → 2 GB → out of memory. Stored
 * events are now streamed, one query at a time per connection, within a per-connection budget of bytes
 * queued to the socket, and a replaced subscription lets go of its answer.
 *
 * The bound: the relay runs in this process, so its memory is this process's. Before the fix the same
 * traffic grows it by well over 1 GB (each REQ holds 25 MB of parsed events); the bound leaves room for a
 * few MiB queued per slow socket, the garbage of the streamed events, and a busy machine's lazy GC.
 */
const EVENTS = 250;
const EVENT_BYTES = 100_000;
const SLOW_SOCKETS = 4;
const REQS_PER_SOCKET = 15;
const MAX_GROWTH_BYTES = 200 * 1024 * 1024;

test('slow readers asking for large stored answers do not grow the relay memory', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'timmy-relay-memory-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = new SqliteEventStore({ path: join(dir, 'relay.sqlite') });
  const author = new TestKey();
  const now = Math.floor(Date.now() / 1000);
  const big = 'x'.repeat(EVENT_BYTES);
  for (let i = 0; i < EVENTS; i += 50) {
    await store.save(
      Array.from({ length: 50 }, (_, j) =>
        author.sign({ content: `${big}${i + j}`, created_at: now - i - j }),
      ),
    );
  }
  const relay = await startTestRelay({
    store,
    slowReaderTimeoutMs: 2000,
    limits: { eventsPerSecond: 10_000, eventsBurst: 10_000 },
  });
  t.after(() => relay.close());
  const witness = await RawClient.connect(relay.url);
  t.after(() => witness.close());
  // Warm up (page cache, code paths): the whole answer once, read by a client that reads.
  assert.equal((await witness.query('all', { kinds: [1], limit: 1000 })).length, EVENTS);

  const base = process.memoryUsage().rss;
  let peak = base;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const sampler = setInterval(sample, 10);
  t.after(() => clearInterval(sampler));

  const req = frame(1, Buffer.from(JSON.stringify(['REQ', 'same', { kinds: [1], limit: 1000 }])));
  const slow: Socket[] = [];
  t.after(() => {
    for (const s of slow) s.destroy();
  });
  for (let i = 0; i < SLOW_SOCKETS; i++) {
    const s = await upgradedSocket(relay.url, { read: false });
    slow.push(s);
    await new Promise((resolve) => s.write(Buffer.concat(Array(REQS_PER_SOCKET).fill(req)), resolve));
  }
  // Everyone else is still served while the slow readers wait.
  for (let i = 0; i < 20; i++) {
    const e = author.sign({ content: `witness ${i}` });
    assert.deepEqual(await witness.publish(e), [true, '']);
    assert.deepEqual(
      (await witness.query(`w${i}`, { ids: [e.id] })).map((x) => x.id),
      [e.id],
    );
    sample();
  }
  const bounded = (when: string): void => {
    sample();
    const growth = peak - base;
    t.diagnostic(
      `${when}: peak growth ${Math.round(growth / 2 ** 20)} MiB (bound ${MAX_GROWTH_BYTES / 2 ** 20} MiB)`,
    );
    assert.ok(
      growth < MAX_GROWTH_BYTES,
      `${when}: memory grew by ${Math.round(growth / 2 ** 20)} MiB (bound ${MAX_GROWTH_BYTES / 2 ** 20} MiB)`,
    );
  };
  bounded('while the slow readers wait');
  // Each slow socket's last answer is either sent whole (if the kernel's buffers took it) or given up after
  // slowReaderTimeoutMs (CLOSED error: slow reader); the replaced ones were let go at once.
  await until(() => relay.server.stats().answersPending === 0, 90_000, 'the stored answers to finish');
  bounded('after the answers finished');
  clearInterval(sampler);
  assert.equal((await witness.query('again', { kinds: [1], limit: 10 })).length, 10);
});
