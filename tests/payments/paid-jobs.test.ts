import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { jobLogPath } from '../../cli/compose-network.ts';
import type { Config } from '../../core/config.ts';
import { MemoryLogger, silentLogger } from '../../core/logger.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { transitions } from '../../dvm/job-state.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { MemoryLightning, MemoryWallet } from '../../payments/memory-wallet.ts';
import { agentAccount, INSTANCE, Treasury } from '../../payments/treasury.ts';
import { Customer, personas, removeDir, startTestNetwork, type TestNetwork } from '../dvm/harness.ts';
import { startTestRelay, type TestRelay } from '../relay/harness.ts';
import { until } from '../relay/raw-client.ts';

/**
 * The DVM payment flow over a real relay with the in-memory wallet (fast, scriptable faults). The same flow
 * over NWC and the embedded wallet service is in embedded-paid-job.test.ts.
 */
const text = (data: string) => ({ data, type: 'text' as const });
const CUSTOMER_FUNDS = 1_000_000;

interface World {
  relay: TestRelay;
  net: TestNetwork;
  lightning: MemoryLightning;
  wallet: MemoryWallet;
  treasury: Treasury;
  customerWallet: MemoryWallet;
  customer: Customer;
  llm: ScriptedProvider;
  /** What the network logged (warnings explain a failed assertion). */
  logger: MemoryLogger;
  /** Starts the network again on the same keys, data directory, wallet and treasury. */
  start(previous?: TestNetwork): Promise<TestNetwork>;
}

describe('paid jobs (memory wallet)', () => {
  /** The current world's relay (each test has its own, so no test sees another's jobs). */
  let relay: TestRelay;
  const worlds: World[] = [];

  afterEach(async () => {
    for (const w of worlds.splice(0)) {
      // Every fault test ends with the ledger balanced and no sats created or lost.
      const check = w.treasury.check();
      assert.ok(check.ok, JSON.stringify(check));
      assert.equal(w.treasury.holdingsMsats(), w.wallet.balanceMsats, 'treasury and wallet disagree');
      assert.equal(
        w.wallet.balanceMsats + w.customerWallet.balanceMsats,
        CUSTOMER_FUNDS,
        'sats were created or lost',
      );
      w.customer.close();
      await w.net.stop();
      w.treasury.close();
      await removeDir(w.net.dataDir);
      await w.relay.close();
    }
  });

  async function world(
    opts: { config?: Partial<Config['payments']>; holdInvoices?: boolean } = {},
  ): Promise<World> {
    relay = await startTestRelay();
    const lightning = new MemoryLightning();
    const wallet = new MemoryWallet({ network: lightning, holdInvoices: opts.holdInvoices });
    const customerWallet = new MemoryWallet({ network: lightning, balanceMsats: CUSTOMER_FUNDS });
    const treasury = Treasury.open({ path: ':memory:', logger: silentLogger });
    const llm = new ScriptedProvider();
    const logger = new MemoryLogger();
    const start = (previous?: TestNetwork) =>
      startTestNetwork({
        relayUrl: relay.url,
        agents: personas([
          { name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 2000 }] },
          { name: 'quill', serves: [{ kind: 5050, handler: 'text-generation', priceMsats: 10_000 }] },
        ]),
        providers: [{ provider: llm, timeoutMs: 2000 }],
        payments: { wallet, treasury, config: { feePct: 10, minPriceMsats: 1000, ...opts.config } },
        logger,
        keys: previous?.keys,
        dataDir: previous?.dataDir,
      });
    const net = await start();
    const customer = new Customer(relay.url, customerWallet);
    const w: World = {
      relay,
      net,
      lightning,
      wallet,
      treasury,
      customerWallet,
      customer,
      llm,
      logger,
      start,
    };
    worlds.push(w);
    return w;
  }

  test('a paid job: payment-required with amount and bolt11, executed once paid, escrow settled, agent paid', async () => {
    const w = await world();
    const out = await w.customer.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('pay me')] }));
    assert.equal(out.error, undefined);
    assert.equal(out.result?.content, 'pay me');
    const ask = out.feedback.find((e) =>
      e.tags.some((t) => t[0] === 'status' && t[1] === 'payment-required'),
    );
    const amount = ask?.tags.find((t) => t[0] === 'amount');
    assert.equal(amount?.[1], '2200', 'price 2000 + 10 % fee');
    assert.match(amount?.[2] ?? '', /^lnbcrt/);
    assert.equal(out.payments.length, 1);
    await out.payments[0]?.outcome; // the escrow is settled after the result
    await until(() => w.treasury.escrow(out.request.id)?.state === 'settled');
    assert.equal(w.treasury.balance(agentAccount('echo')), 2000);
    assert.equal(w.treasury.balance(INSTANCE), 200);
    assert.equal(w.customerWallet.balanceMsats, CUSTOMER_FUNDS - 2200);

    const log = JobLog.open({ path: jobLogPath(w.net.dataDir), logger: silentLogger });
    try {
      const view = log.get(out.request.id);
      assert.deepEqual(view && transitions(view), [
        'posted',
        'awaiting-payment',
        'posted',
        'assigned',
        'executing',
        'completed',
      ]);
    } finally {
      log.close();
    }
  });

  test('a trusted customer gets the result first, then a plain invoice', async () => {
    const key = generateLocalSigner();
    const w = await world({ config: { trustedCustomers: [key.pubkey] } });
    const trusted = new Customer(relay.url, w.customerWallet, key);
    after(() => trusted.close());
    const out = await trusted.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('trust me')] }));
    assert.equal(out.result?.content, 'trust me');
    assert.equal(out.payments.length, 0, 'nothing to pay before the result');
    // The invoice comes after the result.
    let bolt11 = '';
    for (let i = 0; i < 100 && !bolt11; i++) {
      const fb = await trusted.client.query([{ kinds: [7000], '#e': [out.request.id] }]);
      const ask = fb.find((e) => e.tags.some((t) => t[0] === 'status' && t[1] === 'payment-required'));
      bolt11 = ask?.tags.find((t) => t[0] === 'amount')?.[2] ?? '';
      if (!bolt11) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(bolt11, 'an invoice follows the result');
    await w.customerWallet.payInvoice({ invoice: bolt11 });
    await until(() => w.treasury.escrow(out.request.id)?.state === 'settled');
    assert.equal(w.treasury.escrow(out.request.id)?.mode, 'after');
    assert.equal(w.treasury.balance(agentAccount('echo')), 2000);
    trusted.close();
  });

  test('a price above the customer’s bid fails the job before anything is charged', async () => {
    const w = await world();
    const out = await w.customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('cheap')], bidMsats: 1000 }),
    );
    assert.match(out.error ?? '', /above your bid of 1000 msats/);
    assert.equal(out.payments.length, 0);
  });

  test('a wallet without hold invoices: paid up front, and a failure books a refund owed to the customer', async () => {
    const w = await world({ holdInvoices: false });
    w.llm.queue({ error: 'nope' }, { error: 'nope' }, { error: 'nope' });
    const out = await w.customer.submit(buildJobRequest({ kind: 5050, inputs: [text('fail me')] }), 15_000);
    assert.ok(out.error);
    await until(() => w.treasury.escrow(out.request.id)?.state === 'refunded');
    assert.equal(w.treasury.balance(`customer:${w.customer.signer.pubkey}`), 11_000);
    const ok = await w.customer.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('plain')] }));
    assert.equal(ok.result?.content, 'plain');
    await until(() => w.treasury.escrow(ok.request.id)?.state === 'settled');
    assert.equal(w.treasury.balance(agentAccount('echo')), 2000);
  });
});
