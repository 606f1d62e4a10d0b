import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AUCTION_RECORD_KIND } from '../../auction/kinds.ts';
import { parseAuctionRecord } from '../../auction/record.ts';
import { transitions } from '../../dvm/job-state.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { runTimmy, tempDataDir } from '../cli/harness.ts';

/**
 * End to end: five agents serve the echo kind at different prices; every job goes through a sealed-bid
 * auction; the cheapest agent wins and is paid the second-lowest bid; a separate verifier process
 * (`timmy auction verify`, with nothing but the relay URL and Timmy's pubkey) recomputes the outcome.
 */
let relay: TestRelay;
let net: TestNetwork;
let customer: Customer;
const prices = [4000, 1000, 3000, 2500, 5000];

before(async () => {
  relay = await startTestRelay();
  net = await startTestNetwork({
    relayUrl: relay.url,
    agents: personas(
      prices.map((priceMsats, i) => ({
        name: `echo${i + 1}`,
        serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats }],
      })),
    ),
    auction: { enabled: true, bidWindowMs: 800, revealGraceMs: 300 },
  });
  customer = new Customer(relay.url);
});
after(async () => {
  customer.close();
  await net.stop();
  await relay.close();
  await removeDir(net.dataDir);
});

test('a job with five bidders: the lowest bid wins, paid the second price; a separate process verifies it', async () => {
  const out = await customer.submit(
    buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'auctioned', type: 'text' }], bidMsats: 10_000 }),
    20_000,
  );
  assert.equal(out.error, undefined, out.error);
  assert.equal(out.result?.content, 'auctioned');
  assert.equal(out.result?.pubkey, net.pubkeyOf('echo2'), 'the cheapest agent did the job');
  await until(() => net.network.log.get(out.request.id)?.state === 'completed', 5000, 'completed');
  const view = net.network.log.get(out.request.id);
  assert.deepEqual(view && transitions(view), ['posted', 'bidding', 'assigned', 'executing', 'completed']);

  const records = await customer.client.query([
    { kinds: [AUCTION_RECORD_KIND], authors: [net.pubkeyOf('timmy')] },
  ]);
  const record = records.map(parseAuctionRecord).find((r) => r.jobId === out.request.id);
  assert.ok(record);
  assert.equal(record.winner?.bidder, net.pubkeyOf('echo2'));
  assert.equal(record.winner?.amountMsats, 1000);
  assert.equal(record.priceMsats, 2500, 'the second-lowest bid');
  assert.equal(record.commitments.length, 5);
  assert.equal(record.invalid.length, 0);

  const dataDir = await tempDataDir(); // the verifier knows nothing but the relay and Timmy's pubkey
  try {
    const v = await runTimmy(
      [
        'auction',
        'verify',
        out.request.id,
        '--relay',
        relay.url,
        '--coordinator',
        net.pubkeyOf('timmy'),
        '--json',
      ],
      { TIMMY_DATA_DIR: dataDir },
    );
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const report = JSON.parse(v.stdout) as {
      ok: boolean;
      problems: string[];
      winner: string;
      priceMsats: number;
    };
    assert.deepEqual(report, { ok: true, problems: [], winner: net.pubkeyOf('echo2'), priceMsats: 2500 });
  } finally {
    await removeDir(dataDir);
  }
});
