import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemorySearchAnswer } from '../../agents/runtime/handlers/memory-search.ts';
import { MEMORY_SEARCH_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork } from '../../testkit/network.ts';
import { startTestRelay } from '../../testkit/relay.ts';

/**
 * Memory as a DVM (docs/memory.md): an outside client asks an agent to search its memory (kind 5701) and
 * gets the matching memories back with their sources, over a real relay and the real offline embedder.
 */

const roster = personas([
  { name: 'seer', serves: [{ kind: MEMORY_SEARCH_KIND, handler: 'memory-search', priceMsats: 1000 }] },
]);

const EVENT_ID = 'e'.repeat(64);
const FACTS = [
  'The customer Alice always pays her invoices over Lightning within the hour.',
  'Bob asked for his summaries in French, no longer than three sentences.',
  'The harbor microgrid stores solar energy in a shared battery bank.',
];

function search(query: string, params: [string, string][] = []) {
  return buildJobRequest({
    kind: MEMORY_SEARCH_KIND,
    inputs: [{ data: query, type: 'text' }],
    params,
  });
}

test('an outside client searches an agent’s memory and gets the right memory first, with its source', async () => {
  const relay = await startTestRelay();
  const customer = new Customer(relay.url);
  const net = await startTestNetwork({ relayUrl: relay.url, agents: roster, memory: { enabled: true } });
  try {
    const memories = net.network.memories;
    assert.ok(memories, 'memory.enabled opens the memory');
    await memories.rememberMany(
      FACTS.map((content, i) => ({
        agent: 'seer',
        kind: 'semantic' as const,
        content,
        meta: i === 2 ? { event: EVENT_ID } : {},
      })),
    );
    await memories.remember({
      agent: 'quill',
      kind: 'semantic',
      content: 'Quill’s own note about batteries.',
    });

    const out = await customer.submit(
      search('How is solar power stored in the harbor?', [['k', '2']]),
      60_000,
    );
    assert.equal(out.error, undefined, `no error feedback: ${out.error}`);
    const answer = JSON.parse(out.result?.content ?? '{}') as MemorySearchAnswer;
    assert.equal(answer.results.length, 2);
    const first = answer.results[0];
    assert.equal(first?.content, FACTS[2]);
    assert.equal(first?.agent, 'seer', "the serving agent's namespace only");
    assert.equal(first?.kind, 'semantic');
    assert.deepEqual(first?.source, { event: EVENT_ID });
    assert.ok((first?.score ?? 0) > (answer.results[1]?.score ?? 1), 'best first');
    assert.ok(!Number.isNaN(Date.parse(first?.createdAt ?? '')));

    // Another namespace by param; the search itself is not remembered.
    const other = await customer.submit(search('batteries', [['agent', 'quill']]), 60_000);
    const quill = JSON.parse(other.result?.content ?? '{}') as MemorySearchAnswer;
    assert.deepEqual(
      quill.results.map((r) => [r.agent, r.content]),
      [['quill', 'Quill’s own note about batteries.']],
    );
    // (The desk remembers its customers' jobs in its own namespace: docs/memory.md.)
    assert.equal(memories.store.count({ agent: 'seer' }), FACTS.length);
    assert.equal(memories.store.count({ agent: 'quill' }), 1);
  } finally {
    await net.stop();
    customer.close();
    await relay.close();
    await removeDir(net.dataDir);
  }
});

test('an agent without memory fails the search with an error feedback that says so', async () => {
  const relay = await startTestRelay();
  const customer = new Customer(relay.url);
  const net = await startTestNetwork({ relayUrl: relay.url, agents: roster });
  try {
    const out = await customer.submit(search('anything'));
    assert.equal(out.result, undefined);
    assert.match(out.error ?? '', /this agent has no memory configured/);
  } finally {
    await net.stop();
    customer.close();
    await relay.close();
    await removeDir(net.dataDir);
  }
});
