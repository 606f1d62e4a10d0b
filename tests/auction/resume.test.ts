import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AUCTION_OPEN_KIND,
  AUCTION_RECORD_KIND,
  BID_COMMITMENT_KIND,
  GIFT_WRAP_KIND,
} from '../../auction/kinds.ts';
import { ASSIGNMENT_KIND, ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay } from '../../testkit/relay.ts';

test('killed while bidding: after the restart the same auction is settled once and the job completes', async () => {
  const relay = await startTestRelay();
  const customer = new Customer(relay.url);
  const agents = personas([
    { name: 'echo1', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 100 }] },
    { name: 'echo2', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 200 }] },
  ]);
  const auction = { enabled: true, bidWindowMs: 1500, revealGraceMs: 300 };
  // The first instance's openings never reach the relay: with both bids committed the auction would close
  // early and settle at once (docs/auctions.md), and this test is about a desk killed while still bidding.
  const first = await startTestNetwork({
    relayUrl: relay.url,
    agents,
    auction,
    swallow: (_agent, e) => e.kind === GIFT_WRAP_KIND,
  });
  try {
    const request = await customer.signer.signEvent(
      buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'bid through a crash', type: 'text' }] }),
    );
    await customer.client.publish(request);
    // Crash once both commitments are on the relay (their openings are held back, above).
    await until(() => first.network.log.get(request.id)?.state === 'bidding', 5000, 'bidding');
    for (let i = 0; i < 50; i++) {
      const commits = await customer.client.query([{ kinds: [BID_COMMITMENT_KIND] }]);
      if (commits.length >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(first.network.log.get(request.id)?.state, 'bidding', 'still bidding at the crash');
    await first.stop();
    const second = await startTestNetwork({
      relayUrl: relay.url,
      agents,
      auction,
      keys: first.keys,
      dataDir: first.dataDir,
    });
    const out = await customer.follow(request, 15_000);
    assert.equal(out.result?.content, 'bid through a crash');
    assert.equal(out.result?.pubkey, second.pubkeyOf('echo1'), 'the cheaper bid won');
    await until(() => second.network.log.get(request.id)?.state === 'completed', 5000, 'completed');
    const count = async (kind: number) =>
      (await customer.client.query([{ kinds: [kind], '#e': [request.id] }])).length;
    assert.equal(await count(AUCTION_OPEN_KIND), 1, 'one auction');
    assert.equal(await count(ASSIGNMENT_KIND), 1, 'one assignment');
    const records = await customer.client.query([{ kinds: [AUCTION_RECORD_KIND] }]);
    assert.equal(records.length, 1, 'one record');
    await second.stop();
  } finally {
    customer.close();
    await relay.close();
    await removeDir(first.dataDir);
  }
});
