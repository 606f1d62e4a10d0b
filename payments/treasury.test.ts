import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import {
  agentAccount,
  customerAccount,
  ESCROW,
  type Escrow,
  INSTANCE,
  Treasury,
  TreasuryError,
  WITHDRAWING,
  WORLD,
} from './treasury.ts';

const escrow = (jobId: string, over: Partial<Escrow> = {}) => ({
  jobId,
  customer: 'c'.repeat(64),
  mode: 'before' as const,
  hold: true,
  invoice: `lnbcrt-${jobId}`,
  paymentHash: jobId.padEnd(64, '0'),
  preimage: 'p'.repeat(64),
  amountMsats: 11_000,
  priceMsats: 10_000,
  agent: 'echo',
  expiresAt: 2_000_000_000,
  ...over,
});

describe('Treasury', () => {
  let t: Treasury;
  beforeEach(() => {
    t = Treasury.open({ path: ':memory:', logger: silentLogger });
  });
  afterEach(() => {
    assert.ok(t.check().ok, JSON.stringify(t.check()));
    assert.equal(t.check().totalMsats, 0);
    t.close();
  });

  it('hold escrow: nothing booked until delivery, then the agent earns its price and the instance the fee', () => {
    t.escrows.record(escrow('a1'));
    t.escrows.markPaid('a1');
    assert.equal(t.holdingsMsats(), 0, 'held sats are not ours yet');
    t.escrows.markSettled('a1');
    t.escrows.markSettled('a1'); // idempotent: a resumed instance settles again
    assert.equal(t.balance(agentAccount('echo')), 10_000);
    assert.equal(t.balance(INSTANCE), 1_000);
    assert.equal(t.holdingsMsats(), 11_000);
    assert.equal(t.escrows.get('a1')?.state, 'settled');
  });

  it('hold escrow refunded: nothing booked; a refund after settlement changes nothing', () => {
    t.escrows.record(escrow('a2'));
    t.escrows.markPaid('a2');
    t.escrows.markRefunded('a2', 'agent failed');
    assert.equal(t.escrows.get('a2')?.state, 'refunded');
    assert.equal(t.holdingsMsats(), 0);
    t.escrows.record(escrow('a3'));
    t.escrows.markPaid('a3');
    t.escrows.markSettled('a3');
    t.escrows.markRefunded('a3', 'late');
    assert.equal(t.escrows.get('a3')?.state, 'settled');
  });

  it('plain invoices: the payment sits in escrow; a failure owes it back to the customer', () => {
    t.escrows.record(escrow('b1', { hold: false, preimage: '' }));
    t.escrows.markPaid('b1');
    t.escrows.markPaid('b1');
    assert.equal(t.balance(ESCROW), 11_000);
    t.escrows.markRefunded('b1', 'no agent');
    assert.equal(t.balance(ESCROW), 0);
    assert.equal(t.balance(customerAccount('c'.repeat(64))), 11_000);
    t.escrows.record(escrow('b2', { hold: false, preimage: '' }));
    t.escrows.markPaid('b2');
    t.escrows.markSettled('b2');
    assert.equal(t.balance(ESCROW), 0);
    assert.equal(t.balance(agentAccount('echo')), 10_000);
  });

  it('an unpaid invoice that expires books nothing', () => {
    t.escrows.record(escrow('c1'));
    t.escrows.markRefunded('c1', 'expired');
    assert.equal(t.escrows.get('c1')?.state, 'expired');
    assert.throws(() => t.escrows.markSettled('c1'), TreasuryError);
  });

  it('withdrawals reserve, wait for approval, and return the sats when rejected or failed', () => {
    t.escrows.record(escrow('d1', { amountMsats: 50_000, priceMsats: 40_000 }));
    t.escrows.markPaid('d1');
    t.escrows.markSettled('d1');
    const base = {
      invoice: 'lnbcrt-w',
      paymentHash: 'f'.repeat(64),
      requestedBy: 'test',
      autoApproveMsats: 0,
    };
    assert.throws(
      () => t.withdrawals.request({ ...base, account: agentAccount('echo'), amountMsats: 40_001 }),
      /holds 40000 msats/,
    );
    const w = t.withdrawals.request({ ...base, account: agentAccount('echo'), amountMsats: 30_000 });
    assert.equal(w.state, 'pending');
    assert.equal(t.balance(agentAccount('echo')), 10_000);
    assert.equal(t.balance(WITHDRAWING), 30_000);
    assert.throws(
      () => t.withdrawals.request({ ...base, account: INSTANCE, amountMsats: 1 }),
      /already in the withdrawal queue/,
    );
    t.withdrawals.decide(w.id, 'rejected', 'op', 'no');
    assert.equal(t.balance(agentAccount('echo')), 40_000);
    assert.throws(() => t.withdrawals.decide(w.id, 'approved', 'op'), /is rejected/);

    const w2 = t.withdrawals.request({
      ...base,
      paymentHash: 'e'.repeat(64),
      account: INSTANCE,
      amountMsats: 5_000,
      autoApproveMsats: 5_000,
    });
    assert.equal(w2.state, 'approved');
    t.withdrawals.markPaid(w2.id, 'aa', 0);
    t.withdrawals.markPaid(w2.id, 'aa', 0);
    assert.equal(t.balance(INSTANCE), 5_000);
    assert.equal(t.balance(WORLD), -45_000);

    const w3 = t.withdrawals.request({
      ...base,
      paymentHash: 'd'.repeat(64),
      account: INSTANCE,
      amountMsats: 5_000,
      autoApproveMsats: 10_000,
    });
    t.withdrawals.markFailed(w3.id, 'no route');
    assert.equal(t.balance(INSTANCE), 5_000);
    assert.equal(t.withdrawals.get(w3.id)?.state, 'failed');
    assert.deepEqual(
      t.withdrawals.list().map((x) => x.state),
      ['failed', 'paid', 'rejected'],
    );
  });

  it('history lists postings newest first, per account or all', () => {
    t.escrows.record(escrow('e1'));
    t.escrows.markPaid('e1');
    t.escrows.markSettled('e1');
    assert.equal(t.history(undefined).length, 2);
    assert.equal(t.history(agentAccount('echo'))[0]?.amountMsats, 10_000);
    assert.throws(() => t.history('nobody'), /no account/);
  });
  it('withdrawals come only from the instance, agents or owed customers, never from escrow', () => {
    t.escrows.record(escrow('f1', { hold: false, preimage: '' }));
    t.escrows.markPaid('f1');
    assert.throws(
      () =>
        t.withdrawals.request({
          account: ESCROW,
          invoice: 'x',
          paymentHash: '9'.repeat(64),
          amountMsats: 1000,
          requestedBy: 'test',
          autoApproveMsats: 0,
        }),
      /withdrawals come from "instance"/,
    );
    t.escrows.markSettled('f1');
  });

  it('a plain invoice paid after its escrow expired is booked as owed back to the customer, once', () => {
    t.escrows.record(escrow('g1', { hold: false, preimage: '' }));
    t.escrows.markRefunded('g1', 'expired');
    t.escrows.markLatePayment('g1');
    t.escrows.markLatePayment('g1');
    assert.equal(t.balance(customerAccount('c'.repeat(64))), 11_000);
    assert.equal(t.holdingsMsats(), 11_000);
  });
});
