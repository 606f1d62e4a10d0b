import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RECALL_HEADING } from '../../agents/runtime/agent-memory.ts';
import { isTerminal } from '../../dvm/job-state.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { encodeNpub } from '../../identity/nip19.ts';
import { profileTemplate } from '../../identity/profile.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import type { ChatMessage } from '../../llm/provider.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay } from '../../testkit/relay.ts';
import { runTimmy } from '../cli/harness.ts';

/**
 * Timmy remembers customers and past jobs (docs/memory.md), with the real offline embedder: a customer's job
 * done by one agent before a restart is known, after it, to another agent that wins the customer's next
 * job (Timmy's memories of that customer come into its prompt), and never to another customer's job.
 */

const quill = {
  name: 'quill',
  serves: [{ kind: 5050, handler: 'text-generation' }],
  systemPrompt: 'You are Quill.',
};
const lyra = {
  name: 'lyra',
  serves: [{ kind: 5050, handler: 'text-generation' }],
  systemPrompt: 'You are Lyra.',
};
const roster = personas([quill, lyra]);

function recalledIn(messages: readonly ChatMessage[]): string {
  return messages.find((m) => m.role === 'system' && m.content.startsWith(RECALL_HEADING))?.content ?? '';
}

test("a returning customer's next job, won by another agent after a restart, recalls Timmy's memory of them", async () => {
  const relay = await startTestRelay();
  const alice = new Customer(relay.url);
  const bob = new Customer(relay.url);
  const first = new ScriptedProvider().queue('Grey waves fold on sand / the tide keeps its own counsel');
  const second = new ScriptedProvider().queue('Bob gets a limerick').queue('Salt wind, gulls at dawn');
  let net: TestNetwork | undefined;
  let dataDir: string | undefined;
  try {
    await alice.client.publish(
      await alice.signer.signEvent(profileTemplate({ name: 'alice', displayName: 'Alice Liddell' })),
    );
    const ask = async (who: Customer, text: string) => {
      const request = await who.signer.signEvent(
        buildJobRequest({ kind: 5050, inputs: [{ data: text, type: 'text' }] }),
      );
      const outcome = await who.follow(request, 60_000, true);
      // The customer has the result; the desk ends the job when it sees it too (and remembers it then).
      await until(
        () => {
          const view = net?.network.log.get(request.id);
          return view !== undefined && isTerminal(view.state);
        },
        30_000,
        'the desk ends the job',
      );
      return outcome;
    };
    // Before the restart only quill works here: it does Alice's job. (Not lyra "elsewhere": an assignment
    // to a silent agent, taken back, would be on the relay for lyra to find after the restart.)
    const keys = new Map(roster.map((p) => [p.name, generateLocalSigner()]));
    net = await startTestNetwork({
      relayUrl: relay.url,
      agents: personas([quill]),
      keys,
      providers: [{ provider: first }],
      memory: { enabled: true, recallK: 3 },
    });
    dataDir = net.dataDir;
    const one = await ask(alice, 'Write a haiku about the ocean at low tide');
    assert.match(one.result?.content ?? '', /Grey waves/);
    const memories = net.network.memories;
    assert.ok(memories);
    await until(() => memories.stats().indexed === 3, 60_000, "quill's memory and Timmy's two, embedded");
    assert.deepEqual(
      memories.stats().byAgent.map((a) => [a.agent, a.kind, a.count]),
      [
        ['quill', 'episodic', 1],
        ['timmy', 'episodic', 1],
        ['timmy', 'semantic', 1],
      ],
    );
    const [summary] = memories.find({
      agent: 'timmy',
      kinds: ['semantic'],
      meta: { customer: alice.signer.pubkey },
    });
    assert.match(summary?.content ?? '', /^Customer Alice Liddell \(npub1\w+\): 1 job with this desk since/);
    await net.stop();
    net = undefined;

    // `timmy memory search --agent timmy` finds them, through the real binary.
    const timmy = (...args: string[]) =>
      runTimmy(args, { TIMMY_DATA_DIR: dataDir as string, TIMMY_LOG_LEVEL: 'error' });
    const found = await timmy('memory', 'search', 'the ocean haiku customer', '--agent', 'timmy', '--json');
    assert.equal(found.code, 0, found.stderr);
    const hits = (JSON.parse(found.stdout) as { results: { agent: string; kind: string; content: string }[] })
      .results;
    assert.deepEqual(hits.map((h) => [h.agent, h.kind]).sort(), [
      ['timmy', 'episodic'],
      ['timmy', 'semantic'],
    ]);
    assert.match(hits.find((h) => h.kind === 'episodic')?.content ?? '', /Write a haiku about the ocean/);

    // After the restart only lyra works here: it has never worked for Alice.
    net = await startTestNetwork({
      relayUrl: relay.url,
      agents: personas([lyra]),
      keys,
      dataDir,
      providers: [{ provider: second }],
      memory: { enabled: true, recallK: 3 },
    });
    const b = await ask(bob, 'A limerick about a cat, please');
    const prompts = () => JSON.stringify(second.calls.map((c) => c.messages.at(-1)?.content));
    assert.match(b.result?.content ?? '', /limerick/, prompts());
    const a = await ask(alice, 'Another short poem about the sea, please');
    assert.match(a.result?.content ?? '', /Salt wind/);

    const forBob = recalledIn(second.calls[0]?.messages ?? []);
    assert.doesNotMatch(forBob, /haiku|ocean|Alice/, "Alice's memories never reach Bob's job");
    const asked = second.calls[1]?.messages ?? [];
    assert.equal(asked[0]?.content, 'You are Lyra.');
    const forAlice = recalledIn(asked);
    assert.ok(forAlice, `no recalled memories in ${JSON.stringify(asked)}`);
    assert.match(
      forAlice,
      new RegExp(`Customer Alice Liddell \\(${encodeNpub(alice.signer.pubkey)}\\): 1 job`),
    );
    assert.match(forAlice, /asked "Write a haiku about the ocean at low tide"; done by quill/);
    assert.doesNotMatch(forAlice, /limerick|cat/, "Bob's job (lyra's own memory) never reaches Alice's");
    // Bounded: Timmy's summary and one past job, then lyra's own (none of Alice's).
    assert.equal(forAlice.split('\n').length - 1, 2);
    await net.stop();
    net = undefined;

    // Forgetting Alice: every memory of her jobs (the desk's and the agents'), Bob's stay.
    const npub = encodeNpub(alice.signer.pubkey);
    const forgot = await timmy('memory', 'forget', '--customer', npub, '--json');
    assert.equal(forgot.code, 0, forgot.stderr);
    // quill's and lyra's jobs for her, Timmy's two jobs and his summary of her.
    assert.deepEqual(JSON.parse(forgot.stdout), { customer: npub, forgotten: 5 });
    const left = await timmy('memory', 'search', 'poem', '--customer', npub, '--json');
    assert.deepEqual((JSON.parse(left.stdout) as { results: unknown[] }).results, []);
    const bobs = await timmy(
      'memory',
      'search',
      'limerick',
      '--customer',
      encodeNpub(bob.signer.pubkey),
      '--json',
    );
    assert.equal((JSON.parse(bobs.stdout) as { results: unknown[] }).results.length, 3);
    assert.equal((await timmy('memory', 'forget', '--customer', 'nobody')).code, 2);
  } finally {
    await net?.stop();
    alice.close();
    bob.close();
    await relay.close();
    if (dataDir) await removeDir(dataDir);
  }
});

test('with memory off the desk remembers nothing', async () => {
  const relay = await startTestRelay();
  const alice = new Customer(relay.url);
  const net = await startTestNetwork({
    relayUrl: relay.url,
    agents: roster,
    elsewhere: ['lyra'],
    providers: [{ provider: new ScriptedProvider().queue('ok') }],
  });
  try {
    const r = await alice.follow(
      await alice.signer.signEvent(buildJobRequest({ kind: 5050, inputs: [{ data: 'hi', type: 'text' }] })),
      60_000,
      true,
    );
    assert.match(r.result?.content ?? '', /ok/);
    assert.equal(net.network.memories, undefined);
    assert.equal(existsSync(join(net.dataDir, 'memory.sqlite')), false, 'no memory file: no cost');
  } finally {
    await net.stop();
    alice.close();
    await relay.close();
    await removeDir(net.dataDir);
  }
});
