import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BID_COMMITMENT_KIND, GIFT_WRAP_KIND } from '../../auction/kinds.ts';
import { transitions } from '../../dvm/job-state.ts';
import { ECHO_KIND, HEARTBEAT_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay } from '../../testkit/relay.ts';

/**
 * An agent that falls silent while its auction runs (overloaded, or restarting) does not fail the job:
 * the auction settles with no valid bid, the customer is told the job waits for an agent, and once the
 * agent beats again the job goes to it and completes.
 */
test('every bidder lapsed at settlement: the job waits for an agent instead of failing, then completes', async () => {
  const relay = await startTestRelay();
  let muted = false;
  const net = await startTestNetwork({
    relayUrl: relay.url,
    agents: personas([{ name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 1000 }] }]),
    auction: { enabled: true, bidWindowMs: 1500, revealGraceMs: 200 },
    dvm: { heartbeatIntervalMs: 100, agentTimeoutMs: 600 },
    // While muted the agent's heartbeats and bids never reach the relay.
    swallow: (_agent, e) => muted && [HEARTBEAT_KIND, BID_COMMITMENT_KIND, GIFT_WRAP_KIND].includes(e.kind),
  });
  const customer = new Customer(relay.url);
  try {
    await until(
      () => net.network.agents().some((a) => a.alive && a.lastBeatAt !== undefined),
      10_000,
      'the agent beats',
    );
    const pending = customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'hello', type: 'text' }] }),
      60_000,
    );
    await until(() => net.network.log.active()[0]?.state === 'bidding', 10_000, 'the auction opens');
    muted = true;
    const jobId = net.network.log.active()[0]?.id as string;
    await until(
      () => net.network.log.get(jobId)?.outbox.some((o) => o.key === 'waiting-for-agent') === true,
      30_000,
      'the customer told the job waits for an agent',
    );
    assert.equal(net.network.log.get(jobId)?.state, 'bidding', 'the job is not failed');
    muted = false;
    const out = await pending;
    assert.equal(out.result?.content, 'hello');
    assert.ok(
      out.feedback.some((f) => f.tags.some((t) => t[0] === 'status' && t[1] === 'processing')),
      'the waiting feedback reached the customer',
    );
    const view = net.network.log.get(jobId);
    assert.deepEqual(view && transitions(view), ['posted', 'bidding', 'assigned', 'executing', 'completed']);
  } finally {
    customer.close();
    await net.stop();
    await relay.close();
    await removeDir(net.dataDir);
  }
});
