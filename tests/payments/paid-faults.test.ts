import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { agentAccount } from '../../payments/treasury.ts';
import { WalletError } from '../../payments/wallet.ts';
import { Customer } from '../../testkit/customer.ts';
import { until } from '../../testkit/raw-client.ts';
import { CUSTOMER_FUNDS, memoryWorlds, text } from './memory-world.ts';

/** Faults in the payment flow; every test ends with the ledger checked (memory-world.ts). */
describe('paid jobs: faults (memory wallet)', () => {
  const world = memoryWorlds();

  test('an unpaid invoice expires: the job is cancelled and nothing is booked', async () => {
    const w = await world({ config: { invoiceExpirySeconds: 10 } });
    const silent = new Customer(w.relay.url); // no wallet: never pays
    const out = await silent.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('never paid')] }),
      20_000,
    );
    silent.close();
    assert.match(out.error ?? '', /expired before it was paid/);
    assert.equal(w.treasury.escrows.get(out.request.id)?.state, 'expired');
    assert.equal(w.treasury.holdingsMsats(), 0);
  });

  test('the wallet unreachable when invoicing: the job waits, then fails with nothing charged', async () => {
    const w = await world({ config: { unreachableGraceMs: 1500 } });
    w.wallet.unreachable = true;
    const out = await w.customer.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('no wallet')] }));
    assert.match(out.error ?? '', /wallet did not answer .* nothing was charged/);
    assert.ok(
      w.wallet.calls.filter((c) => c.method === 'make_hold_invoice' || c.method === 'get_info').length >= 2,
    );
    w.wallet.unreachable = false;
  });

  test('the wallet comes back within the grace: the job goes on, paid once', async () => {
    const w = await world({ config: { unreachableGraceMs: 30_000 } });
    w.wallet.unreachable = true;
    setTimeout(() => {
      w.wallet.unreachable = false;
    }, 800);
    const out = await w.customer.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('patience')] }));
    assert.equal(out.result?.content, 'patience');
    await until(() => w.treasury.escrows.get(out.request.id)?.state === 'settled');
    assert.equal(out.payments.length, 1);
    assert.equal(w.customerWallet.balanceMsats, CUSTOMER_FUNDS - 2200);
  });

  test('a job that fails after payment is refunded (hold invoice cancelled)', async () => {
    const w = await world();
    w.llm.queue({ error: 'model exploded' }, { error: 'model exploded' }, { error: 'model exploded' });
    const out = await w.customer.submit(
      buildJobRequest({ kind: 5050, inputs: [text('write a poem')] }),
      15_000,
    );
    assert.ok(out.error, 'the job failed');
    assert.equal(out.payments.length, 1);
    await assert.rejects(out.payments[0]?.outcome as Promise<unknown>, /PAYMENT_FAILED/);
    await until(() => w.treasury.escrows.get(out.request.id)?.state === 'refunded');
    assert.equal(w.customerWallet.balanceMsats, CUSTOMER_FUNDS);
  });

  test('the wallet unreachable at settlement: settled later, exactly once', async () => {
    const w = await world();
    w.wallet.failNext('settle_hold_invoice', new WalletError('UNREACHABLE', 'down'));
    w.wallet.failNext('settle_hold_invoice', new WalletError('UNREACHABLE', 'still down'));
    const out = await w.customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('later')] }),
      10_000,
    );
    assert.equal(out.result?.content, 'later');
    await until(() => w.treasury.escrows.get(out.request.id)?.state === 'settled', 10_000);
    assert.equal(w.treasury.balance(agentAccount('echo')), 2000);
    assert.equal(w.customerWallet.balanceMsats, CUSTOMER_FUNDS - 2200);
  });
  test('the wallet cancels a held payment before the result (its hold limit): refunded, nothing booked', async () => {
    const w = await world();
    w.llm.queue({ text: 'late poem', delayMs: 1500 });
    const pending = w.customer.submit(buildJobRequest({ kind: 5050, inputs: [text('slow')] }), 15_000);
    await until(() => w.treasury.escrows.pending().some((e) => e.state === 'held'), 10_000, 'held');
    const escrow = w.treasury.escrows.pending()[0];
    await w.wallet.cancelHoldInvoice(escrow?.paymentHash ?? '');
    const out = await pending;
    assert.equal(out.result?.content, 'late poem', 'the result is still delivered');
    await until(() => w.treasury.escrows.get(out.request.id)?.state === 'refunded', 10_000, 'refunded');
    assert.equal(w.customerWallet.balanceMsats, CUSTOMER_FUNDS);
    assert.equal(w.treasury.holdingsMsats(), 0);
  });
  test('the payment and the job’s `paid` commit together: a failure between them leaves neither, and the watch books it once', async () => {
    const w = await world();
    const log = w.net.network.log;
    const append = log.append.bind(log);
    const seen: (string | undefined)[] = [];
    let injected = false;
    // A crash between the booking and the job log, as an exception inside the transaction that holds both.
    log.append = (jobId, entry) => {
      if (entry.type === 'paid' && !injected) {
        injected = true;
        // Runs once the transaction has unwound: what a restarted process would find.
        queueMicrotask(() => seen.push(w.treasury.escrows.get(jobId)?.state, log.get(jobId)?.state));
        throw new Error('killed between the booking and the job log');
      }
      return append(jobId, entry);
    };
    const out = await w.customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('crash window')] }),
      15_000,
    );
    assert.equal(out.result?.content, 'crash window');
    assert.ok(injected, 'the failure happened');
    assert.deepEqual(seen, ['invoiced', 'awaiting-payment'], 'neither the booking nor the paid entry stayed');
    await until(() => w.treasury.escrows.get(out.request.id)?.state === 'settled', 10_000, 'settled');
    assert.equal(w.customerWallet.balanceMsats, CUSTOMER_FUNDS - 2200, 'paid once');
    const paidEntries = log.entries(out.request.id).filter((e) => e.entry.type === 'paid');
    assert.equal(paidEntries.length, 1);
  });

  test('paid while the instance was down: the restart finds the payment at the wallet and moves the job on', async () => {
    const w = await world();
    const silent = new Customer(w.relay.url);
    const asked = await silent.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('paid while down')] }),
      3000,
    );
    silent.close();
    const jobId = asked.request.id;
    const escrow = w.treasury.escrows.get(jobId);
    assert.equal(escrow?.state, 'invoiced');
    await w.net.stop();
    // While it is down the customer pays (held by the wallet); no notification reaches anyone.
    const paying = w.customerWallet.payInvoice({ invoice: escrow?.invoice ?? '' });
    paying.catch(() => {});
    w.net = await w.start(w.net);
    const out = await w.customer.follow(asked.request, 15_000);
    assert.equal(out.result?.content, 'paid while down');
    await paying;
    await until(() => w.treasury.escrows.get(jobId)?.state === 'settled', 10_000, 'settled');
    assert.equal(w.customerWallet.balanceMsats, CUSTOMER_FUNDS - 2200);
  });

  test('the wallet unreachable after payment when the job fails: the refund waits for it, once', async () => {
    const w = await world();
    w.llm.queue({ error: 'down' }, { error: 'down' }, { error: 'down' });
    for (let i = 0; i < 3; i++)
      w.wallet.failNext('cancel_hold_invoice', new WalletError('UNREACHABLE', 'down'));
    for (let i = 0; i < 3; i++) w.wallet.failNext('lookup_invoice', new WalletError('UNREACHABLE', 'down'));
    const out = await w.customer.submit(buildJobRequest({ kind: 5050, inputs: [text('refund me')] }), 15_000);
    assert.ok(out.error, 'the job failed');
    await until(() => w.treasury.escrows.get(out.request.id)?.state === 'refunded', 15_000, 'refunded');
    await assert.rejects(out.payments[0]?.outcome as Promise<unknown>, /PAYMENT_FAILED/);
    assert.equal(w.customerWallet.balanceMsats, CUSTOMER_FUNDS, 'refunded once, in full');
    assert.equal(
      w.wallet.calls.filter((c) => c.method === 'pay_invoice').length,
      0,
      'the instance paid nobody',
    );
  });

  test('the wallet unreachable while an invoice is unpaid: the job fails at expiry, and nothing is charged', async () => {
    const w = await world({ config: { invoiceExpirySeconds: 10, unreachableGraceMs: 0 } });
    const silent = new Customer(w.relay.url);
    const pending = silent.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('limbo')] }), 25_000);
    await until(() => w.treasury.escrows.pending().length === 1, 5000, 'invoiced');
    w.wallet.unreachable = true;
    const out = await pending;
    silent.close();
    assert.match(out.error ?? '', /wallet does not answer; nothing was charged/);
    assert.equal(
      w.treasury.escrows.get(out.request.id)?.state,
      'invoiced',
      'kept open until the wallet answers',
    );
    w.wallet.unreachable = false;
    await until(
      () => w.treasury.escrows.get(out.request.id)?.state === 'expired',
      10_000,
      'closed once it answers',
    );
  });

  test('a plain invoice paid while the wallet is unreachable and the job failed meanwhile: found and owed back once it answers', async () => {
    const w = await world({
      holdInvoices: false,
      config: { invoiceExpirySeconds: 10, unreachableGraceMs: 0 },
    });
    const silent = new Customer(w.relay.url);
    const pending = silent.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('lost notice')] }),
      25_000,
    );
    await until(() => w.treasury.escrows.pending().length === 1, 5000, 'invoiced');
    const escrow = w.treasury.escrows.pending()[0];
    assert.ok(escrow && !escrow.hold);
    w.wallet.unreachable = true; // its notifications are lost too
    await w.customerWallet.payInvoice({ invoice: escrow.invoice });
    const out = await pending;
    silent.close();
    assert.match(out.error ?? '', /wallet does not answer/);
    assert.equal(
      w.treasury.escrows.get(escrow.jobId)?.state,
      'invoiced',
      'kept open until the wallet answers',
    );
    w.wallet.unreachable = false;
    await until(
      () => w.treasury.escrows.get(escrow.jobId)?.state === 'refunded',
      10_000,
      'the payment found and owed back',
    );
    assert.equal(w.treasury.balance(`customer:${escrow.customer}`), 2200);
  });
});
