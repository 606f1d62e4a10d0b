import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AUCTION_RECORD_KIND } from '../../auction/kinds.ts';
import { parseAuctionRecord } from '../../auction/record.ts';
import { systemClock } from '../../core/clock.ts';
import { configSchema } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { transitions } from '../../dvm/job-state.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { Payouts } from '../../payments/payouts.ts';
import { RelayClient } from '../../relay/client.ts';
import { Customer } from '../../testkit/customer.ts';
import { type EmbeddedWallet, startEmbeddedWallet } from '../../testkit/embedded-wallet.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';

/**
 * Three full instances, each with its own embedded relay and agents (docs/federation.md). A peers with B's
 * and C's relays, B with A's, C with none. One embedded wallet service (on a relay of its own) holds every
 * instance's and the customer's sats, reached over NWC. On A: an echo job is auctioned among A's agent and
 * B's (cheaper) agent, won by B's, paid by the customer to A and by A to B's agent; a summary (kind 5001, which
 * only C serves) is forwarded to C, paid to C and delivered once; with B killed, B's agent is never chosen.
 */
const SUMMARY_KIND = 5001;
const limits = { eventsPerSecond: 10_000, eventsBurst: 10_000 };
const auction = { enabled: true, bidWindowMs: 1500, revealGraceMs: 500 };
const paymentConfig = { feePct: 10, minPriceMsats: 1000 };

let ra: TestRelay;
let rb: TestRelay;
let rc: TestRelay;
let rw: TestRelay;
let wallets: EmbeddedWallet;
let a: TestNetwork;
let b: TestNetwork;
let c: TestNetwork;
let customer: Customer;
let reader: RelayClient;
let bStopped = false;
let payouts: Payouts;

before(async () => {
  ra = await startTestRelay({ limits });
  rb = await startTestRelay({ limits });
  rc = await startTestRelay({ limits });
  rw = await startTestRelay({ limits });
  wallets = await startEmbeddedWallet({ relayUrl: rw.url });
  const wa = wallets.connect('instance A');
  const wb = wallets.connect('instance B');
  const wc = wallets.connect('instance C');
  c = await startTestNetwork({
    relayUrl: rc.url,
    agents: personas([
      { name: 'sage', serves: [{ kind: SUMMARY_KIND, handler: 'extractive-summary', priceMsats: 2000 }] },
    ]),
    auction,
    payments: { wallet: wc.wallet, config: paymentConfig },
  });
  b = await startTestNetwork({
    relayUrl: rb.url,
    agents: personas([{ name: 'bee', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 1000 }] }]),
    auction,
    payments: { wallet: wb.wallet, config: paymentConfig },
    federation: { peers: [ra.url] },
  });
  a = await startTestNetwork({
    relayUrl: ra.url,
    agents: personas([{ name: 'ant', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 9000 }] }]),
    auction,
    payments: { wallet: wa.wallet, config: paymentConfig },
    federation: { peers: [rb.url, rc.url] },
  });
  // What `timmy start` runs beside A's network (cli/compose-payments.ts): it pays approved withdrawals.
  payouts = new Payouts({
    treasury: a.network.treasury,
    wallet: wa.wallet,
    payments: configSchema.parse({ payments: { walletRetryMs: 200 } }).payments,
    clock: systemClock,
    logger: silentLogger,
  });
  payouts.start();
  customer = new Customer(ra.url, wallets.connect('customer', 10_000_000).wallet);
  reader = new RelayClient({ url: ra.url, logger: silentLogger });
});

after(async () => {
  await payouts.stop();
  customer.close();
  reader.close();
  await Promise.all([a.stop(), bStopped ? undefined : b.stop(), c.stop()]);
  await wallets.close();
  await Promise.all([ra, rb, rc, rw].map((r) => r.close().catch(() => {})));
  await Promise.all([a, b, c].map((n) => removeDir(n.dataDir)));
});

test('A discovers the desks and agents of B and C on their relays', async () => {
  await until(
    () => {
      const names = a.network.peers?.agents().map((x) => x.name.split('@')[0]) ?? [];
      return names.includes('bee') && names.includes('sage');
    },
    20_000,
    "B's and C's agents in A's directory",
  );
  const desks = a.network.peers?.desks() ?? [];
  assert.deepEqual(desks.map((d) => d.pubkey).sort(), [b.pubkeyOf('timmy'), c.pubkeyOf('timmy')].sort());
  assert.deepEqual(desks.find((d) => d.pubkey === c.pubkeyOf('timmy'))?.kinds, [SUMMARY_KIND]);
});

