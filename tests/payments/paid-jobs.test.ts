import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { dataFile } from '../../core/data-dir.ts';
import { silentLogger } from '../../core/logger.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { transitions } from '../../dvm/job-state.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { agentAccount, INSTANCE } from '../../payments/treasury.ts';
import { Customer } from '../../testkit/customer.ts';
import { until } from '../../testkit/raw-client.ts';
import { CUSTOMER_FUNDS, memoryWorlds, text } from './memory-world.ts';

/** The DVM payment flow over a real relay with the in-memory wallet (memory-world.ts). */
describe('paid jobs (memory wallet)', () => {
  const world = memoryWorlds();

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
    await until(() => w.treasury.escrows.get(out.request.id)?.state === 'settled');
    assert.equal(w.treasury.balance(agentAccount('echo')), 2000);
    assert.equal(w.treasury.balance(INSTANCE), 200);
    assert.equal(w.customerWallet.balanceMsats, CUSTOMER_FUNDS - 2200);

    const log = JobLog.open({ path: dataFile(w.net.dataDir, 'jobs'), logger: silentLogger });
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
    const trusted = new Customer(w.relay.url, w.customerWallet, key);
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
    await until(() => w.treasury.escrows.get(out.request.id)?.state === 'settled');
    assert.equal(w.treasury.escrows.get(out.request.id)?.mode, 'after');
    assert.equal(w.treasury.balance(agentAccount('echo')), 2000);
    trusted.close();
  });

  test('a price above the customer’s bid fails the job before anything is charged', async () => {
    const w = await world();
    // echo lists 2000 msats: with the 10 % fee that is 2200, above a bid of 2100.
    const out = await w.customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('cheap')], bidMsats: 2100 }),
    );
    assert.match(
      out.error ?? '',
      /the price is 2200 msats \(2000 for the work \+ 200 the instance's fee\), above your bid of 2100 msats/,
    );
    assert.equal(out.payments.length, 0);
    // A bid below the least the instance charges at all (1000 + 10 %) is refused before any agent is asked.
    const tiny = await w.customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('cheaper')], bidMsats: 1000 }),
    );
    assert.match(
      tiny.error ?? '',
      /your bid of 1000 msats is below the least this instance charges: 1100 msats/,
    );
    assert.equal(w.treasury.escrows.pending().length, 0);
  });

  test('a wallet without hold invoices: paid up front, and a failure books a refund owed to the customer', async () => {
    const w = await world({ holdInvoices: false });
    w.llm.queue({ error: 'nope' }, { error: 'nope' }, { error: 'nope' });
    const out = await w.customer.submit(buildJobRequest({ kind: 5050, inputs: [text('fail me')] }), 15_000);
    assert.ok(out.error);
    await until(() => w.treasury.escrows.get(out.request.id)?.state === 'refunded');
    assert.equal(w.treasury.balance(`customer:${w.customer.signer.pubkey}`), 11_000);
    const ok = await w.customer.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('plain')] }));
    assert.equal(ok.result?.content, 'plain');
    await until(() => w.treasury.escrows.get(ok.request.id)?.state === 'settled');
    assert.equal(w.treasury.balance(agentAccount('echo')), 2000);
  });
});
