import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import { FakeEmbedder } from './fake-embedder.ts';
import { Memories } from './memories.ts';
import { migrateVectors } from './migrate.ts';
import { VectorStore } from './vector-store.ts';

function snapshot(store: VectorStore): string[] {
  return [...store.iterate()].map(
    (r) =>
      `${r.id}|${r.agent}|${r.kind}|${r.contentHash}|${r.importance}|${r.createdAt}|${r.accessCount}|${JSON.stringify(r.meta)}`,
  );
}

test('a change of model and dimension re-embeds every memory, with progress, and loses nothing', async () => {
  const path = join(await mkdtemp(join(tmpdir(), 'timmy-mem-')), 'memory.sqlite');
  const before = new Memories({
    store: VectorStore.open({ path, logger: silentLogger }),
    embedder: new FakeEmbedder({ dimension: 64 }),
    logger: silentLogger,
  });
  await before.rememberMany(
    Array.from({ length: 300 }, (_, i) => ({
      agent: i % 3 ? 'quill' : 'seer',
      kind: i % 2 ? ('episodic' as const) : ('semantic' as const),
      content: `memory ${i} about ${i % 7 ? 'ships' : 'invoices'} number ${i}`,
      meta: { i },
    })),
  );
  const rows = snapshot(before.store);
  await before.close();

  // A migration interrupted after its first batch resumes where it was.
  const store = VectorStore.open({ path, logger: silentLogger });
  const next = new FakeEmbedder({ dimension: 32, model: 'fake-next/32' });
  const stop = new AbortController();
  await assert.rejects(
    migrateVectors(store, next, { batch: 50, onProgress: () => stop.abort(), signal: stop.signal }),
  );
  assert.equal(store.activeModel()?.dimension, 64, 'the old index answers until the swap');
  assert.equal(store.knn(new Float32Array(64).fill(0.125), 5).length, 5);
  store.close();

  const progress: number[] = [];
  const after = new Memories({
    store: VectorStore.open({ path, logger: silentLogger }),
    embedder: next,
    logger: silentLogger,
    onMigration: (p) => progress.push(p.done),
  });
  await after.ready;
  assert.deepEqual(after.store.activeModel(), { model: 'fake-next/32', dimension: 32 });
  assert.deepEqual(snapshot(after.store), rows, 'row count and content hashes unchanged');
  assert.equal(after.store.count(), 300);
  assert.equal(after.store.indexedCount(), 300);
  assert.ok(progress.length >= 2 && progress.at(-1) === 300, `progress ${progress.join(',')}`);
  assert.ok((progress[0] ?? 0) > 50, 'resumed after the first staged batch');
  for (const r of after.store.iterate()) assert.equal(r.dimension, 32);
  const [hit] = await after.search('memory 7 about invoices number 7', { k: 1 });
  assert.equal(hit?.memory.content, 'memory 7 about invoices number 7');
  await after.close();
});
