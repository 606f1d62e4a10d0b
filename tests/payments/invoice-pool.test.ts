import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { decodeInvoice } from '../../payments/bolt11.ts';
import type { Wallet } from '../../payments/wallet.ts';
import { Customer } from '../../testkit/customer.ts';
import { startEmbeddedWallet } from '../../testkit/embedded-wallet.ts';
import { personas, removeDir, startTestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay } from '../../testkit/relay.ts';
import { untilAsync } from '../../testkit/until-async.ts';
import { CUSTOMER_FUNDS, memoryWorlds, text, type World } from './memory-world.ts';

/**
 * Hold invoices made ahead (agents/desk/invoice-pool.ts, `payments.invoicePool`) in the desk's paid flow:
 * a job takes a pooled invoice, its escrow's deadline is the configured time to pay from the take (the
 * pooled invoice lives longer at the wallet), the watch cancels it at that deadline, a payment slipping in
 * after it is refunded, and pool 0 is the old path. The pool's own logic: agents/desk/invoice-pool.test.ts.
 */
describe('invoices made ahead (memory wallet)', () => {
  const world = memoryWorlds();
  const made = (w: World) => w.wallet.calls.filter((c) => c.method === 'make_hold_invoice').length;

  /** A paid job at 2200 msats (echo): the first demand for the amount, which starts its pool (one invoice). */
  async function warmUp(w: World, pool: number): Promise<void> {
    const out = await w.customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('warm up')] }),
      30_000,
    );
    assert.equal(out.result?.content, 'warm up');
    await until(() => made(w) >= 1 + Math.min(pool, 1), 20_000, 'the pool started');
  }

  test('a job takes a pooled invoice: paid, settled, replaced; the escrow has the configured time to pay', async () => {
    const w = await world({ config: { invoicePool: 2 } });
    await warmUp(w, 2);
    const out = await w.customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('pooled')] }),
      30_000,
    );
    assert.equal(out.result?.content, 'pooled');
    const escrow = w.treasury.escrows.get(out.request.id);
    assert.ok(escrow);
    const record = w.lightning.invoices.get(escrow.paymentHash);
    assert.equal(record?.description, 'Timmy Time job escrow, 2200 msats', 'made ahead: no job id');
    assert.ok((record?.expiresAt ?? 0) > escrow.expiresAt, 'the invoice outlives the escrow’s deadline');
    const window = escrow.expiresAt - escrow.createdAt;
    assert.ok(window >= 599 && window <= 600, `the customer has invoiceExpirySeconds to pay (${window} s)`);
    await until(() => w.treasury.escrows.get(out.request.id)?.state === 'settled');
    await until(() => made(w) >= 4, 20_000, 'the taken invoice was replaced');
    assert.equal(w.customerWallet.balanceMsats, CUSTOMER_FUNDS - 2 * 2200);
  });

  test('a pooled invoice unpaid at its deadline: the watch cancels it at the wallet and the job ends', async () => {
    const w = await world({ config: { invoicePool: 1, invoiceExpirySeconds: 10 } });
    await warmUp(w, 1);
    const silent = new Customer(w.relay.url); // no wallet: never pays
    after(() => silent.close());
    const out = await silent.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('never paid')] }),
      30_000,
    );
    assert.match(out.error ?? '', /expired before it was paid/);
    const escrow = w.treasury.escrows.get(out.request.id);
    assert.equal(escrow?.state, 'expired');
    const record = w.lightning.invoices.get(escrow?.paymentHash ?? '');
    assert.match(record?.description ?? '', /job escrow/, 'the job had a pooled invoice');
    assert.equal(record?.state, 'cancelled', 'cancelled by the desk, before its own expiry at the wallet');
    assert.ok((record?.expiresAt ?? 0) * 1000 > Date.now(), 'still unexpired at the wallet');
    await assert.rejects(
      w.customerWallet.payInvoice({ invoice: escrow?.invoice ?? '' }),
      /PAYMENT_FAILED/,
      'a payment after the deadline cannot go through',
    );
    assert.equal(w.customerWallet.balanceMsats, CUSTOMER_FUNDS - 2200);
  });

  test('a payment that slips in after the deadline, before the watch’s next round, is refunded', async () => {
    // Rounds far apart: at the deadline only the wallet's notification tells the desk anything.
    const w = await world({
      config: { invoicePool: 1, invoiceExpirySeconds: 10, walletRetryMs: 600_000 },
    });
    await warmUp(w, 1);
    const silent = new Customer(w.relay.url);
    after(() => silent.close());
    const request = buildJobRequest({ kind: ECHO_KIND, inputs: [text('too late')] });
    const outcome = silent.submit(request, 60_000);
    const id = await untilId(w, silent.signer.pubkey);
    const escrow = w.treasury.escrows.get(id);
    assert.ok(escrow);
    assert.match(w.lightning.invoices.get(escrow.paymentHash)?.description ?? '', /job escrow/);
    await until(() => Date.now() / 1000 >= escrow.expiresAt, 20_000, 'the escrow’s deadline');
    assert.equal(w.treasury.escrows.get(id)?.state, 'invoiced', 'no round ran since');
    // The wallet still takes it (the invoice's own expiry is later); the desk hears and cancels it.
    await assert.rejects(w.customerWallet.payInvoice({ invoice: escrow.invoice }), /PAYMENT_FAILED/);
    const out = await outcome;
    assert.match(out.error ?? '', /expired before it was paid/);
    assert.equal(w.treasury.escrows.get(id)?.state, 'expired');
    assert.equal(w.lightning.invoices.get(escrow.paymentHash)?.state, 'cancelled');
    assert.equal(w.customerWallet.balanceMsats, CUSTOMER_FUNDS - 2200, 'the late payment came back');
  });

  test('invoicePool 0: every job makes its own invoice, named after the job', async () => {
    const w = await world({ config: { invoicePool: 0 } });
    await warmUp(w, 0);
    const out = await w.customer.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('own')] }), 30_000);
    assert.equal(out.result?.content, 'own');
    await until(() => w.treasury.escrows.get(out.request.id)?.state === 'settled');
    assert.equal(made(w), 2, 'one invoice per job, none ahead');
    const escrow = w.treasury.escrows.get(out.request.id);
    const record = w.lightning.invoices.get(escrow?.paymentHash ?? '');
    assert.match(record?.description ?? '', new RegExp(`job ${out.request.id.slice(0, 12)}`));
  });

  /** The job of `customer` (its one job), once the desk recorded its escrow. */
  async function untilId(w: World, customer: string): Promise<string> {
    let id = '';
    await until(
      () => {
        for (const e of w.treasury.escrows.pending()) if (e.customer === customer) id = e.jobId;
        return id !== '';
      },
      20_000,
      'the escrow of the job',
    );
    return id;
  }
});

