import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseAuctionRecord } from '../../auction/record.ts';
import { systemClock } from '../../core/clock.ts';
import { configSchema } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import type { NwcWallet } from '../../payments/nwc-wallet.ts';
import { Payouts } from '../../payments/payouts.ts';
import { agentAccount, INSTANCE, type Treasury } from '../../payments/treasury.ts';
import { Customer } from '../../testkit/customer.ts';
import { type EmbeddedWallet, startEmbeddedWallet } from '../../testkit/embedded-wallet.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';

/**
 * The whole paid flow with nothing faked: sealed-bid auctions set the price, the invoices are real regtest
 * BOLT11 from the embedded NIP-47 wallet service, every wallet call is NWC over a real relay. Two instances,
 * each on its own relay, use one wallet service (on the first relay): they are paid by the same customer and
 * pay each other, which is how federation is tested without a Lightning network.
 */
const text = (data: string) => ({ data, type: 'text' as const });
const CUSTOMER_FUNDS = 5_000_000;

describe('paid jobs end to end (embedded wallet service, NWC, auctions)', () => {
  let relayA: TestRelay;
  let relayB: TestRelay;
  let embedded: EmbeddedWallet;
  let netA: TestNetwork;
  let netB: TestNetwork;
  let treasuryA: Treasury;
  let treasuryB: Treasury;
  let customerA: Customer;
  let customerB: Customer;
  let walletB: NwcWallet;

  before(async () => {
    relayA = await startTestRelay();
    relayB = await startTestRelay();
    embedded = await startEmbeddedWallet({ relayUrl: relayA.url });
    const walletA = embedded.connect('instance-a').wallet;
    walletB = embedded.connect('instance-b').wallet;
    const customerWallet = embedded.connect('customer', CUSTOMER_FUNDS).wallet;
    const agents = personas([
      { name: 'echo-cheap', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 3000 }] },
      { name: 'echo-dear', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 7000 }] },
      { name: 'echo-dearest', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 9000 }] },
    ]);
    const common = {
      agents,
      // A window a loaded machine still meets: bids that arrive late leave the auction without a winner.
      auction: { enabled: true, bidWindowMs: 2000, revealGraceMs: 1500 },
    };
    netA = await startTestNetwork({
      ...common,
      relayUrl: relayA.url,
      payments: { wallet: walletA, config: { feePct: 10 } },
    });
    netB = await startTestNetwork({
      ...common,
      relayUrl: relayB.url,
      payments: { wallet: walletB, config: { feePct: 20 } },
    });
    treasuryA = netA.network.treasury;
    treasuryB = netB.network.treasury;
    customerA = new Customer(relayA.url, customerWallet);
    customerB = new Customer(relayB.url, customerWallet);
    // Workers need a heartbeat before the first auction invites them.
    const names = ['echo-cheap', 'echo-dear', 'echo-dearest'];
    for (const net of [netA, netB])
      await until(
        () => names.every((n) => net.network.isAlive(net.pubkeyOf(n))),
        30_000,
        'every worker alive at the desk',
      );
  });

  after(async () => {
    customerA.close();
    customerB.close();
    await netA.stop();
    await netB.stop();
    await embedded.close();
    treasuryA.close();
    treasuryB.close();
    await relayA.close();
    await relayB.close();
    await removeDir(netA.dataDir);
    await removeDir(netB.dataDir);
  });

  const invariants = async () => {
    const service = embedded.service.checkInvariants();
    assert.ok(service.ok, JSON.stringify(service));
    assert.equal(service.totalMsats, 0);
    for (const t of [treasuryA, treasuryB]) assert.ok(t.check().ok, JSON.stringify(t.check()));
    const conns = embedded.service.balances().connections;
    assert.equal(treasuryA.holdingsMsats(), conns['instance-a'], 'A: treasury = wallet');
    assert.equal(treasuryB.holdingsMsats(), conns['instance-b'], 'B: treasury = wallet');
    assert.equal(embedded.total(), CUSTOMER_FUNDS, 'no sats created or lost');
  };

  test('a job on instance A: the auction price + fee, paid over NWC, held, settled; the winner earns the second price', async () => {
    const out = await customerA.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('paid over NWC')] }),
      20_000,
    );
    assert.equal(out.error, undefined, out.error);
    assert.equal(out.result?.content, 'paid over NWC');
    assert.equal(out.payments.length, 1);
    const ask = out.feedback.find((e) => e.tags.some((t) => t[1] === 'payment-required'));
    const amount = ask?.tags.find((t) => t[0] === 'amount');
    assert.match(amount?.[2] ?? '', /^lnbcrt/, 'a real regtest BOLT11 invoice');
    await out.payments[0]?.outcome;
    await until(() => treasuryA.escrows.get(out.request.id)?.state === 'settled', 10_000, 'settled');

    // The record names the winner and the price (the second-lowest bid); the amount is that plus 10 %.
    const records = (await customerA.client.query([{ kinds: [7613] }]))
      .map(parseAuctionRecord)
      .filter((r) => r.jobId === out.request.id);
    assert.equal(records.length, 1, 'one auction record');
    const record = records[0] as ReturnType<typeof parseAuctionRecord>;
    const price = record.priceMsats as number;
    assert.equal(Number(amount?.[1]), price + Math.ceil(price / 10));
    assert.equal(out.result?.pubkey, record.winner?.bidder);
    assert.equal(
      treasuryA.balance(agentAccount('echo-cheap')),
      price,
      'the cheapest bidder won and earned the price',
    );
    assert.equal(treasuryA.balance(INSTANCE), Math.ceil(price / 10));
    await invariants();
  });

  test('the same customer pays a job on instance B (another relay, the same wallet service)', async () => {
    const out = await customerB.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('federated')] }),
      20_000,
    );
    assert.equal(out.result?.content, 'federated');
    await out.payments[0]?.outcome;
    await until(() => treasuryB.escrows.get(out.request.id)?.state === 'settled', 10_000, 'settled on B');
    assert.ok(treasuryB.balance(INSTANCE) > 0);
    await invariants();
  });

  test('instance B pays instance A through the shared service (a withdrawal to A’s invoice)', async () => {
    const feeB = treasuryB.balance(INSTANCE);
    const walletA = embedded.connect('a-receiving').wallet;
    const invoice = await walletA.makeInvoice({ amountMsats: feeB, description: 'B pays A' });
    const w = treasuryB.withdrawals.request({
      account: INSTANCE,
      invoice: invoice.invoice,
      paymentHash: invoice.paymentHash,
      amountMsats: feeB,
      requestedBy: 'test',
      autoApproveMsats: feeB,
    });
    assert.equal(w.state, 'approved');
    const payouts = new Payouts({
      treasury: treasuryB,
      wallet: walletB,
      payments: configSchema.parse({}).payments,
      clock: systemClock,
      logger: silentLogger,
    });
    await payouts.run();
    await payouts.stop();
    await until(() => treasuryB.withdrawals.get(w.id)?.state === 'paid', 10_000, 'withdrawal paid');
    assert.equal((await walletA.getBalance()).balanceMsats, feeB);
    assert.equal(treasuryB.balance(INSTANCE), 0);
    const service = embedded.service.checkInvariants();
    assert.ok(service.ok, JSON.stringify(service));
  });
});
