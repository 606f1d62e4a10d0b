import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AUCTION_OPEN_KIND, AUCTION_RECORD_KIND } from '../../auction/kinds.ts';
import { verifyOnRelay } from '../../auction/on-relay.ts';
import { parseAuctionRecord } from '../../auction/record.ts';
import { silentLogger } from '../../core/logger.ts';
import { JobClient } from '../../customer/job-client.ts';
import { JobPayer } from '../../customer/payer.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { MemoryLightning, MemoryWallet } from '../../payments/memory-wallet.ts';
import { RelayClient } from '../../relay/client.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';

/**
 * What a customer pays when the job is auctioned, over a real relay with paid jobs (the in-memory wallet,
 * hold invoices, a 10 % fee, 1000 msats minimum): with one, two and three agents serving the kind, with and
 * without a `bid` tag, plain and encrypted. A `bid` is what the customer pays in all: the auction's reserve
 * leaves room for the fee, and a sole bidder is paid its listed price (capped by the reserve), not the
 * customer's ceiling (docs/auctions.md, "What a sole bidder is paid"). Every record verifies from relay
 * events alone.
 */

const FUNDS = 10_000_000;

interface Market {
  relay: TestRelay;
  net: TestNetwork;
  lightning: MemoryLightning;
  wallet: MemoryWallet;
  customerWallet: MemoryWallet;
  conn: RelayClient;
  client: JobClient;
}

async function market(agents: { name: string; price: number }[]): Promise<Market> {
  const relay = await startTestRelay();
  const lightning = new MemoryLightning();
  const wallet = new MemoryWallet({ network: lightning, holdInvoices: true });
  const customerWallet = new MemoryWallet({ network: lightning, balanceMsats: FUNDS });
  const net = await startTestNetwork({
    relayUrl: relay.url,
    agents: personas(
      agents.map((a) => ({
        name: a.name,
        serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: a.price }],
      })),
    ),
    // A window a loaded machine still meets: late bids would leave the auction without a winner.
    auction: { enabled: true, bidWindowMs: 1200, revealGraceMs: 800 },
    payments: { wallet, config: { feePct: 10, minPriceMsats: 1000 } },
  });
  const conn = new RelayClient({ url: relay.url, logger: silentLogger });
  // The agents beat before the first auction invites them.
  await until(
    () => agents.every((a) => net.network.isAlive(net.pubkeyOf(a.name))),
    30_000,
    'every agent alive at the desk',
  );
  return {
    relay,
    net,
    lightning,
    wallet,
    customerWallet,
    conn,
    client: new JobClient({ relay: conn, signer: generateLocalSigner() }),
  };
}

async function close(m: Market): Promise<void> {
  const check = m.net.network.treasury.check();
  assert.ok(check.ok, JSON.stringify(check));
  assert.equal(m.net.network.treasury.holdingsMsats(), m.wallet.balanceMsats, 'treasury and wallet agree');
  assert.equal(m.wallet.balanceMsats + m.customerWallet.balanceMsats, FUNDS, 'no sats created or lost');
  m.conn.close();
  await m.net.stop();
  await m.relay.close();
  await removeDir(m.net.dataDir);
}

interface Paid {
  content?: string;
  error?: string;
  /** What the customer paid. */
  paidMsats: number;
  /** The auction record's price (undefined when no record or no price). */
  priceMsats?: number;
  winner?: string;
}

async function order(
  m: Market,
  o: { bid?: number; to?: string; encrypt?: boolean; text?: string },
): Promise<Paid> {
  const before = m.customerWallet.balanceMsats;
  const payer = new JobPayer({ wallet: m.customerWallet, budgetMsats: o.bid ?? 1_000_000 });
  const out = await m.client.submit(
    {
      kind: ECHO_KIND,
      inputs: [{ data: o.text ?? 'price me', type: 'text' }],
      bidMsats: o.bid,
      provider: o.to,
      encrypt: o.encrypt,
    },
    { timeoutMs: 20_000, payer, settleMs: 5000 },
  );
  const opens = await m.conn.query([{ kinds: [AUCTION_OPEN_KIND], '#e': [out.request.id] }]);
  const records =
    opens.length > 0
      ? await m.conn.query([{ kinds: [AUCTION_RECORD_KIND], '#e': opens.map((e) => e.id) }])
      : [];
  const record = records.map(parseAuctionRecord).find((r) => r.jobId === out.request.id);
  if (record) await verifies(m, out.request.id);
  return {
    content: out.content,
    error: out.error,
    paidMsats: before - m.customerWallet.balanceMsats,
    priceMsats: record?.priceMsats,
    winner: record?.winner?.bidder,
  };
}

/** The auction of the job, recomputed from relay events alone, agrees with its record. */
async function verifies(m: Market, jobId: string): Promise<void> {
  const v = await verifyOnRelay(m.conn, m.net.pubkeyOf('timmy'), jobId);
  assert.ok(v.ok, v.problems.join('; '));
}

