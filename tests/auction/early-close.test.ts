import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAuctionOpen } from '../../auction/events.ts';
import {
  AUCTION_OPEN_KIND,
  AUCTION_RECORD_KIND,
  BID_COMMITMENT_KIND,
  GIFT_WRAP_KIND,
} from '../../auction/kinds.ts';
import { parseAuctionRecord } from '../../auction/record.ts';
import { verifyAuction } from '../../auction/verify.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { ECHO_KIND, HANDLER_INFO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay } from '../../testkit/relay.ts';

/**
 * The early close (docs/auctions.md): once every invited bidder has a commitment on the relay, the bidders
 * reveal and the desk settles without waiting for the deadline; the record still verifies from relay events
 * alone. A bidder that never commits leaves the deadline in force. The early cases use a minute-long bid
 * window, so a job that completes well within the test's timeout can only have closed early (no tight
 * timing); the late case only checks that things happened after the deadline, never how soon.
 */
const echo = (name: string, priceMsats: number) => ({
  name,
  serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats }],
});

async function auctionOf(customer: Customer, jobId: string) {
  const [openEvent] = await customer.client.query([{ kinds: [AUCTION_OPEN_KIND], '#e': [jobId] }]);
  assert.ok(openEvent, 'the auction open is on the relay');
  const records = await customer.client.query([{ kinds: [AUCTION_RECORD_KIND], '#e': [openEvent.id] }]);
  const record = records[0] as NostrEvent;
  assert.ok(record, 'the record is on the relay');
  const relayCommitments = await customer.client.query([
    { kinds: [BID_COMMITMENT_KIND], '#e': [openEvent.id] },
  ]);
  const open = parseAuctionOpen(openEvent);
  const announcements = await customer.client.query([{ kinds: [HANDLER_INFO_KIND], authors: open.invited }]);
  const verdict = verifyAuction({ open: openEvent, record, relayCommitments, announcements });
  return { open, record, parsed: parseAuctionRecord(record), verdict };
}

for (const agents of [[echo('solo', 1000)], [echo('cheap', 1000), echo('dear', 3000)]]) {
  test(`${agents.length} invited bidder(s), all committed: settled before the deadline, and the record verifies`, async () => {
    const relay = await startTestRelay();
    const customer = new Customer(relay.url);
    const net = await startTestNetwork({
      relayUrl: relay.url,
      agents: personas(agents),
      auction: { enabled: true, bidWindowMs: 60_000, revealGraceMs: 30_000 },
    });
    try {
      const out = await customer.submit(
        buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'early', type: 'text' }] }),
        20_000,
      );
      assert.equal(out.error, undefined, out.error);
      assert.equal(out.result?.content, 'early');
      assert.equal(out.result?.pubkey, net.pubkeyOf(agents[0]?.name ?? ''), 'the cheapest agent did the job');
      const { open, record, parsed, verdict } = await auctionOf(customer, out.request.id);
      assert.deepEqual(verdict.problems, []);
      assert.equal(open.invited.length, agents.length);
      assert.ok(record.created_at <= open.deadline, 'the record came before the deadline');
      assert.equal(parsed.commitments.length, agents.length);
      assert.equal(parsed.invalid.length, 0);
      assert.equal(parsed.priceMsats, agents.length === 1 ? 1000 : 3000);
    } finally {
      customer.close();
      await net.stop();
      await relay.close();
      await removeDir(net.dataDir);
    }
  });
}

test('an invited bidder that never commits: bidding runs to the deadline, and the record verifies', async () => {
  const relay = await startTestRelay();
  const customer = new Customer(relay.url);
  const net = await startTestNetwork({
    relayUrl: relay.url,
    agents: personas([echo('cheap', 1000), echo('silent', 500)]),
    auction: { enabled: true, bidWindowMs: 3000, revealGraceMs: 300 },
    // `silent` is alive and invited, but its commitment (and opening) never reach the relay.
    swallow: (agent, e) =>
      agent === 'silent' && (e.kind === BID_COMMITMENT_KIND || e.kind === GIFT_WRAP_KIND),
  });
  try {
    const request = await customer.signer.signEvent(
      buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'waits', type: 'text' }] }),
    );
    await customer.client.publish(request);
    // The cheap bidder commits; while `silent` has not, its opening stays with it and the job stays bidding.
    await until(() => net.network.log.get(request.id)?.state === 'bidding', 10_000, 'bidding');
    const openings = () =>
      Object.keys(net.network.log.get(request.id)?.effects ?? {}).filter((k) => k.startsWith('opening:'));
    await until(() => openings().length > 0, 20_000, "the cheap bidder's opening");
    const openedAt = Date.now();
    const out = await customer.follow(request, 20_000);
    assert.equal(out.error, undefined, out.error);
    assert.equal(out.result?.pubkey, net.pubkeyOf('cheap'));
    assert.equal(openings().length, 1);
    const { open, record, parsed, verdict } = await auctionOf(customer, request.id);
    assert.deepEqual(verdict.problems, []);
    assert.deepEqual([...open.invited].sort(), [net.pubkeyOf('cheap'), net.pubkeyOf('silent')].sort());
    assert.ok(record.created_at > open.deadline, 'settled after the deadline');
    // Sealed until bidding closed: the opening was only sent once the deadline had passed.
    assert.ok(openedAt >= (open.deadline + 1) * 1000, 'the opening came after the deadline');
    assert.deepEqual(
      parsed.commitments.map((c) => c.pubkey),
      [net.pubkeyOf('cheap')],
    );
  } finally {
    customer.close();
    await net.stop();
    await relay.close();
    await removeDir(net.dataDir);
  }
});
