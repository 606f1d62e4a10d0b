import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { ManualClock } from '../core/clock.ts';
import { Ledger, LedgerError } from './ledger.ts';

function fresh(): { db: Database.Database; ledger: Ledger; clock: ManualClock } {
  const db = new Database(':memory:');
  const clock = new ManualClock();
  return { db, ledger: new Ledger(db, { clock }), clock };
}

const code = (c: LedgerError['code']) => (err: unknown) => err instanceof LedgerError && err.code === c;

describe('Ledger', () => {
  it('moves money between accounts, one journal row per transfer, balances summing to zero', () => {
    const { ledger, clock } = fresh();
    ledger.ensureAccount('mint', { allowNegative: true });
    ledger.ensureAccount('alice');
    ledger.ensureAccount('bob');
    ledger.transfer({ from: 'mint', to: 'alice', amountMsats: 10_000, ref: 'fund', memo: 'test sats' });
    clock.advance(1000);
    const id = ledger.transfer({ from: 'alice', to: 'bob', amountMsats: 2_500, ref: 'inv1' });
    assert.deepEqual(ledger.balances(), { alice: 7_500, bob: 2_500, mint: -10_000 });
    assert.equal(ledger.balance('alice'), 7_500);
    const [last, first] = ledger.history('alice');
    assert.deepEqual(last, {
      id,
      from: 'alice',
      to: 'bob',
      amountMsats: 2_500,
      ref: 'inv1',
      memo: null,
      at: 1_700_000_001_000,
    });
    assert.equal(first?.memo, 'test sats');
    assert.deepEqual(
      ledger.postingsByRef('inv1').map((p) => p.id),
      [id],
    );
    assert.deepEqual(ledger.check(), { ok: true, totalMsats: 0, negative: [], drift: [] });
  });

  it('refuses overdrafts, unknown accounts, bad amounts, self-transfers; nothing changes', () => {
    const { ledger } = fresh();
    ledger.ensureAccount('mint', { allowNegative: true });
    ledger.ensureAccount('alice');
    ledger.transfer({ from: 'mint', to: 'alice', amountMsats: 100 });
    assert.throws(
      () => ledger.transfer({ from: 'alice', to: 'mint', amountMsats: 101 }),
      code('insufficient-balance'),
    );
    assert.throws(
      () => ledger.transfer({ from: 'alice', to: 'nobody', amountMsats: 1 }),
      code('unknown-account'),
    );
    assert.throws(
      () => ledger.transfer({ from: 'nobody', to: 'alice', amountMsats: 1 }),
      code('unknown-account'),
    );
    for (const amountMsats of [0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2]) {
      assert.throws(
        () => ledger.transfer({ from: 'mint', to: 'alice', amountMsats }),
        code('invalid-amount'),
      );
    }
    assert.throws(
      () => ledger.transfer({ from: 'alice', to: 'alice', amountMsats: 1 }),
      code('invalid-account'),
    );
    assert.throws(() => ledger.ensureAccount(''), code('invalid-account'));
    assert.throws(() => ledger.balance('nobody'), code('unknown-account'));
    assert.throws(() => ledger.ensureAccount('alice', { allowNegative: true }), code('account-conflict'));
    ledger.ensureAccount('alice'); // idempotent
    assert.deepEqual(ledger.balances(), { alice: 100, mint: -100 });
    assert.equal(ledger.history('alice').length, 1);
    assert.ok(ledger.check().ok);
  });

  it('a multi-step change in the caller transaction is all or nothing', () => {
    const { db, ledger } = fresh();
    ledger.ensureAccount('mint', { allowNegative: true });
    ledger.ensureAccount('a');
    ledger.ensureAccount('b');
    ledger.transfer({ from: 'mint', to: 'a', amountMsats: 50 });
    const both = db.transaction(() => {
      ledger.transfer({ from: 'a', to: 'b', amountMsats: 50 });
      ledger.transfer({ from: 'a', to: 'b', amountMsats: 1 }); // overdraft: the first is rolled back too
    });
    assert.throws(() => both(), code('insufficient-balance'));
    assert.deepEqual(ledger.balances(), { a: 50, b: 0, mint: -50 });
    // A failed transfer caught inside the caller's transaction leaves the rest of it intact.
    db.transaction(() => {
      ledger.transfer({ from: 'a', to: 'b', amountMsats: 20 });
      assert.throws(
        () => ledger.transfer({ from: 'a', to: 'b', amountMsats: 1000 }),
        code('insufficient-balance'),
      );
    })();
    assert.deepEqual(ledger.balances(), { a: 30, b: 20, mint: -50 });
    assert.ok(ledger.check().ok);
  });

  it('check() finds drift between the balances and the journal, and forbidden negatives', () => {
    const { db, ledger } = fresh();
    ledger.ensureAccount('mint', { allowNegative: true });
    ledger.ensureAccount('a');
    ledger.transfer({ from: 'mint', to: 'a', amountMsats: 10 });
    db.prepare("UPDATE ledger_accounts SET balance_msats = -5 WHERE name = 'a'").run();
    const c = ledger.check();
    assert.equal(c.ok, false);
    assert.equal(c.totalMsats, -15);
    assert.deepEqual(c.negative, [{ name: 'a', balanceMsats: -5 }]);
    assert.deepEqual(c.drift, [{ name: 'a', storedMsats: -5, journalMsats: 10 }]);
  });

  it('history pages newest first across both directions', () => {
    const { ledger } = fresh();
    ledger.ensureAccount('mint', { allowNegative: true });
    ledger.ensureAccount('a');
    ledger.ensureAccount('b');
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) {
      ids.push(ledger.transfer({ from: 'mint', to: 'a', amountMsats: 10 }));
      ids.push(ledger.transfer({ from: 'a', to: 'b', amountMsats: 3 }));
    }
    const newestFirst = ids.reverse();
    const page = (offset: number) => ledger.history('a', { limit: 7, offset }).map((p) => p.id);
    assert.deepEqual(page(0), newestFirst.slice(0, 7));
    assert.deepEqual(page(7), newestFirst.slice(7, 14));
    assert.deepEqual(page(56), newestFirst.slice(56, 60));
    assert.equal(ledger.history('b', { limit: 1000 }).length, 30);
  });

  it('random transfers keep every invariant (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            from: fc.constantFrom('mint', 'a', 'b', 'c'),
            to: fc.constantFrom('mint', 'a', 'b', 'c'),
            amount: fc.integer({ min: -5, max: 2000 }),
          }),
          { maxLength: 60 },
        ),
        (ops) => {
          const { ledger } = fresh();
          ledger.ensureAccount('mint', { allowNegative: true });
          for (const n of ['a', 'b', 'c']) ledger.ensureAccount(n);
          const model: Record<string, number> = { mint: 0, a: 0, b: 0, c: 0 };
          for (const op of ops) {
            const ok =
              op.amount > 0 &&
              op.from !== op.to &&
              (op.from === 'mint' || (model[op.from] ?? 0) >= op.amount);
            try {
              ledger.transfer({ from: op.from, to: op.to, amountMsats: op.amount });
              assert.ok(ok, `accepted ${JSON.stringify(op)}`);
              model[op.from] = (model[op.from] ?? 0) - op.amount;
              model[op.to] = (model[op.to] ?? 0) + op.amount;
            } catch (err) {
              assert.ok(err instanceof LedgerError);
              assert.ok(!ok, `refused ${JSON.stringify(op)}`);
            }
          }
          assert.deepEqual(ledger.balances(), model);
          assert.deepEqual(ledger.check(), { ok: true, totalMsats: 0, negative: [], drift: [] });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('is fast: 10,000 transfers and balance reads', () => {
    const { db, ledger } = fresh();
    ledger.ensureAccount('mint', { allowNegative: true });
    for (let i = 0; i < 100; i++) ledger.ensureAccount(`acct${i}`);
    const started = performance.now();
    db.transaction(() => {
      for (let i = 0; i < 10_000; i++) {
        ledger.transfer({ from: 'mint', to: `acct${i % 100}`, amountMsats: 1 + i, ref: `r${i}` });
        ledger.balance(`acct${(i * 7) % 100}`);
      }
    })();
    const ms = performance.now() - started;
    assert.ok(ms < 5000, `${ms} ms`);
    assert.ok(ledger.check().ok);
    assert.equal(ledger.history('acct5', { limit: 5 }).length, 5);
  });
});
