import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataFile } from '../../core/data-dir.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { ASSIGNMENT_KIND, ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import type { LocalSigner } from '../../identity/signer.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';

/**
 * Crash and resume, state by state. A "crash" stops the network at a chosen point without letting it
 * finish what it was doing (a publish that never reaches the relay, a model call that never answers, a
 * job the operator has not approved): what is on disk is exactly what a kill -9 there leaves. A second
 * network on the same data directory and keys must finish the job with one result and no repeated
 * side effect (one model call, one of each signed event). tests/cli/kill-resume.test.ts does the same
 * with a real `timmy start` process and SIGKILL.
 */

const roster = personas([
  { name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo' }] },
  { name: 'quill', serves: [{ kind: 5050, handler: 'text-generation' }] },
]);

interface World {
  relay: TestRelay;
  customer: Customer;
  keys?: Map<string, LocalSigner>;
  dataDir?: string;
}

async function run(
  w: World,
  options: Omit<Parameters<typeof startTestNetwork>[0], 'relayUrl' | 'agents' | 'keys' | 'dataDir'>,
): Promise<TestNetwork> {
  const net = await startTestNetwork({
    relayUrl: w.relay.url,
    agents: roster,
    keys: w.keys,
    dataDir: w.dataDir,
    ...options,
  });
  w.keys = net.keys;
  w.dataDir = net.dataDir;
  return net;
}

async function world(): Promise<World> {
  const relay = await startTestRelay();
  return { relay, customer: new Customer(relay.url) };
}

async function end(w: World): Promise<void> {
  w.customer.close();
  await w.relay.close();
  if (w.dataDir) await removeDir(w.dataDir);
}

async function resultsFor(w: World, request: NostrEvent): Promise<NostrEvent[]> {
  return w.customer.client.query([{ kinds: [request.kind + 1000], '#e': [request.id] }]);
}

test('killed after the job was assigned, before the assignment reached the relay', async () => {
  const w = await world();
  try {
    const first = await run(w, { swallow: (_a, e) => e.kind === ASSIGNMENT_KIND });
    const request = await w.customer.signer.signEvent(
      buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'posted', type: 'text' }] }),
    );
    await w.customer.client.publish(request);
    await until(() => first.network.log.get(request.id)?.state === 'assigned', 5000, 'assigned');
    await first.stop();
    const second = await run(w, {});
    const out = await w.customer.follow(request, 10_000);
    assert.equal(out.result?.content, 'posted');
    await until(() => second.network.log.get(request.id)?.state === 'completed', 5000, 'completed');
    assert.equal((await resultsFor(w, request)).length, 1);
    const assignments = await w.customer.client.query([{ kinds: [ASSIGNMENT_KIND], '#e': [request.id] }]);
    assert.equal(assignments.length, 1, 'the recorded assignment was published, not a second one');
    await second.stop();
  } finally {
    await end(w);
  }
});

test('killed while the model was generating: the call is made again, the result published once', async () => {
  const w = await world();
  const llm1 = new ScriptedProvider().queue({ hang: true });
  const llm2 = new ScriptedProvider().queue('generated after restart');
  try {
    const first = await run(w, { providers: [{ provider: llm1, timeoutMs: 60_000 }] });
    const request = await w.customer.signer.signEvent(
      buildJobRequest({ kind: 5050, inputs: [{ data: 'write', type: 'text' }] }),
    );
    await w.customer.client.publish(request);
    await until(() => llm1.calls.length === 1, 5000, 'model called');
    await first.stop();
    const second = await run(w, { providers: [{ provider: llm2 }] });
    const out = await w.customer.follow(request, 10_000);
    assert.equal(out.result?.content, 'generated after restart');
    assert.equal(llm2.calls.length, 1);
    assert.equal((await resultsFor(w, request)).length, 1);
    await second.stop();
  } finally {
    await end(w);
  }
});

