import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import macaroon from 'macaroon';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { MemoryLightning, MemoryWallet } from '../payments/memory-wallet.ts';
import { WalletError } from '../payments/wallet.ts';
import { type L402Decision, L402Gate, type L402GateOptions } from './l402.ts';

/**
 * The L402 gate's limits on invoices: a token bucket per client for challenges that need a new invoice
 * (429 beyond it), and a bounded pool of open invoices that a full gate shares between challenges (503 when
 * none of the route is left), so unauthenticated requests cannot make invoices at will.
 */

function setup(overrides: Partial<L402GateOptions> = {}) {
  const clock = new ManualClock();
  const network = new MemoryLightning();
  const serverWallet = new MemoryWallet({ network, clock });
  const clientWallet = new MemoryWallet({ network, clock, balanceMsats: 100_000_000 });
  const gate = new L402Gate({
    wallet: serverWallet,
    rootKey: randomBytes(32),
    routes: ['/api/a=1000', '/api/b=2000', '/api/p/*=500'],
    tokenTtlSeconds: 3600, // invoices expire after 600 s; the pool hands out those with 150 s left or more
    clock,
    logger: silentLogger,
    ...overrides,
  });
  const invoicesMade = () => serverWallet.calls.filter((c) => c.method === 'make_invoice').length;
  const ask = (client: string, path = '/api/a') => gate.check('GET', path, undefined, { client });
  return { clock, gate, serverWallet, clientWallet, invoicesMade, ask };
}

type Refusal = Extract<L402Decision, { allowed: false }>;
const refusal = (d: L402Decision): Refusal => {
  assert.ok(!d.allowed, 'expected a refusal');
  return d;
};
const statusOf = (d: L402Decision): number => (d.allowed ? 200 : d.status);
const tokenIdOf = (mac: string): string =>
  Buffer.from(macaroon.importMacaroon(mac).identifier).subarray(34).toString('hex');
const caveatsOf = (mac: string): string[] =>
  macaroon.importMacaroon(mac).caveats.map((c) => Buffer.from(c.identifier).toString());

