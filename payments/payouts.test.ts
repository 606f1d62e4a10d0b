import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { systemClock } from '../core/clock.ts';
import { configSchema } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import { MemoryLightning, MemoryWallet } from './memory-wallet.ts';
import { Payouts } from './payouts.ts';
import { agentAccount, FEES, INSTANCE, Treasury } from './treasury.ts';
import { WalletError } from './wallet.ts';

/** The instance wallet holds what the treasury says: 50 000 msats, 40 000 of them earned by "echo". */
async function setup(payments: Record<string, unknown> = {}, routingFeeMsats = 0) {
  const lightning = new MemoryLightning();
  const wallet = new MemoryWallet({ network: lightning, balanceMsats: 50_000, routingFeeMsats });
  const outside = new MemoryWallet({ network: lightning });
  const treasury = Treasury.open({ path: ':memory:', logger: silentLogger });
  treasury.escrows.record({
    jobId: 'j1',
    customer: 'c'.repeat(64),
    mode: 'before',
    hold: true,
    invoice: 'lnbcrt-j1',
    paymentHash: '1'.repeat(64),
    preimage: '2'.repeat(64),
    amountMsats: 50_000,
    priceMsats: 40_000,
    agent: 'echo',
    expiresAt: 2_000_000_000,
  });
  treasury.escrows.markPaid('j1');
  treasury.escrows.markSettled('j1');
  const config = configSchema.parse({ payments }).payments;
  return { lightning, wallet, outside, treasury, config, routingFeeMsats };
}

