import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { MemoryLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { VerifyPool } from './verify-pool.ts';

const sk = generateSecretKey();
const events: NostrEvent[] = Array.from({ length: 300 }, (_, i) =>
  finalizeEvent({ kind: 1, created_at: 1_700_000_000 + i, tags: [], content: `e${i}` }, sk),
);
const tampered = events.map((e, i) => (i % 7 === 0 ? { ...e, content: 'tampered' } : e));
const expected = tampered.map((_, i) => (i % 7 === 0 ? 'bad-id' : 'ok'));

for (const workers of [0, 1, 2]) {
  test(`verifies batches with ${workers} worker(s)`, async () => {
    const pool = new VerifyPool({ workers, logger: new MemoryLogger(), maxBatch: 64 });
    try {
      assert.deepEqual(await Promise.all(tampered.map((e) => pool.verify(e))), expected);
      // A second round reuses the started workers.
      assert.deepEqual(await Promise.all(tampered.map((e) => pool.verify(e))), expected);
    } finally {
      await pool.close();
    }
  });
}

test('a worker that dies hands its work back to the main thread', async () => {
  const logger = new MemoryLogger();
  const pool = new VerifyPool({ workers: 1, logger });
  const slots = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
  const pending = tampered.map((e) => pool.verify(e));
  await new Promise((r) => setImmediate(r)); // the batch is posted to the worker
  await slots[0]?.worker.terminate();
  assert.deepEqual(await Promise.all(pending), expected);
  assert.equal(pool.workerCount, 0);
  assert.ok(logger.records.some((r) => r.msg === 'verification worker stopped'));
  // Later work is verified inline.
  assert.deepEqual(
    await Promise.all(tampered.slice(0, 20).map((e) => pool.verify(e))),
    expected.slice(0, 20),
  );
  await pool.close();
});

test('close waits for the batches under way', async () => {
  const pool = new VerifyPool({ workers: 1, logger: new MemoryLogger() });
  const pending = Promise.all(events.map((e) => pool.verify(e)));
  await pool.close();
  assert.ok((await pending).every((s) => s === 'ok'));
});

test('idle workers do not keep the process alive', () => {
  const code = [
    "import { silentLogger } from './core/logger.ts';",
    "import { VerifyPool } from './relay/verify-pool.ts';",
    'const pool = new VerifyPool({ workers: 2, logger: silentLogger });',
    'await new Promise((r) => setTimeout(r, 200));',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: new URL('..', import.meta.url).pathname,
    timeout: 30_000,
    encoding: 'utf8',
  });
  assert.equal(r.signal, null, 'the process had to be killed');
  assert.equal(r.status, 0, r.stderr);
});