describe('L402 rate limit per client', () => {
  test('300 challenges from one client make 10 invoices; the 11th is 429 with Retry-After; a minute later, more', async () => {
    const { ask, invoicesMade, clock } = setup();
    const statuses: number[] = [];
    let eleventh: Refusal | undefined;
    for (let i = 0; i < 300; i++) {
      const d = await ask('198.51.100.7');
      statuses.push(statusOf(d));
      if (i === 10) eleventh = refusal(d);
    }
    assert.equal(invoicesMade(), 10);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(402));
    assert.deepEqual(new Set(statuses.slice(10)), new Set([429]));
    assert.equal(eleventh?.status, 429);
    assert.equal(eleventh?.headers['Retry-After'], '6', 'a token comes back every 6 s at 10 a minute');
    assert.match(
      String(eleventh?.body.error),
      /^rate-limited: at most 10 new L402 invoices a minute per client/,
    );

    // Another address is another client.
    assert.equal(statusOf(await ask('198.51.100.8')), 402);
    // One token back after 6 s, all ten after a minute.
    clock.advance(6_000);
    assert.equal(statusOf(await ask('198.51.100.7')), 402);
    assert.equal(statusOf(await ask('198.51.100.7')), 429);
    clock.advance(60_000);
    for (let i = 0; i < 10; i++) assert.equal(statusOf(await ask('198.51.100.7')), 402);
    assert.equal(statusOf(await ask('198.51.100.7')), 429);
    assert.equal(invoicesMade(), 10 + 1 + 1 + 10);
  });

  test('challengesPerMinute sets the limit; a token still opens its route when its client is limited', async () => {
    const { gate, ask, clientWallet, invoicesMade } = setup({ challengesPerMinute: 2 });
    const first = refusal(await ask('10.1.1.1'));
    await ask('10.1.1.1');
    const limited = refusal(await ask('10.1.1.1'));
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['Retry-After'], '30');
    assert.match(String(limited.body.error), /at most 2 new L402 invoices a minute/);
    const { preimage } = await clientWallet.payInvoice({ invoice: String(first.body.invoice) });
    const auth = `L402 ${first.body.macaroon}:${preimage}`;
    assert.equal(statusOf(await gate.check('GET', '/api/a', auth, { client: '10.1.1.1' })), 200);
    assert.equal(invoicesMade(), 2);
  });

  test('an IPv6 client is limited by its /64; an IPv4-mapped address as its IPv4 address', async () => {
    const { ask } = setup({ challengesPerMinute: 1 });
    assert.equal(statusOf(await ask('2001:db8:1:2::1')), 402);
    assert.equal(statusOf(await ask('2001:db8:1:2:ffff:ffff:ffff:ffff')), 429, 'the same /64');
    assert.equal(statusOf(await ask('2001:db8:1:3::1')), 402, 'another /64');
    assert.equal(statusOf(await ask('192.0.2.1')), 402);
    assert.equal(statusOf(await ask('::ffff:192.0.2.1')), 429);
  });

  test('challengesPerMinute 0: no per-client limit (behind a proxy), the pool still bounds the invoices', async () => {
    const { gate, ask, invoicesMade } = setup({ challengesPerMinute: 0, maxOpenChallenges: 20 });
    for (let i = 0; i < 50; i++) assert.equal(statusOf(await ask('10.0.0.1')), 402);
    assert.equal(invoicesMade(), 20);
    assert.equal(gate.trackedClients, 0);
  });

  test('requests without a client key share one bucket', async () => {
    const { gate } = setup({ challengesPerMinute: 1 });
    assert.equal(statusOf(await gate.check('GET', '/api/a', undefined)), 402);
    assert.equal(statusOf(await gate.check('GET', '/api/b', undefined, {})), 429);
  });

  test('the per-client table is bounded: a spray of addresses leaves at most maxTrackedClients', async () => {
    const { gate, ask, clock } = setup({ maxTrackedClients: 50, maxOpenChallenges: 10_000 });
    for (let i = 0; i < 500; i++) {
      assert.equal(statusOf(await ask(`198.18.${i >> 8}.${i & 255}`)), 402);
      assert.ok(gate.trackedClients <= 50, `${gate.trackedClients} clients tracked`);
    }
    clock.advance(60_000);
    await ask('192.0.2.1');
    assert.equal(gate.trackedClients, 1, 'idle clients are forgotten');
  });

  test('the limits are checked', () => {
    const base = {
      wallet: new MemoryWallet(),
      rootKey: randomBytes(32),
      routes: [],
      tokenTtlSeconds: 60,
      logger: silentLogger,
    };
    assert.throws(() => new L402Gate({ ...base, challengesPerMinute: -1 }), /challengesPerMinute/);
    assert.throws(() => new L402Gate({ ...base, challengesPerMinute: 1.5 }), /challengesPerMinute/);
    assert.throws(() => new L402Gate({ ...base, maxOpenChallenges: 0 }), /maxOpenChallenges/);
    assert.throws(() => new L402Gate({ ...base, maxTrackedClients: 0.5 }), /maxTrackedClients/);
    const gate = new L402Gate(base);
    assert.equal(gate.poolMinSecondsLeft, 15, 'a 30 s invoice is shared while it has half of it left');
    assert.equal(new L402Gate({ ...base, tokenTtlSeconds: 3600 }).poolMinSecondsLeft, 150);
    assert.equal(new L402Gate({ ...base, invoiceExpirySeconds: 60 }).poolMinSecondsLeft, 30);
  });
});