describe('Payouts', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  let payouts: Payouts | undefined;
  beforeEach(async () => {
    s = await setup();
  });
  afterEach(async () => {
    await payouts?.stop();
    payouts = undefined;
    const check = s.treasury.check();
    assert.ok(check.ok, JSON.stringify(check));
    assert.equal(s.treasury.holdingsMsats(), s.wallet.balanceMsats, 'treasury and wallet disagree');
    const fees = -s.treasury.balance(FEES);
    assert.equal(s.wallet.balanceMsats + s.outside.balanceMsats + fees, 50_000, 'sats were created or lost');
    s.treasury.close();
  });

  const run = (coldWallet?: MemoryWallet) => {
    payouts = new Payouts({
      treasury: s.treasury,
      wallet: s.wallet,
      payments: s.config,
      coldWallet,
      clock: systemClock,
      logger: silentLogger,
    });
    return payouts.run();
  };

  const request = async (amountMsats: number, account = agentAccount('echo')) => {
    const inv = await s.outside.makeInvoice({ amountMsats });
    return s.treasury.withdrawals.request({
      account,
      invoice: inv.invoice,
      paymentHash: inv.paymentHash,
      amountMsats,
      requestedBy: 'test',
      autoApproveMsats: 0,
    });
  };

  it('pays only approved withdrawals', async () => {
    const w = await request(30_000);
    await run();
    assert.equal(s.treasury.withdrawals.get(w.id)?.state, 'pending', 'waits for the operator');
    assert.equal(s.outside.balanceMsats, 0);
    s.treasury.withdrawals.decide(w.id, 'approved', 'operator');
    await run();
    assert.equal(s.treasury.withdrawals.get(w.id)?.state, 'paid');
    assert.equal(s.outside.balanceMsats, 30_000);
    assert.equal(s.treasury.balance(agentAccount('echo')), 10_000);
  });

  it('a payment whose answer was lost is found paid on the next round, never paid twice', async () => {
    const w = await request(20_000);
    s.treasury.withdrawals.decide(w.id, 'approved', 'operator');
    // The wallet pays, but the answer never arrives.
    const realPay = s.wallet.payInvoice.bind(s.wallet);
    s.wallet.payInvoice = async (r) => {
      await realPay(r);
      throw new WalletError('UNREACHABLE', 'answer lost');
    };
    await run();
    assert.equal(s.treasury.withdrawals.get(w.id)?.state, 'approved', 'unknown outcome: still approved');
    s.wallet.payInvoice = realPay;
    await run();
    assert.equal(s.treasury.withdrawals.get(w.id)?.state, 'paid');
    assert.equal(s.outside.balanceMsats, 20_000, 'paid once');
  });

  it('a definitive refusal returns the reserved sats to the account', async () => {
    const w = await request(20_000);
    s.treasury.withdrawals.decide(w.id, 'approved', 'operator');
    s.wallet.failNext('pay_invoice', new WalletError('PAYMENT_FAILED', 'no route'));
    await run();
    assert.equal(s.treasury.withdrawals.get(w.id)?.state, 'failed');
    assert.equal(s.treasury.balance(agentAccount('echo')), 40_000);
  });

  it('the wallet unreachable: the withdrawal waits', async () => {
    const w = await request(20_000);
    s.treasury.withdrawals.decide(w.id, 'approved', 'operator');
    s.wallet.unreachable = true;
    await run();
    assert.equal(s.treasury.withdrawals.get(w.id)?.state, 'approved');
    s.wallet.unreachable = false;
    await run();
    assert.equal(s.treasury.withdrawals.get(w.id)?.state, 'paid');
  });

  it('sweeps the instance balance above the threshold to cold storage', async () => {
    s.treasury.close();
    s = await setup({ sweep: { thresholdMsats: 5_000, keepMsats: 2_000 } });
    await run(s.outside);
    // The instance kept 10 000 msats of fees: 8 000 go to cold storage, 2 000 stay.
    assert.equal(s.outside.balanceMsats, 8_000);
    assert.equal(s.treasury.balance(INSTANCE), 2_000);
    await run(s.outside);
    assert.equal(s.outside.balanceMsats, 8_000, 'below the threshold now: no second sweep');
  });
  it('routing fees are booked as an expense, even when the instance account is empty (never a false failure)', async () => {
    s.treasury.close();
    s = await setup({ sweep: { thresholdMsats: 1, keepMsats: 0 } }, 1_500);
    await run(s.outside); // sweeps the instance's 10 000 away: the instance account is 0
    assert.equal(s.treasury.balance(INSTANCE), 0);
    const w = await request(30_000);
    s.treasury.withdrawals.decide(w.id, 'approved', 'operator');
    await run();
    assert.equal(s.treasury.withdrawals.get(w.id)?.state, 'paid', 'paid, not booked as failed');
    assert.equal(
      s.treasury.balance(agentAccount('echo')),
      10_000,
      'the agent cannot withdraw those sats again',
    );
    assert.equal(s.treasury.balance(FEES), -3_000, 'two payments, 1 500 msats of fees each');
    assert.equal(s.outside.balanceMsats, 40_000);
  });

  it('the sweep leaves the routing fees already paid in the wallet (agents can still withdraw everything)', async () => {
    s.treasury.close();
    s = await setup({ sweep: { thresholdMsats: 1, keepMsats: 1_000 } }, 500);
    const w = await request(20_000);
    s.treasury.withdrawals.decide(w.id, 'approved', 'operator');
    await run(s.outside); // pays echo 20 000 (fee 500), then sweeps: 10 000 of fees − 500 paid − 1 000 kept
    assert.equal(s.treasury.withdrawals.get(w.id)?.state, 'paid');
    assert.equal(s.outside.balanceMsats, 20_000 + 8_500);
    const rest = await request(20_000);
    s.treasury.withdrawals.decide(rest.id, 'approved', 'operator');
    await run(s.outside);
    assert.equal(
      s.treasury.withdrawals.get(rest.id)?.state,
      'paid',
      'the wallet still holds what echo earned',
    );
    assert.equal(s.treasury.balance(agentAccount('echo')), 0);
  });

  it('a wallet that cannot look payments up: paid on its word; a refusal is taken as final', async () => {
    const w = await request(20_000);
    s.treasury.withdrawals.decide(w.id, 'approved', 'operator');
    s.wallet.failNext('lookup_invoice', new WalletError('RESTRICTED', 'lookup_invoice not allowed'));
    await run();
    assert.equal(s.treasury.withdrawals.get(w.id)?.state, 'paid', 'not stuck behind the refused lookup');
    const refused = await request(10_000);
    s.treasury.withdrawals.decide(refused.id, 'approved', 'operator');
    s.wallet.failNext('lookup_invoice', new WalletError('RESTRICTED', 'lookup_invoice not allowed'));
    s.wallet.failNext('pay_invoice', new WalletError('PAYMENT_FAILED', 'no route'));
    s.wallet.failNext('lookup_invoice', new WalletError('NOT_IMPLEMENTED', 'no lookups'));
    await run();
    assert.equal(s.treasury.withdrawals.get(refused.id)?.state, 'failed');
    assert.equal(s.treasury.balance(agentAccount('echo')), 20_000, 'the refused 10 000 are back');
  });

  it('a round that throws (the treasury busy, say) is logged, and the next round pays', async () => {
    const w = await request(20_000);
    s.treasury.withdrawals.decide(w.id, 'approved', 'operator');
    const real = s.treasury.withdrawals.list.bind(s.treasury.withdrawals);
    s.treasury.withdrawals.list = () => {
      throw new Error('SQLITE_BUSY: database is locked');
    };
    await run(); // resolves: no unhandled rejection
    s.treasury.withdrawals.list = real;
    await run();
    assert.equal(s.treasury.withdrawals.get(w.id)?.state, 'paid');
  });
});