test("an echo job on A is won by B's agent in A's auction, paid by the customer to A and by A to B's agent", async () => {
  const bee = b.pubkeyOf('bee');
  // B's agent works on A's relay (its heartbeats there) and is on A's roster.
  await until(() => a.network.roster().some((x) => x.pubkey === bee), 20_000, "B's agent on A's roster");
  await until(() => a.network.isAlive(bee), 20_000, "B's agent alive on A's relay");
  const balanceOfB = (): number => wallets.service.balances().connections['instance B'] ?? 0;
  const before = balanceOfB();
  const out = await customer.submit(
    buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'across instances', type: 'text' }] }),
    60_000,
  );
  assert.equal(out.error, undefined, out.error);
  assert.equal(out.result?.content, 'across instances');
  assert.equal(out.result?.pubkey, bee, "B's agent delivered");
  const view = a.network.log.get(out.request.id);
  assert.deepEqual(view && transitions(view), [
    'posted',
    'bidding',
    'awaiting-payment',
    'bidding',
    'assigned',
    'executing',
    'completed',
  ]);
  // The auction record on A's relay names B's agent as the winner, at the price the assignment carried.
  const recordEvent = view?.outbox.find((o) => o.key === 'auction-record:1')?.event;
  assert.ok(recordEvent);
  assert.equal(recordEvent.kind, AUCTION_RECORD_KIND);
  const record = parseAuctionRecord(recordEvent);
  assert.equal(record.winner?.bidder, bee);
  const price = record.priceMsats ?? 0;
  assert.ok(price > 0);
  // A pays B's agent's invoice: B's wallet receives exactly the price.
  await until(() => balanceOfB() === before + price, 30_000, "B's agent paid").catch((err: unknown) => {
    const now = a.network.log.get(out.request.id);
    throw new Error(
      `${String(err)}: B has ${balanceOfB() - before} more msats, price ${price}; payout ${JSON.stringify(now?.effects['peer-payout'])}; withdrawals ${JSON.stringify(a.network.treasury.withdrawals.list())}; result tags ${JSON.stringify(out.result?.tags)}`,
    );
  });
  // A labels B's agent (NIP-32, the payment as evidence) and its score on A rises above a newcomer's.
  const prior = 50;
  await until(() => a.network.reputation.score(bee).score > prior, 30_000, "B's agent's score on A rises");
  const score = a.network.reputation.score(bee, ECHO_KIND);
  assert.ok(score.score > prior, `score for kind ${ECHO_KIND}: ${score.score}`);
  assert.ok(score.labels >= 1);
  assert.equal(a.network.agents().length > 0, true);
  const labels = await reader.query([{ kinds: [1985], authors: [a.pubkeyOf('timmy')], '#p': [bee] }]);
  assert.ok(
    labels.some((l) => l.tags.some((t) => t[0] === 'l' && t[1] === 'work-completed')),
    'a work-completed label about B agent on A relay',
  );
  const payout = a.network.log.get(out.request.id)?.effects['peer-payout'];
  assert.deepEqual((payout as { paid?: boolean } | undefined)?.paid, true);
});

test('a summary that only C serves is forwarded by A to C, paid to C and delivered once', async () => {
  const text =
    'Federation lets instances share work. A desk forwards a job no agent of its own serves. The peer desk answers the customer. ' +
    'Payment goes to the desk that does the work. Loops are stopped by the path and the hop count.';
  const out = await customer.submit(
    buildJobRequest({ kind: SUMMARY_KIND, inputs: [{ data: text, type: 'text' }] }),
    60_000,
  );
  assert.equal(out.error, undefined, out.error);
  assert.equal(out.result?.pubkey, c.pubkeyOf('sage'));
  assert.equal(a.network.log.get(out.request.id)?.state, 'forwarded');
  assert.equal(c.network.log.get(out.request.id)?.state, 'completed');
  assert.ok(
    out.feedback.some(
      (f) => f.pubkey === c.pubkeyOf('timmy') && f.tags.some((t) => t[1] === 'payment-required'),
    ),
    "C asked for the payment (relayed to A's relay)",
  );
  const results = await reader.query([{ kinds: [SUMMARY_KIND + 1000], '#e': [out.request.id] }]);
  assert.equal(results.length, 1, 'one result');
});

test("with B killed, B's agent is never chosen: A's own agent does the work", async () => {
  await b.stop();
  bStopped = true;
  await rb.close();
  const bee = b.pubkeyOf('bee');
  await until(() => !a.network.isAlive(bee), 20_000, "B's agent lapsed on A");
  const out = await customer.submit(
    buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'B is gone', type: 'text' }] }),
    60_000,
  );
  assert.equal(out.error, undefined, out.error);
  assert.equal(out.result?.pubkey, a.pubkeyOf('ant'));
  const entries = a.network.log.entries(out.request.id);
  assert.ok(!entries.some((e) => e.entry.type === 'assigned' && e.entry.agent === bee));
});
