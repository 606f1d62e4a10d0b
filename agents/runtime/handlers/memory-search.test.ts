import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../../core/logger.ts';
import type {
  HandlerContext,
  HandlerMemory,
  JobInput,
  MemoryHit,
  MemorySearchOptions,
  ResolvedInput,
} from '../../../dvm/handler.ts';
import { JobInputError } from '../../../dvm/handler.ts';
import { type MemorySearchAnswer, memorySearch, NO_MEMORY_MESSAGE } from './memory-search.ts';

const JOB_ID = 'a'.repeat(64);
const T = Date.UTC(2026, 0, 2, 3, 4, 5);

/** A fake memory: its hits, ranked by how many query words they contain; records what it was asked. */
class FakeMemory implements HandlerMemory {
  readonly asked: { query: string; options: MemorySearchOptions }[] = [];
  constructor(private readonly hits: MemoryHit[]) {}
  async search(query: string, options: MemorySearchOptions): Promise<MemoryHit[]> {
    this.asked.push({ query, options });
    const words = query.toLowerCase().split(/\W+/).filter(Boolean);
    return this.hits
      .filter((h) => options.kinds === undefined || options.kinds.includes(h.kind))
      .map((h) => ({ ...h, score: words.filter((w) => h.content.toLowerCase().includes(w)).length / 10 }))
      .filter((h) => h.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, options.k);
  }
}

const HITS: MemoryHit[] = [
  {
    id: 1,
    agent: 'seer',
    kind: 'semantic',
    content: 'Alice pays her invoices over lightning within the hour.',
    createdAt: T,
    score: 0,
    meta: {},
  },
  {
    id: 2,
    agent: 'seer',
    kind: 'procedural',
    content: 'For Alice, kind 5001: summarize the lightning paper section by section.',
    createdAt: T + 1000,
    score: 0,
    meta: { job: JOB_ID, kind: 5001, event: 'not hex' },
  },
  {
    id: 3,
    agent: 'seer',
    kind: 'episodic',
    content: 'Job of kind 5001 for customer Alice. Asked: how does Alice pay her lightning invoices',
    createdAt: T + 2000,
    score: 0,
    meta: { job: JOB_ID, kind: 5001 },
  },
];

function ctx(memory?: HandlerMemory): HandlerContext {
  return {
    llm: () => Promise.reject(new Error('a memory search must not call the model')),
    progress: () => {},
    signal: new AbortController().signal,
    logger: silentLogger,
    ...(memory ? { memory } : {}),
  };
}

function text(t: string): ResolvedInput {
  return { type: 'text', data: t, marker: '', text: t, contentType: '' };
}

function job(query: string, params: Record<string, string> = {}, output = ''): JobInput {
  return { id: 'm1', kind: 5701, customer: 'c', inputs: [text(query)], params, output };
}

async function answer(memory: HandlerMemory, j: JobInput): Promise<MemorySearchAnswer> {
  return JSON.parse((await memorySearch.run(j, ctx(memory))).content) as MemorySearchAnswer;
}

test('the handler describes itself', () => {
  assert.equal(memorySearch.name, 'memory-search');
  assert.deepEqual(memorySearch.kinds, [5701]);
  assert.equal(memorySearch.needsLlm, false);
});

test('answers with the matching memories, best first, each with its source', async () => {
  const memory = new FakeMemory(HITS);
  const a = await answer(memory, job('how does Alice pay invoices'));
  assert.equal(a.query, 'how does Alice pay invoices');
  assert.equal(a.hybrid, false);
  assert.equal(a.agent, undefined, "the serving agent's own namespace by default");
  assert.deepEqual(
    a.results.map((r) => [r.rank, r.id]),
    [
      [1, 1],
      [2, 2],
    ],
  );
  assert.deepEqual(a.results[0], {
    rank: 1,
    id: 1,
    agent: 'seer',
    kind: 'semantic',
    createdAt: '2026-01-02T03:04:05.000Z',
    score: 0.3,
    content: 'Alice pays her invoices over lightning within the hour.',
    source: {},
  });
  // The job id a memory names is its source; a malformed event id is left out.
  assert.deepEqual(a.results[1]?.source, { job: JOB_ID });
  // Facts and procedures only: the episodic record of a customer's job is never asked for.
  assert.deepEqual(memory.asked[0]?.options, { k: 5, hybrid: false, kinds: ['semantic', 'procedural'] });
  assert.ok(a.results.every((r) => r.kind !== 'episodic'));
});

test('params: k, agent, kind and hybrid reach the memory', async () => {
  const memory = new FakeMemory(HITS);
  const a = await answer(
    memory,
    job('alice lightning', { k: '1', agent: 'quill', kind: 'Procedural, semantic', hybrid: 'true' }),
  );
  assert.equal(a.results.length, 1);
  assert.equal(a.agent, 'quill');
  assert.deepEqual(a.kinds, ['procedural', 'semantic']);
  assert.equal(a.hybrid, true);
  assert.deepEqual(memory.asked[0]?.options, {
    k: 1,
    hybrid: true,
    agent: 'quill',
    kinds: ['procedural', 'semantic'],
  });
  const only = await answer(memory, job('alice lightning', { kind: 'procedural' }));
  assert.deepEqual(
    only.results.map((r) => r.id),
    [2],
  );
});

test('nothing found is an empty list, not a failure', async () => {
  const a = await answer(new FakeMemory(HITS), job('volcanoes'));
  assert.deepEqual(a.results, []);
});

test('markdown when the output tag asks for it', async () => {
  const out = await memorySearch.run(job('alice invoices', {}, 'text/markdown'), ctx(new FakeMemory(HITS)));
  assert.match(out.content, /^Memories matching "alice invoices":/);
  assert.match(out.content, /1\. Alice pays her invoices over lightning within the hour\./);
  assert.match(out.content, /memory 2 · agent seer · procedural · 2026-01-02T03:04:06\.000Z · score 0\.1/);
  assert.match(out.content, new RegExp(`job ${JOB_ID}`));
  const none = await memorySearch.run(job('volcanoes', {}, 'text/markdown'), ctx(new FakeMemory(HITS)));
  assert.equal(none.content, 'No memory matches "volcanoes".');
});

test('an agent without memory fails the job with a clear message', async () => {
  await assert.rejects(
    memorySearch.run(job('anything'), ctx()),
    (err: unknown) => err instanceof JobInputError && err.message === NO_MEMORY_MESSAGE,
  );
});

test('bad requests are refused with a message that shows how to ask', async () => {
  const memory = new FakeMemory(HITS);
  const refused = async (j: JobInput, pattern: RegExp) =>
    assert.rejects(memorySearch.run(j, ctx(memory)), (err: unknown) => {
      assert.ok(err instanceof JobInputError);
      assert.match(err.message, pattern);
      return true;
    });
  await refused({ ...job(''), inputs: [text('  ')] }, /needs a query/);
  await refused(job('q', { k: '0' }), /param "k" must be a whole number from 1 to 50/);
  await refused(job('q', { k: '51' }), /param "k"/);
  await refused(job('q', { kind: 'dreams' }), /param "kind" must be semantic, procedural/);
  await refused(job('q', { kind: 'semantic,episodic' }), /episodic memories record customers' jobs/);
  await refused(job('q', { agent: '../etc' }), /param "agent" must be an agent's name/);
  await refused(job('q', { hybrid: 'maybe' }), /param "hybrid" must be "true" or "false"/);
  assert.equal(memory.asked.length, 0, 'a bad request never reaches the memory');
});
