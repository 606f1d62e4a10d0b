import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RECALL_HEADING } from '../../agents/runtime/agent-memory.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay } from '../../testkit/relay.ts';

/**
 * Agents remember across restarts (docs/memory.md), with the real offline embedder (USE lite from npm): a
 * job done before a restart is recalled into the model prompt of a related job after it, and an unrelated
 * agent's namespace stays its own.
 */

const roster = personas([
  { name: 'quill', serves: [{ kind: 5050, handler: 'text-generation' }], systemPrompt: 'You are Quill.' },
]);

test('a finished job is remembered, and recalled into the prompt of a related job after a restart', async () => {
  const relay = await startTestRelay();
  const customer = new Customer(relay.url);
  const first = new ScriptedProvider().queue('Grey waves fold on sand / the tide keeps its own counsel');
  const second = new ScriptedProvider().queue('Salt wind, gulls at dawn');
  let net: TestNetwork | undefined;
  let dataDir: string | undefined;
  try {
    net = await startTestNetwork({
      relayUrl: relay.url,
      agents: roster,
      providers: [{ provider: first }],
      memory: { enabled: true, recallK: 3 },
    });
    dataDir = net.dataDir;
    const keys = net.keys;
    const ask = async (text: string) =>
      customer.follow(
        await customer.signer.signEvent(
          buildJobRequest({ kind: 5050, inputs: [{ data: text, type: 'text' }] }),
        ),
        60_000,
        true,
      );
    const one = await ask('Write a haiku about the ocean at low tide');
    assert.match(one.result?.content ?? '', /Grey waves/);
    // The memory's row is written when the job is done; wait for it before the restart.
    const memories = net.network.memories;
    assert.ok(memories, 'memory.enabled opens the memory');
    // Quill's memory of its job, and the desk's of the customer (its job and its summary).
    await until(() => memories.stats().indexed === 3, 60_000, 'the job remembered and embedded');
    assert.deepEqual(
      memories.stats().byAgent.map((a) => [a.agent, a.kind, a.count]),
      [
        ['quill', 'episodic', 1],
        ['timmy', 'episodic', 1],
        ['timmy', 'semantic', 1],
      ],
    );
    await net.stop();
    net = undefined;

    net = await startTestNetwork({
      relayUrl: relay.url,
      agents: roster,
      keys,
      dataDir,
      providers: [{ provider: second }],
      memory: { enabled: true, recallK: 3 },
    });
    const two = await ask('Another short poem about the sea, please');
    assert.match(two.result?.content ?? '', /Salt wind/);
    const asked = second.calls[0]?.messages ?? [];
    assert.equal(asked[0]?.content, 'You are Quill.', 'the persona prompt stays first');
    const recalled = asked.find((m) => m.role === 'system' && m.content.startsWith(RECALL_HEADING));
    assert.ok(recalled, `no recalled memories in ${JSON.stringify(asked)}`);
    assert.match(recalled.content, /Write a haiku about the ocean at low tide/);
    assert.match(recalled.content, /Grey waves fold on sand/);
    assert.equal(asked.at(-1)?.content, 'Another short poem about the sea, please');
  } finally {
    await net?.stop();
    customer.close();
    await relay.close();
    if (dataDir) await removeDir(dataDir);
  }
});