test('killed after the model answered but before the result reached the relay: no second model call', async () => {
  const w = await world();
  const llm1 = new ScriptedProvider().queue('the only answer');
  const llm2 = new ScriptedProvider();
  try {
    const first = await run(w, {
      providers: [{ provider: llm1 }],
      swallow: (_a, e) => e.kind === 6050,
    });
    const request = await w.customer.signer.signEvent(
      buildJobRequest({ kind: 5050, inputs: [{ data: 'write', type: 'text' }] }),
    );
    await w.customer.client.publish(request);
    // The result is recorded in the agent's own work log before it is published.
    const signedResult = () => {
      const agent = first.network.log.get(request.id)?.agent;
      return agent ? first.network.work.forAgent(agent).outboxItem(request.id, 'result:1') : undefined;
    };
    await until(() => signedResult() !== undefined, 5000, 'result signed');
    assert.equal((await resultsFor(w, request)).length, 0, 'nothing reached the relay yet');
    const signed = signedResult()?.event;
    await first.stop();
    const second = await run(w, { providers: [{ provider: llm2 }] });
    const out = await w.customer.follow(request, 10_000);
    assert.equal(out.result?.content, 'the only answer');
    assert.equal(out.result?.id, signed?.id, 'the very event signed before the crash');
    assert.equal(llm2.calls.length, 0, 'the model was not called again');
    await until(() => second.network.log.get(request.id)?.state === 'completed', 5000, 'completed');
    assert.equal((await resultsFor(w, request)).length, 1);
    await second.stop();
  } finally {
    await end(w);
  }
});

test('killed while awaiting approval: approved while down, it runs after the restart', async () => {
  const w = await world();
  try {
    const first = await run(w, { dvm: { approvalKinds: [ECHO_KIND] } });
    const request = await w.customer.signer.signEvent(
      buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'approved offline', type: 'text' }] }),
    );
    await w.customer.client.publish(request);
    await until(() => first.network.log.get(request.id)?.state === 'awaiting-approval', 5000, 'awaiting');
    await first.stop();
    const cli = JobLog.open({ path: dataFile(w.dataDir as string, 'jobs') });
    cli.append(request.id, { type: 'approved', by: 'operator' });
    cli.close();
    const second = await run(w, { dvm: { approvalKinds: [ECHO_KIND] } });
    const out = await w.customer.follow(request, 10_000);
    assert.equal(out.result?.content, 'approved offline');
    await second.stop();
  } finally {
    await end(w);
  }
});

test('a request published while the instance was down is picked up at start', async () => {
  const w = await world();
  try {
    const first = await run(w, {});
    await first.stop();
    const request = await w.customer.signer.signEvent(
      buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'while you were out', type: 'text' }] }),
    );
    await w.customer.client.publish(request);
    const second = await run(w, {});
    const out = await w.customer.follow(request, 10_000);
    assert.equal(out.result?.content, 'while you were out');
    await second.stop();
  } finally {
    await end(w);
  }
});

test('announcements are republished only when they change', async () => {
  const w = await world();
  try {
    const first = await run(w, {});
    await first.stop();
    const echo = (w.keys as Map<string, LocalSigner>).get('echo')?.pubkey as string;
    const before = await w.customer.client.query([{ kinds: [31990], authors: [echo] }]);
    const second = await run(w, {});
    await second.stop();
    const same = await w.customer.client.query([{ kinds: [31990], authors: [echo] }]);
    assert.equal(same[0]?.id, before[0]?.id, 'unchanged: not republished');
    const repriced = personas([
      { name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 5 }] },
      { name: 'quill', serves: [{ kind: 5050, handler: 'text-generation' }] },
    ]);
    const third = await startTestNetwork({
      relayUrl: w.relay.url,
      agents: repriced,
      keys: w.keys,
      dataDir: w.dataDir,
    });
    await third.stop();
    const after = await w.customer.client.query([{ kinds: [31990], authors: [echo] }]);
    assert.notEqual(after[0]?.id, before[0]?.id, 'changed: republished');
    assert.ok(after[0]?.tags.some((t) => t[0] === 'price' && t[2] === '5'));
  } finally {
    await end(w);
  }
});
