import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bidTooLow, feeFor, quote, reserveFor } from './pricing.ts';

const TEN_PCT = { feeMsats: 0, feePct: 10, minPriceMsats: 1000 };

test('a quote is the price (at least the minimum) plus the fee, rounded up', () => {
  assert.deepEqual(quote(TEN_PCT, 2000), { priceMsats: 2000, amountMsats: 2200 });
  assert.deepEqual(quote(TEN_PCT, 10), { priceMsats: 1000, amountMsats: 1100 });
  assert.deepEqual(quote(TEN_PCT, 1001), { priceMsats: 1001, amountMsats: 1102 });
  assert.equal(feeFor({ feeMsats: 50, feePct: 1, minPriceMsats: 0 }, 101), 52);
});

test('the reserve leaves room for the fee: a bid of 1,000,000 msats at 10 % buys work up to 909,090', () => {
  assert.equal(reserveFor(TEN_PCT, 1_000_000), 909_090);
  assert.equal(quote(TEN_PCT, 909_090).amountMsats, 999_999);
  assert.equal(quote(TEN_PCT, 909_091).amountMsats, 1_000_001);
  assert.equal(reserveFor(TEN_PCT, 1100), 1000, 'exactly the least charge');
  assert.equal(reserveFor(TEN_PCT, 1099), undefined, 'below it: nothing fits');
  assert.match(
    bidTooLow(TEN_PCT, 1099),
    /your bid of 1099 msats is below the least this instance charges: 1100 msats \(1000 for the work \+ 100/,
  );
  assert.equal(
    reserveFor({ feeMsats: 0, feePct: 0, minPriceMsats: 0 }, 5000),
    5000,
    'no fee: the bid itself',
  );
});

test('for any settings and bid, the reserve is the largest price whose quote fits the bid', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 10_000 }),
      fc.double({ min: 0, max: 100, noNaN: true }),
      fc.integer({ min: 0, max: 100_000 }),
      fc.integer({ min: 0, max: 50_000_000 }),
      (feeMsats, feePct, minPriceMsats, bid) => {
        const p = { feeMsats, feePct, minPriceMsats };
        const r = reserveFor(p, bid);
        if (r === undefined) {
          assert.ok(quote(p, minPriceMsats).amountMsats > bid);
          return;
        }
        assert.ok(r >= minPriceMsats);
        assert.ok(quote(p, r).amountMsats <= bid, 'fits');
        assert.ok(quote(p, r + 1).amountMsats > bid, 'the largest that fits');
      },
    ),
  );
});
