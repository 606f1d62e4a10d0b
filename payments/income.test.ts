import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { IncomeWatcher } from './income.ts';
import { LookupSchedule } from './lookup-schedule.ts';
import { MemoryLightning, MemoryWallet } from './memory-wallet.ts';
import { INSTANCE, Treasury } from './treasury.ts';

describe('IncomeWatcher', () => {
  let clock: ManualClock;
  let wallet: MemoryWallet;
  let payer: MemoryWallet;
  let treasury: Treasury;
  let watcher: IncomeWatcher;

  beforeEach(async () => {
    clock = new ManualClock(Date.now());
    const network = new MemoryLightning();
    wallet = new MemoryWallet({ network, clock });
    payer = new MemoryWallet({ network, clock, balanceMsats: 100_000 });
    treasury = Treasury.open({ path: ':memory:', logger: silentLogger, clock });
    watcher = new IncomeWatcher({
      treasury,
      wallet,
      clock,
      logger: silentLogger,
      retryMs: 60_000,
      schedule: new LookupSchedule({
        firstDelayMs: 60_000,
        maxDelayMs: 300_000,
        maxDelayUnnotifiedMs: 300_000,
        perRound: 10,
        clock,
      }),
    });
    await watcher.start();
  });

  afterEach(async () => {
    await watcher.stop();
    // The treasury says what the wallet holds, and the books balance.
    assert.ok(treasury.check().ok, JSON.stringify(treasury.check()));
    assert.equal(treasury.holdingsMsats(), wallet.balanceMsats, 'treasury and wallet disagree');
    treasury.close();
  });

  const sell = async (amountMsats: number) => {
    const tx = await wallet.makeInvoice({ amountMsats, expirySeconds: 60 });
    watcher.invoiced(tx, 'L402 /api/x');
    return tx;
  };

  test('a payment is booked into the instance once, however often it is reported', async () => {
    const tx = await sell(2000);
    assert.equal(treasury.incomes.get(tx.paymentHash)?.state, 'invoiced');
    await payer.payInvoice({ invoice: tx.invoice }); // the notification books it
    watcher.paid(tx.paymentHash); // the token's preimage proves it again
    await watcher.reconcile(); // and the lookup finds it settled
    assert.equal(treasury.incomes.get(tx.paymentHash)?.state, 'paid');
    assert.equal(treasury.balance(INSTANCE), 2000);
    assert.deepEqual(treasury.incomes.pending(), []);
  });

  test('a payment whose notification was lost is found by the next lookup', async () => {
    const tx = await sell(3000);
    wallet.unreachable = true;
    await payer.payInvoice({ invoice: tx.invoice });
    await watcher.reconcile(); // unanswered: nothing changes, no throw
    assert.equal(treasury.balance(INSTANCE), 0);
    wallet.unreachable = false;
    await watcher.reconcile();
    assert.equal(treasury.balance(INSTANCE), 3000);
  });

  test('an invoice never paid is closed at its expiry, with nothing booked', async () => {
    const tx = await sell(1000);
    await watcher.reconcile();
    assert.equal(treasury.incomes.get(tx.paymentHash)?.state, 'invoiced');
    clock.advance(61_000);
    await watcher.reconcile();
    assert.equal(treasury.incomes.get(tx.paymentHash)?.state, 'expired');
    assert.equal(treasury.balance(INSTANCE), 0);
  });

  test('a preimage for an unknown hash books nothing', () => {
    watcher.paid('ab'.repeat(32));
    assert.equal(treasury.balance(INSTANCE), 0);
  });
});