describe('invoices made ahead (embedded wallet service over NWC)', () => {
  test('a pooled invoice is paid and settled over NWC; stopping the desk cancels the unused ones', async () => {
    const relay = await startTestRelay();
    const embedded = await startEmbeddedWallet({ relayUrl: relay.url });
    const instance: Wallet = embedded.connect('instance').wallet;
    const customerWallet = embedded.connect('customer', CUSTOMER_FUNDS).wallet;
    const net = await startTestNetwork({
      relayUrl: relay.url,
      agents: personas([{ name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 2000 }] }]),
      payments: { wallet: instance, config: { feePct: 10, invoicePool: 2 } },
    });
    const customer = new Customer(relay.url, customerWallet);
    let stopped = false;
    try {
      const pooled = async () =>
        (await instance.listTransactions({ unpaid: true, type: 'incoming' })).filter(
          (t) => t.state === 'pending' && /job escrow/.test(t.description),
        );
      const first = await customer.submit(
        buildJobRequest({ kind: ECHO_KIND, inputs: [text('one')] }),
        30_000,
      );
      assert.equal(first.result?.content, 'one');
      await untilAsync(async () => (await pooled()).length === 1, 30_000, 'one invoice made ahead');
      const second = await customer.submit(
        buildJobRequest({ kind: ECHO_KIND, inputs: [text('two')] }),
        30_000,
      );
      assert.equal(second.result?.content, 'two');
      const escrow = net.network.treasury.escrows.get(second.request.id);
      assert.ok(escrow);
      const t = await instance.lookupInvoice({ paymentHash: escrow.paymentHash });
      assert.equal(t.description, 'Timmy Time job escrow, 2200 msats', 'the second job had a pooled invoice');
      assert.ok(decodeInvoice(escrow.invoice).paymentHash === escrow.paymentHash);
      await until(() => net.network.treasury.escrows.get(second.request.id)?.state === 'settled', 30_000);
      await untilAsync(
        async () => (await pooled()).length === 2,
        30_000,
        'the taken one replaced, and one more kept for a second demand',
      );
      const left = (await pooled()).map((p) => p.paymentHash);
      await net.stop();
      stopped = true;
      for (const hash of left)
        assert.equal(
          (await instance.lookupInvoice({ paymentHash: hash })).state,
          'failed',
          'cancelled at the wallet when the desk stopped',
        );
      assert.equal(embedded.total(), CUSTOMER_FUNDS, 'no sats created or lost');
    } finally {
      customer.close();
      if (!stopped) await net.stop();
      net.network.treasury.close();
      await embedded.close();
      await relay.close();
      await removeDir(net.dataDir);
    }
  });
});