describe('one agent serves the kind', () => {
  let m: Market;
  before(async () => {
    m = await market([{ name: 'solo', price: 3000 }]);
  });
  after(() => close(m));

  test('no bid tag: the sole bidder is paid its listed price; the customer pays it and the fee', async () => {
    const r = await order(m, {});
    assert.equal(r.content, 'price me');
    assert.equal(r.priceMsats, 3000);
    assert.equal(r.paidMsats, 3300);
  });

  test('a bid of 1,000,000 msats: the job is done at the listed price, not at the customer’s ceiling', async () => {
    const r = await order(m, { bid: 1_000_000 });
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.content, 'price me');
    assert.equal(r.priceMsats, 3000);
    assert.equal(r.paidMsats, 3300);
  });

  test('a bid that cannot cover the work and the fee fails with the reason, and nothing is paid', async () => {
    const r = await order(m, { bid: 3200 });
    assert.match(
      r.error ?? '',
      /the price is 3300 msats \(3000 for the work \+ 300 the instance's fee\), above your bid of 3200 msats/,
    );
    assert.equal(r.paidMsats, 0);
  });

  test('an encrypted request’s bid is the same ceiling as a plain one’s (its bid tag is public: NIP-90 seals only inputs and params)', async () => {
    for (const encrypt of [false, true]) {
      const r = await order(m, { bid: 3200, to: m.net.pubkeyOf('solo'), encrypt });
      assert.match(r.error ?? '', /above your bid of 3200 msats/, `encrypted: ${encrypt}`);
      assert.equal(r.paidMsats, 0);
    }
  });

  test('encrypted to the agent, with a bid: read only by the agent, priced and paid the same', async () => {
    const solo = m.net.pubkeyOf('solo');
    const r = await order(m, { to: solo, encrypt: true, bid: 1_000_000, text: 'sealed' });
    assert.equal(r.content, 'sealed');
    assert.equal(r.priceMsats, 3000);
    assert.equal(r.paidMsats, 3300);
  });
});

test('a NIP-04 encrypted request (the scheme NIP-90 names) is paid too, and its result comes back NIP-04 encrypted', async () => {
  const m = await market([{ name: 'solo', price: 3000 }]);
  try {
    const customer = generateLocalSigner();
    const client = new JobClient({ relay: m.conn, signer: customer });
    const solo = m.net.pubkeyOf('solo');
    const sealed = await customer.nip04.encrypt(solo, JSON.stringify([['i', 'old school', 'text']]));
    const request = await customer.signEvent({
      kind: ECHO_KIND,
      created_at: Math.floor(Date.now() / 1000),
      tags: [['p', solo], ['encrypted'], ['bid', '1000000']],
      content: sealed,
    });
    const payer = new JobPayer({ wallet: m.customerWallet, budgetMsats: 1_000_000 });
    const out = await client.follow(request, { timeoutMs: 20_000, payer, settleMs: 5000 }, true);
    assert.equal(out.error, undefined, out.error);
    assert.ok(out.result?.content.includes('?iv='), 'the result is NIP-04 encrypted, as the request was');
    assert.equal(out.content, 'old school');
    assert.equal(FUNDS - m.customerWallet.balanceMsats, 3300);
  } finally {
    await close(m);
  }
});

describe('two agents serve the kind', () => {
  let m: Market;
  before(async () => {
    m = await market([
      { name: 'cheap', price: 3000 },
      { name: 'dear', price: 7000 },
    ]);
  });
  after(() => close(m));

  test('no bid tag: the cheaper wins, paid the second price', async () => {
    const r = await order(m, {});
    assert.equal(r.winner, m.net.pubkeyOf('cheap'));
    assert.equal(r.priceMsats, 7000);
    assert.equal(r.paidMsats, 7700);
  });

  test('a bid of 6000: the dearer bid is above the reserve (5454), so the cheaper is the sole valid bid, at its listed price', async () => {
    const r = await order(m, { bid: 6000 });
    assert.equal(r.content, 'price me');
    assert.equal(r.winner, m.net.pubkeyOf('cheap'));
    assert.equal(r.priceMsats, 3000);
    assert.equal(r.paidMsats, 3300);
  });

  test('encrypted to the dearer one: only it is invited, and it is paid its listed price', async () => {
    const r = await order(m, { to: m.net.pubkeyOf('dear'), encrypt: true, bid: 1_000_000, text: 'for dear' });
    assert.equal(r.content, 'for dear');
    assert.equal(r.winner, m.net.pubkeyOf('dear'));
    assert.equal(r.priceMsats, 7000);
    assert.equal(r.paidMsats, 7700);
  });
});

describe('three agents serve the kind', () => {
  let m: Market;
  before(async () => {
    m = await market([
      { name: 'cheap', price: 3000 },
      { name: 'dear', price: 7000 },
      { name: 'dearest', price: 9000 },
    ]);
  });
  after(() => close(m));

  test('no bid tag, and a bid of 1,000,000: second price, whatever the ceiling', async () => {
    for (const bid of [undefined, 1_000_000]) {
      const r = await order(m, { bid });
      assert.equal(r.winner, m.net.pubkeyOf('cheap'));
      assert.equal(r.priceMsats, 7000);
      assert.equal(r.paidMsats, 7700);
    }
  });

  test('a bid of 8500: the reserve (7727) keeps the two cheaper bids; second price 7000, within the bid', async () => {
    const r = await order(m, { bid: 8500 });
    assert.equal(r.priceMsats, 7000);
    assert.equal(r.paidMsats, 7700);
    assert.ok(r.paidMsats <= 8500);
  });
});
