import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type CostModel, estimateCost, type JobEstimate, truthfulBid } from './strategy.ts';

const MODEL: CostModel = { baseMsats: 1000, perTokenMsats: 0.5, perSecondMsats: 20, loadSurchargePct: 10 };
const JOB: JobEstimate = { expectedTokens: 801, expectedSeconds: 2.5, load: 0 };

describe('estimateCost', () => {
  test('base + tokens + seconds, rounded up to whole msats', () => {
    // 1000 + 801 × 0.5 + 2.5 × 20 = 1450.5 → 1451
    assert.equal(estimateCost(MODEL, JOB), 1451);
    assert.equal(estimateCost({ ...MODEL, perTokenMsats: 0 }, { ...JOB, expectedSeconds: 0 }), 1000);
  });
  test('the load surcharge is a percentage per job in hand, rounded up', () => {
    // 1451 + 1451 × 10 % × 2 = 1451 + 290.2 → 1451 + 291
    assert.equal(estimateCost(MODEL, { ...JOB, load: 2 }), 1742);
  });
  test('float noise does not add a msat (0.07 × 100 is 7.000000000000001 in binary floating point)', () => {
    const m: CostModel = { baseMsats: 0, perTokenMsats: 0.07, perSecondMsats: 0, loadSurchargePct: 0 };
    assert.equal(estimateCost(m, { expectedTokens: 100, expectedSeconds: 0, load: 0 }), 7);
    assert.equal(estimateCost(m, { expectedTokens: 101, expectedSeconds: 0, load: 0 }), 8);
    // 1000 + 1.15 × 100 (114.99999999999999) = 1115; + 1115 × 10 % = 111.5 → 112
    const n: CostModel = { baseMsats: 1000, perTokenMsats: 1.15, perSecondMsats: 0, loadSurchargePct: 10 };
    assert.equal(estimateCost(n, { expectedTokens: 100, expectedSeconds: 0, load: 1 }), 1227);
  });
  test('rejects negative, non-finite and fractional-load input with a RangeError', () => {
    const bad: [Partial<CostModel>, Partial<JobEstimate>][] = [
      [{ baseMsats: -1 }, {}],
      [{ perTokenMsats: Number.NaN }, {}],
      [{ perSecondMsats: Number.POSITIVE_INFINITY }, {}],
      [{ loadSurchargePct: -5 }, {}],
      [{}, { expectedTokens: -1 }],
      [{}, { expectedSeconds: Number.NaN }],
      [{}, { load: 1.5 }],
      [{}, { load: -1 }],
      [{ baseMsats: 2 ** 60 }, {}],
    ];
    for (const [m, j] of bad)
      assert.throws(() => estimateCost({ ...MODEL, ...m }, { ...JOB, ...j }), RangeError);
  });
  test('deterministic, a whole number of msats, monotone in every input', () => {
    const model = fc.record({
      baseMsats: fc.integer({ min: 0, max: 10_000 }),
      perTokenMsats: fc.double({ min: 0, max: 10, noNaN: true }),
      perSecondMsats: fc.double({ min: 0, max: 1000, noNaN: true }),
      loadSurchargePct: fc.integer({ min: 0, max: 100 }),
    });
    const job = fc.record({
      expectedTokens: fc.integer({ min: 0, max: 100_000 }),
      expectedSeconds: fc.double({ min: 0, max: 600, noNaN: true }),
      load: fc.integer({ min: 0, max: 10 }),
    });
    fc.assert(
      fc.property(model, job, (m, j) => {
        const c = estimateCost(m, j);
        assert.ok(Number.isSafeInteger(c) && c >= 0, `whole msats: ${c}`);
        assert.equal(estimateCost({ ...m }, { ...j }), c);
        assert.ok(estimateCost(m, { ...j, load: j.load + 1 }) >= c, 'monotone in load');
        assert.ok(estimateCost(m, { ...j, expectedTokens: j.expectedTokens + 1 }) >= c, 'monotone in tokens');
        assert.ok(estimateCost({ ...m, baseMsats: m.baseMsats + 1 }, j) >= c, 'monotone in base');
      }),
      { numRuns: 500 },
    );
  });
});

describe('truthfulBid', () => {
  test('bids exactly the cost', () => {
    assert.equal(truthfulBid(0), 0);
    assert.equal(truthfulBid(1451), 1451);
  });
  test('rejects what is not an amount of msats', () => {
    for (const c of [-1, 0.5, Number.NaN, 2 ** 53]) assert.throws(() => truthfulBid(c), RangeError);
  });
});