describe('L402 pool of open challenges', () => {
  test('300 challenges from 300 addresses make 100 invoices; the rest share them under distinct valid macaroons', async () => {
    const { gate, ask, invoicesMade, clientWallet, clock } = setup();
    const bodies: Record<string, unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      const d = refusal(await ask(`10.0.${i >> 8}.${i & 255}`));
      assert.equal(d.status, 402, `challenge ${i}`);
      bodies.push(d.body);
    }
    assert.equal(invoicesMade(), 100);
    assert.equal(gate.openChallenges, 100);
    const made = new Set(bodies.slice(0, 100).map((b) => b.paymentHash));
    assert.equal(made.size, 100);
    for (const b of bodies.slice(100)) assert.ok(made.has(b.paymentHash), 'a pooled hash');
    assert.equal(new Set(bodies.map((b) => tokenIdOf(String(b.macaroon)))).size, 300, 'distinct token ids');
    const now = Math.floor(clock.now() / 1000);
    for (const b of bodies) {
      assert.deepEqual(caveatsOf(String(b.macaroon)), ['route=/api/a', `expires=${now + 3600}`]);
      const hashInId = Buffer.from(macaroon.importMacaroon(String(b.macaroon)).identifier).subarray(2, 34);
      assert.equal(hashInId.toString('hex'), b.paymentHash);
    }

    // A pooled challenge is paid and its token opens the route; its invoice leaves the pool.
    const pooled = bodies[250] ?? {};
    const { preimage } = await clientWallet.payInvoice({ invoice: String(pooled.invoice) });
    const ok = await gate.check('GET', '/api/a', `L402 ${pooled.macaroon}:${preimage}`, {
      client: '10.9.9.9',
    });
    assert.ok(ok.allowed);
    assert.equal(ok.token?.paymentHash, pooled.paymentHash);
    assert.equal(gate.openChallenges, 99);
    // Another holder of the same invoice cannot pay it again, and its macaroon is worthless without the
    // preimage, which only the payer has.
    const sharer = bodies.find((b) => b !== pooled && b.paymentHash === pooled.paymentHash) ?? {};
    await assert.rejects(clientWallet.payInvoice({ invoice: String(sharer.invoice) }), /already settled/);
    const guess = `L402 ${sharer.macaroon}:${randomBytes(32).toString('hex')}`;
    assert.equal(statusOf(await gate.check('GET', '/api/a', guess)), 401);
    // The freed place goes to a new invoice, which is then handed out again (it has the most time left).
    clock.advance(1_000);
    const next = refusal(await ask('10.9.9.10'));
    assert.ok(!made.has(next.body.paymentHash));
    assert.equal(invoicesMade(), 101);
    assert.equal(refusal(await ask('10.9.9.11')).body.paymentHash, next.body.paymentHash, 'most time left');
    assert.equal(invoicesMade(), 101);
  });

  test('invoicePaid (a wallet notification) takes an invoice out of the pool', async () => {
    const { gate, ask } = setup({ maxOpenChallenges: 2 });
    const a = refusal(await ask('10.0.0.1'));
    await ask('10.0.0.2');
    gate.invoicePaid(String(a.body.paymentHash).toUpperCase());
    assert.equal(gate.openChallenges, 1);
    gate.invoicePaid('00'.repeat(32));
    assert.equal(gate.openChallenges, 1);
  });

  test('an invoice leaves the pool as it expires; one with too little time left is not handed out', async () => {
    const { gate, ask, invoicesMade, clock } = setup({ maxOpenChallenges: 2 });
    await ask('10.0.0.1');
    await ask('10.0.0.2');
    assert.equal(statusOf(await ask('10.0.0.3')), 402, 'shared: 600 s left');
    clock.advance(450_000);
    assert.equal(statusOf(await ask('10.0.0.4')), 402, 'shared: 150 s left');
    clock.advance(1_000);
    const late = refusal(await ask('10.0.0.5'));
    assert.equal(late.status, 503, '149 s left is too little to pay');
    assert.equal(late.headers['Retry-After'], '149', 'until the soonest expiry frees a place');
    assert.equal(invoicesMade(), 2);
    clock.advance(149_000);
    const fresh = refusal(await ask('10.0.0.5'));
    assert.equal(fresh.status, 402);
    assert.equal(invoicesMade(), 3);
    assert.equal(gate.openChallenges, 1, 'both expired invoices are gone');
  });

  test('a full pool with no invoice of the route: 503 with Retry-After, no invoice made', async () => {
    const { ask, invoicesMade, clock } = setup({ maxOpenChallenges: 2 });
    await ask('10.0.0.1', '/api/a');
    clock.advance(10_000);
    await ask('10.0.0.2', '/api/p/x');
    const busy = refusal(await ask('10.0.0.3', '/api/b'));
    assert.equal(busy.status, 503);
    assert.equal(busy.headers['Retry-After'], '590');
    assert.match(String(busy.body.error), /^busy: 2 L402 invoices are open .* none for \/api\/b/);
    assert.equal(invoicesMade(), 2);
    // A prefix route shares its invoice across the paths under it.
    const shared = refusal(await ask('10.0.0.4', '/api/p/y/z'));
    assert.equal(shared.status, 402);
    assert.equal(shared.body.amountMsats, 500);
    assert.equal(invoicesMade(), 2);
  });

  test('concurrent challenges count the invoices being made: 300 at once make at most 100', async () => {
    const { gate, ask, invoicesMade } = setup();
    const all = await Promise.all(Array.from({ length: 300 }, (_, i) => ask(`10.1.${i >> 8}.${i & 255}`)));
    assert.equal(invoicesMade(), 100);
    assert.equal(gate.openChallenges, 100);
    for (const d of all) assert.ok([402, 503].includes(statusOf(d)), String(statusOf(d)));
    // Once they have landed, the pool answers.
    assert.equal(statusOf(await ask('10.2.0.1')), 402);
    assert.equal(invoicesMade(), 100);
  });

  test('a wallet failure leaves no place taken in the pool', async () => {
    const { gate, ask, serverWallet } = setup({ maxOpenChallenges: 1 });
    serverWallet.failNext('make_invoice', new WalletError('INTERNAL', 'boom'));
    assert.equal(statusOf(await ask('10.0.0.1')), 503);
    assert.equal(gate.openChallenges, 0);
    assert.equal(statusOf(await ask('10.0.0.2')), 402);
    assert.equal(gate.openChallenges, 1);
  });
});
