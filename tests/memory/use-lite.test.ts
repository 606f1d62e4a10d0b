import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import { dot } from '../../memory/embedder.ts';
import { Memories } from '../../memory/memories.ts';
import { UseLiteEmbedder } from '../../memory/use-lite.ts';
import { VectorStore } from '../../memory/vector-store.ts';
import { embedderContract } from './embedder.contract.ts';
import { PARAPHRASE_PAIRS } from './paraphrases.ts';

/** The offline default with its real weights, loaded once for this file (a worker thread). */
const real = new UseLiteEmbedder();
after(async () => {
  await real.close();
});

embedderContract({ name: 'USE lite (npm weights, worker thread)', make: () => real });

describe('USE lite on 50 paraphrase pairs written for the test', () => {
  test('each sentence is nearest to its paraphrase among all 50 candidates, and the paraphrase beats every unrelated one', async () => {
    const first = await real.embed(PARAPHRASE_PAIRS.map((p) => p[0]));
    const second = await real.embed(PARAPHRASE_PAIRS.map((p) => p[1]));
    assert.equal(PARAPHRASE_PAIRS.length, 50);
    first.forEach((a, i) => {
      const scores = second.map((b) => dot(a, b));
      const own = scores[i] as number;
      const better = scores.filter((s, j) => j !== i && s >= own).length;
      assert.equal(
        better,
        0,
        `"${PARAPHRASE_PAIRS[i]?.[0]}": ${better} unrelated sentences ranked at or above its paraphrase`,
      );
    });
  });
});

describe('time-weighted recall with real embeddings', () => {
  let memories: Memories;
  const clock = new ManualClock(1_700_000_000_000);
  before(() => {
    memories = new Memories({
      store: VectorStore.open({ path: ':memory:', logger: silentLogger }),
      embedder: real,
      logger: silentLogger,
      clock,
      halfLifeMs: 24 * 3_600_000,
    });
  });

  test('the relevant memories come first, the unrelated last; an important fact outweighs a recent episode', async () => {
    await memories.remember({
      agent: 'quill',
      kind: 'episodic',
      content: 'The customer wanted a haiku about the ocean waves.',
    });
    clock.advance(10 * 24 * 3_600_000);
    await memories.remember({
      agent: 'quill',
      kind: 'episodic',
      content: 'The customer asked for a short poem about the sea.',
    });
    await memories.remember({
      agent: 'quill',
      kind: 'episodic',
      content: 'Translated a tax invoice into German.',
    });
    const got = await memories.recall('write a poem about the sea', { k: 3, filter: { agent: 'quill' } });
    assert.equal(got[0]?.memory.content, 'The customer asked for a short poem about the sea.');
    assert.equal(got[2]?.memory.content, 'Translated a tax invoice into German.');
    // Ten days later, the recent one was recalled just now; an important old fact outweighs it.
    await memories.remember({
      agent: 'quill',
      kind: 'semantic',
      content: 'Customers love poems about the sea in haiku form.',
      importance: 1,
    });
    const again = await memories.recall('write a poem about the sea', { k: 1, filter: { agent: 'quill' } });
    assert.equal(again[0]?.memory.content, 'Customers love poems about the sea in haiku form.');
  });
});
