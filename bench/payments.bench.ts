/**
 * Payments over Nostr Wallet Connect on the embedded relay, in one process (loopback, port 0, the relay as
 * `timmy start` runs it):
 *
 * 1. NWC round trips: `get_balance`, `make_invoice`, and a payment (`make_invoice` by the payee then
 *    `pay_invoice` by the payer, settled by the embedded test-sats wallet service), one after another,
 *    through `NwcWallet` (@getalby/sdk's client). Baseline, same relay, same run: a bare request/response over
 *    the relay — the client publishes a signed event addressed to a responder, which signs and publishes a
 *    reply; the clock stops when the client receives it. NIP-47 adds to that: NIP-44 on both sides, the
 *    service's SQLite transaction (synchronous=FULL), and for a payment a second round trip.
 * 2. A paid job against an unpaid one: the same echo job (auctions off, so only payment differs) from a
 *    customer's request to its result, on two networks that differ only in `payments.enabled`; the paid one
 *    makes a hold invoice, waits for the customer's wallet to pay it (NWC), then runs the job and settles.
 *    Paid twice: with hold invoices made ahead (`payments.invoicePool`, its default) and without (`0`, every
 *    job makes its own invoice on its path), each network with its relay and its own wallet service on it.
 *    The networks take turns in blocks of jobs, so a change of the machine's load weighs on all of them alike.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startRelay } from '../cli/compose.ts';
import { configSchema } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import { ECHO_KIND } from '../dvm/kinds.ts';
import { buildJobRequest } from '../dvm/request.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import type { Wallet } from '../payments/wallet.ts';
import { RelayClient } from '../relay/client.ts';
import { Customer } from '../testkit/customer.ts';
import { startEmbeddedWallet } from '../testkit/embedded-wallet.ts';
import { personas, startTestNetwork } from '../testkit/network.ts';
import { percentile } from './events.ts';
import { table } from './markdown-table.ts';
import { startResponder } from './responder.ts';

export interface PaymentsBenchOptions {
  quick: boolean;
  log: (line: string) => void;
}

interface Timing {
  name: string;
  n: number;
  perSecond: number;
  p50: number;
  p99: number;
}

async function time(name: string, n: number, fn: (i: number) => Promise<void>): Promise<Timing> {
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn(i);
    times.push(performance.now() - s);
  }
  const seconds = (performance.now() - t0) / 1000;
  times.sort((a, b) => a - b);
  return { name, n, perSecond: n / seconds, p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function bareRoundTrip(client: RelayClient, to: string): Promise<void> {
  const signer = generateLocalSigner();
  const request = await signer.signEvent({
    kind: 1,
    created_at: Math.floor(Date.now() / 1000),
    tags: [['p', to]],
    content: 'ping',
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare round trip timed out')), 10_000);
    const sub = client.subscribe([{ kinds: [1], '#e': [request.id] }], {
      onEvent: () => {
        clearTimeout(timer);
        sub.close();
        resolve();
      },
    });
    client.publish(request).catch(reject);
  });
}

export async function benchPayments(o: PaymentsBenchOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-pay-'));
  const config = configSchema.parse({
    relay: { port: 0, limits: { eventsPerSecond: 1_000_000, eventsBurst: 1_000_000 } },
  });
  const cleanups: (() => Promise<void> | void)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    const relay = await startRelay(config, join(dir, 'relay'), silentLogger);
    cleanups.push(() => relay.close());
    const embedded = await startEmbeddedWallet({ relayUrl: relay.url, path: join(dir, 'wallet.sqlite') });
    cleanups.push(() => embedded.close());
    const n = o.quick ? 30 : 200;
    const payer = embedded.connect('payer', 1_000_000_000).wallet;
    const payee = embedded.connect('payee').wallet;
    await payer.getBalance(); // connect and read the info event before timing
    await payee.getBalance();

    // The same service as before issue 18's levers, on the same relay: its file fsynced on every commit
    // (synchronous=FULL) and clients on the SDK's pure-JavaScript signing and verification.
    const before = await startEmbeddedWallet({
      relayUrl: relay.url,
      path: join(dir, 'wallet-before.sqlite'),
      synchronous: 'FULL',
    });
    cleanups.push(() => before.close());
    const payerBefore = before.connect('payer', 1_000_000_000, { sdkCrypto: true }).wallet;
    const payeeBefore = before.connect('payee', 0, { sdkCrypto: true }).wallet;
    await payerBefore.getBalance();
    await payeeBefore.getBalance();

    const r = startResponder(relay.url);
    cleanups.push(() => r.close());
    const client = new RelayClient({ url: relay.url, logger: silentLogger });
    cleanups.push(() => client.close());
    await bareRoundTrip(client, r.pubkey);
    o.log(`payments benchmark: ${n} sequential round trips each`);
    const bare = await time('bare request/response (baseline)', n, () => bareRoundTrip(client, r.pubkey));
    const balance = await time('NWC get_balance', n, async () => {
      await payer.getBalance();
    });
    const invoice = await time('NWC make_invoice', n, async () => {
      await payee.makeInvoice({ amountMsats: 1000, description: 'bench' });
    });
    const payment = await time('NWC make_invoice + pay_invoice', n, async () => {
      const inv = await payee.makeInvoice({ amountMsats: 1000 });
      await payer.payInvoice({ invoice: inv.invoice });
    });
    const balanceBefore = await time('NWC get_balance, before (FULL file, SDK crypto)', n, async () => {
      await payerBefore.getBalance();
    });
    const paymentBefore = await time('NWC make_invoice + pay_invoice, before', n, async () => {
      const inv = await payeeBefore.makeInvoice({ amountMsats: 1000 });
      await payerBefore.payInvoice({ invoice: inv.invoice });
    });
    for (const t of [bare, balance, balanceBefore, invoice, payment, paymentBefore])
      o.log(
        `  ${t.name}: ${t.perSecond.toFixed(0)}/s, p50 ${t.p50.toFixed(1)} ms, p99 ${t.p99.toFixed(1)} ms`,
      );
    const check = embedded.service.checkInvariants();
    if (!check.ok) throw new Error(`wallet invariants broken: ${JSON.stringify(check)}`);

    // Paid against unpaid job: two networks on two relays, identical but for payments.
    const jobs = o.quick ? 10 : 60;
    const relay2 = await startRelay(config, join(dir, 'relay2'), silentLogger);
    cleanups.push(() => relay2.close());
    const agents = personas([
      { name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 1000 }] },
    ]);
    await mkdir(join(dir, 'unpaid'));
    await mkdir(join(dir, 'paid'));
    const unpaidNet = await startTestNetwork({ relayUrl: relay2.url, agents, dataDir: join(dir, 'unpaid') });
    cleanups.push(() => unpaidNet.stop());
    const paidWallet = embedded.connect('instance').wallet;
    const paidNet = await startTestNetwork({
      relayUrl: relay.url,
      agents,
      dataDir: join(dir, 'paid'),
      payments: { wallet: paidWallet, config: { walletRetryMs: 2000 } },
    });
    cleanups.push(() => paidNet.stop());
    const poolSize = configSchema.parse({}).payments.invoicePool; // the default: the pooled network sets none
    // The same paid network without invoices made ahead, on a relay of its own with a wallet service like
    // the first one on it (jobs and wallet share a relay, as for the pooled network).
    const relay4 = await startRelay(config, join(dir, 'relay4'), silentLogger);
    cleanups.push(() => relay4.close());
    const poolOffWallet = await startEmbeddedWallet({
      relayUrl: relay4.url,
      path: join(dir, 'wallet-pool-off.sqlite'),
    });
    cleanups.push(() => poolOffWallet.close());
    await mkdir(join(dir, 'paid-pool-off'));
    const poolOffNet = await startTestNetwork({
      relayUrl: relay4.url,
      agents,
      dataDir: join(dir, 'paid-pool-off'),
      payments: {
        wallet: poolOffWallet.connect('instance').wallet,
        config: { walletRetryMs: 2000, invoicePool: 0 },
      },
    });
    cleanups.push(() => poolOffNet.stop());
    const relay3 = await startRelay(config, join(dir, 'relay3'), silentLogger);
    cleanups.push(() => relay3.close());
    const beforeWallet = await startEmbeddedWallet({
      relayUrl: relay3.url,
      path: join(dir, 'wallet-before-jobs.sqlite'),
      synchronous: 'FULL',
    });
    cleanups.push(() => beforeWallet.close());
    await mkdir(join(dir, 'paid-before'));
    const paidBeforeNet = await startTestNetwork({
      relayUrl: relay3.url,
      agents,
      dataDir: join(dir, 'paid-before'),
      payments: {
        wallet: beforeWallet.connect('instance', 0, { sdkCrypto: true }).wallet,
        config: { walletRetryMs: 2000, invoicePool: 0 },
      },
    });
    cleanups.push(() => paidBeforeNet.stop());
    // As before decision 0014: the desk's database and the work log fsync every commit on the event loop.
    paidBeforeNet.network.treasury.db.pragma('synchronous = FULL');
    paidBeforeNet.network.work.db.pragma('synchronous = FULL');
    const customerWalletBefore = beforeWallet.connect('customer', 1_000_000_000, { sdkCrypto: true }).wallet;
    const customerWallet = embedded.connect('customer', 1_000_000_000).wallet;
    const customerWalletPoolOff = poolOffWallet.connect('customer', 1_000_000_000).wallet;
    await new Promise((res) => setTimeout(res, 600)); // first heartbeats
    const wallets = new Map<string, Wallet>([
      [relay.url, customerWallet],
      [relay3.url, customerWalletBefore],
      [relay4.url, customerWalletPoolOff],
    ]);
    const networks: [string, string][] = [
      [relay2.url, 'unpaid echo job'],
      [relay4.url, 'paid echo job, invoice pool off (0)'],
      [relay.url, `paid echo job, invoice pool on (${poolSize})`],
      [relay3.url, 'paid echo job, before (FULL files, SDK crypto, no pool)'],
    ];
    const customers = networks.map(([url]) => new Customer(url, wallets.get(url)));
    cleanups.push(() => {
      for (const c of customers) c.close();
    });
    const job = async (customer: Customer, i: number): Promise<number> => {
      const s = performance.now();
      const out = await customer.submit(
        buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: `job ${i}`, type: 'text' }] }),
        20_000,
      );
      if (!out.result) throw new Error(`job failed: ${out.error ?? 'no result'}`);
      return performance.now() - s;
    };
    // The networks take turns in blocks of jobs (one job at a time): a block's background work (the
    // settlement after a result, the pool's refill) stays mostly inside it, while a change of the machine's
    // load (other work on it) weighs on every network alike. The first block of each is a warm-up.
    const samples: number[][] = networks.map(() => []);
    const rounds = o.quick ? 2 : 3;
    const block = Math.ceil(jobs / rounds);
    const warmUp = o.quick ? 3 : 10; // warms the paths up (and starts the pool)
    const t0 = performance.now();
    let i = 0;
    for (const customer of customers) for (let j = 0; j < warmUp; j++) await job(customer, i++);
    for (let r = 0; r < rounds; r++)
      for (const [k, customer] of customers.entries())
        for (let j = 0; j < block; j++) samples[k]?.push(await job(customer, i++));
    const seconds = (performance.now() - t0) / 1000;
    const [unpaid, poolOff, paid, paidBefore] = networks.map(([, name], k) => {
      const times = (samples[k] ?? []).sort((a, b) => a - b);
      return {
        name,
        n: times.length,
        perSecond: i / seconds,
        p50: percentile(times, 50),
        p99: percentile(times, 99),
      };
    }) as [Timing, Timing, Timing, Timing];
    for (const t of [unpaid, poolOff, paid, paidBefore])
      o.log(`  ${t.name}: p50 ${t.p50.toFixed(1)} ms, p99 ${t.p99.toFixed(1)} ms`);
    for (const net of [paidNet, poolOffNet]) {
      const ledger = net.network.treasury.check();
      if (!ledger.ok) throw new Error(`treasury ledger broken: ${JSON.stringify(ledger)}`);
    }
    // How many of the pooled network's jobs had an invoice made ahead (its description names no job).
    const hashes = paidNet.network.treasury.db.prepare('SELECT payment_hash AS h FROM escrows').all() as {
      h: string;
    }[];
    let ahead = 0;
    for (const { h } of hashes)
      if (/job escrow/.test((await paidWallet.lookupInvoice({ paymentHash: h })).description)) ahead++;
    o.log(`  pooled network: ${ahead} of ${hashes.length} paid jobs had an invoice made ahead`);

    const ratio = (a: Timing) => `${(a.p50 / bare.p50).toFixed(1)}x`;
    return [
      '## Payments over NWC (embedded wallet service, embedded relay, sequential)\n',
      table(
        ['exchange', 'per second', 'p50 ms', 'p99 ms', 'p50 vs bare round trip'],
        [bare, balance, balanceBefore, invoice, payment, paymentBefore].map((t) => [
          t.name,
          t.perSecond.toFixed(0),
          t.p50.toFixed(1),
          t.p99.toFixed(1),
          t === bare ? '1.0x' : ratio(t),
        ]),
      ),
      '\n## A paid job against an unpaid one (echo, auctions off, same run, the networks in turn by blocks)\n',
      table(
        ['job', 'jobs', 'p50 ms', 'p99 ms', 'p50 vs unpaid', 'p99 vs unpaid'],
        [unpaid, poolOff, paid, paidBefore].map((t) => [
          t.name,
          String(t.n),
          t.p50.toFixed(1),
          t.p99.toFixed(1),
          `${(t.p50 / unpaid.p50).toFixed(1)}x`,
          `${(t.p99 / unpaid.p99).toFixed(1)}x`,
        ]),
      ),
    ].join('\n');
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}
