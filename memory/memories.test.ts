import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { FakeEmbedder } from './fake-embedder.ts';
import { exportLines, importLines, MemoryImportError } from './jsonl.ts';
import { Memories } from './memories.ts';
import { recallScore, recency, retention } from './recall.ts';
import { VectorStore } from './vector-store.ts';

const HOUR = 3_600_000;

function make(
  embedder = new FakeEmbedder(),
  clock = new ManualClock(),
): { m: Memories; clock: ManualClock; store: VectorStore } {
  const store = VectorStore.open({ path: ':memory:', logger: silentLogger });
  return {
    m: new Memories({ store, embedder, logger: silentLogger, clock, halfLifeMs: 24 * HOUR }),
    clock,
    store,
  };
}

function snapshot(store: VectorStore): string[] {
  return [...store.iterate()].map(
    (r) => `${r.id}|${r.agent}|${r.kind}|${r.contentHash}|${r.createdAt}|${JSON.stringify(r.meta)}`,
  );
}

describe('Memories', () => {
  test('the recall formula: similarity x (0.5 + 0.5 recency) x (0.5 + 0.5 importance), per-kind half-lives', () => {
    assert.equal(recency(0, HOUR), 1);
    assert.equal(recency(HOUR, HOUR), 0.5);
    const fresh = { kind: 'episodic' as const, importance: 1, accessedAt: 0 };
    assert.equal(recallScore(0.8, fresh, 0, HOUR), 0.8);
    assert.equal(recallScore(0.8, fresh, HOUR, HOUR), 0.8 * 0.75);
    assert.equal(recallScore(0.8, { ...fresh, importance: 0 }, 0, HOUR), 0.4);
    assert.equal(recallScore(-0.3, fresh, 0, HOUR), 0);
    assert.ok(retention({ ...fresh, kind: 'semantic' }, 5 * HOUR, HOUR) > retention(fresh, 5 * HOUR, HOUR));
  });

  test('time-weighted recall: of identical memories the recent one first; a recalled one is fresh again', async () => {
    const { m, clock } = make();
    const old = await m.remember({
      agent: 'quill',
      kind: 'episodic',
      content: 'poem about the sea for alice',
    });
    clock.advance(72 * HOUR);
    const recent = await m.remember({
      agent: 'quill',
      kind: 'episodic',
      content: 'poem about the sea for alice',
    });
    await m.remember({ agent: 'seer', kind: 'episodic', content: 'poem about the sea for alice' });
    const got = await m.recall('poem about the sea', { k: 2, filter: { agent: 'quill' } });
    assert.deepEqual(
      got.map((r) => r.memory.id),
      [recent.id, old.id],
    );
    assert.ok((got[0]?.score ?? 0) > (got[1]?.score ?? 0));
    assert.equal(m.store.get(old.id)?.accessedAt, clock.now(), 'recalled now');
    assert.equal(m.store.get(old.id)?.accessCount, 1);
    await m.close();
  });

  test('importance outweighs a little similarity; k = 0 recalls nothing', async () => {
    const { m } = make();
    const vital = await m.remember({
      agent: 'a',
      kind: 'semantic',
      content: 'alice pays in sats always',
      importance: 1,
    });
    await m.remember({ agent: 'a', kind: 'semantic', content: 'alice pays in sats', importance: 0 });
    const [top] = await m.recall('alice pays in sats', { k: 1 });
    assert.equal(top?.memory.id, vital.id);
    assert.deepEqual(await m.recall('alice', { k: 0 }), []);
    await m.close();
  });

  test('pruning keeps exactly the budget per agent: duplicates merged, then the least weighty dropped', async () => {
    const { m, clock } = make();
    for (let i = 0; i < 10; i++) {
      await m.remember({
        agent: 'quill',
        kind: 'episodic',
        content: `job number ${i}`,
        importance: i === 0 ? 1 : 0.1,
      });
      clock.advance(HOUR);
    }
    await m.rememberMany([
      { agent: 'quill', kind: 'episodic', content: 'job number 9' },
      { agent: 'seer', kind: 'semantic', content: 'a fact' },
    ]);
    const report = m.prune(4);
    assert.equal(report.merged, 1);
    assert.equal(report.removed, 10 - 4);
    assert.deepEqual(report.kept, { quill: 4, seer: 1 });
    const kept = [...m.store.iterate({ agent: 'quill' })].map((r) => r.content).sort();
    assert.deepEqual(kept, ['job number 0', 'job number 7', 'job number 8', 'job number 9']);
    assert.equal(m.store.indexedCount(), 5);
    await m.close();
  });

  test('a failed embedding leaves the memory waiting; the next write embeds it', async () => {
    const e = new FakeEmbedder();
    const { m } = make(e);
    await m.ready;
    e.failNext();
    await assert.rejects(m.remember({ agent: 'a', kind: 'episodic', content: 'kept anyway' }));
    assert.equal(m.stats().pending, 1);
    await m.remember({ agent: 'a', kind: 'episodic', content: 'second' });
    assert.equal(m.stats().pending, 0);
    assert.equal((await m.search('kept anyway', { k: 1 }))[0]?.memory.content, 'kept anyway');
    await m.close();
  });

  test('export then import: same rows, vectors kept for the same model, re-embedded for another; twice adds nothing', async () => {
    const { m, store } = make();
    await m.rememberMany([
      { agent: 'quill', kind: 'episodic', content: 'first', meta: { job: 'abc' } },
      { agent: 'seer', kind: 'procedural', content: 'summaries: three sentences work best', importance: 0.9 },
    ]);
    const lines = [...exportLines(store)];
    assert.equal(lines.length, 2);
    const same = make();
    assert.deepEqual(await importLines(same.m, lines), { imported: 2, skipped: 0, keptVectors: 2 });
    assert.deepEqual(await importLines(same.m, lines), { imported: 0, skipped: 2, keptVectors: 0 });
    assert.deepEqual(snapshot(same.store), snapshot(store));
    const other = make(new FakeEmbedder({ dimension: 16 }));
    assert.deepEqual(await importLines(other.m, lines), { imported: 2, skipped: 0, keptVectors: 0 });
    assert.equal(other.m.stats().indexed, 2);
    await assert.rejects(importLines(other.m, ['{"v":1}']), MemoryImportError);
    await assert.rejects(importLines(other.m, [lines[0]?.replace('first', 'forged') ?? '']), /contentHash/);
    for (const x of [m, same.m, other.m]) await x.close();
  });

  test('metadata filters: recall, find and forget by customer; one memory replaced, not duplicated', async () => {
    const { m, clock } = make();
    const alice = 'a'.repeat(64);
    const bob = 'b'.repeat(64);
    await m.rememberMany([
      {
        agent: 'timmy',
        kind: 'episodic',
        content: 'poem about the sea for a customer',
        meta: { customer: alice },
      },
      {
        agent: 'timmy',
        kind: 'episodic',
        content: 'poem about the sea for a customer',
        meta: { customer: bob },
      },
      {
        agent: 'quill',
        kind: 'episodic',
        content: 'poem about the sea for a customer',
        meta: { customer: alice },
      },
    ]);
    const got = await m.recall('poem about the sea', {
      k: 5,
      filter: { agent: 'timmy', meta: { customer: alice } },
    });
    assert.deepEqual(
      got.map((r) => [r.memory.agent, r.memory.meta.customer]),
      [['timmy', alice]],
    );
    assert.deepEqual(
      (await m.search('poem', { k: 5, filter: { meta: { customer: bob } } })).map(
        (h) => h.memory.meta.customer,
      ),
      [bob],
    );
    // Several filters: one embedding, the union ranked together.
    const union = await m.recall('poem about the sea', {
      k: 5,
      filter: [{ agent: 'quill' }, { agent: 'timmy', meta: { customer: bob } }],
    });
    assert.deepEqual(union.map((r) => r.memory.agent).sort(), ['quill', 'timmy']);
    assert.throws(() => m.find({ meta: { 'x) OR 1=1 --': 'y' } }), /identifier/);

    const match = { agent: 'timmy', kinds: ['semantic' as const], meta: { customer: alice } };
    const one = await m.replace(match, {
      agent: 'timmy',
      kind: 'semantic',
      content: 'alice: 1 job',
      meta: { customer: alice },
    });
    clock.advance(HOUR);
    const same = await m.replace(match, {
      agent: 'timmy',
      kind: 'semantic',
      content: 'alice: 1 job',
      meta: { customer: alice },
    });
    assert.equal(same.id, one.id, 'the same content again changes nothing');
    const two = await m.replace(match, {
      agent: 'timmy',
      kind: 'semantic',
      content: 'alice: 2 jobs',
      meta: { customer: alice },
    });
    assert.deepEqual(
      m.find(match).map((r) => [r.id, r.content]),
      [[two.id, 'alice: 2 jobs']],
    );
    assert.equal(m.stats().indexed, 4, 'the replaced memory left the search table too');

    assert.throws(() => m.forget({}), /needs a filter/);
    assert.equal(m.forget({ meta: { customer: alice } }), 3);
    assert.deepEqual(
      [...m.store.iterate()].map((r) => r.meta.customer),
      [bob],
    );
    assert.equal(m.stats().indexed, 1);
    await m.close();
  });
});
