import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type BidPreimage, checkOpening, commitBid, newNonce } from './commitment.ts';

const JOB = 'ab'.repeat(32);
const BIDDER = 'cd'.repeat(32);
const BASE: BidPreimage = { jobId: JOB, bidder: BIDDER, amountMsats: 21000, nonce: '01'.repeat(32) };

describe('commitBid', () => {
  test('pinned vectors (cross-checked with sha256sum over the JSON preimage)', () => {
    // sha256('["timmy-bid-v1","abab…","cdcd…",21000,"0101…"]')
    assert.equal(commitBid(BASE), '13ca636f2dfc2c4be7d22bc817526a54a968027109adbdcb5e9190e56d0fff08');
    assert.equal(
      commitBid({ ...BASE, amountMsats: 0, nonce: '0'.repeat(64) }),
      'e92de1b1e2732d99fcee3503c46f47db8e6868ffb99acc0f14a64b32bcabcc1e',
    );
    assert.equal(
      commitBid({ ...BASE, amountMsats: Number.MAX_SAFE_INTEGER, nonce: 'f'.repeat(64) }),
      'fe9b7c90d666e1e161fbc6941977046140836703ff6939311889fcb8e71f777b',
    );
  });

  const badHex = ['', 'ab', 'AB'.repeat(32), 'ab'.repeat(32).slice(1), `${'ab'.repeat(32)}0`, 'g'.repeat(64)];
  const cases: [string, Partial<Record<keyof BidPreimage, unknown>>][] = [
    ...badHex.map((v): [string, Partial<Record<keyof BidPreimage, unknown>>] => ['jobId', { jobId: v }]),
    ...badHex.map((v): [string, Partial<Record<keyof BidPreimage, unknown>>] => ['bidder', { bidder: v }]),
    ...badHex.map((v): [string, Partial<Record<keyof BidPreimage, unknown>>] => ['nonce', { nonce: v }]),
    ...[-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '21000', null].map(
      (v): [string, Partial<Record<keyof BidPreimage, unknown>>] => ['amountMsats', { amountMsats: v }],
    ),
    ['jobId', { jobId: 42 }],
    ['nonce', { nonce: undefined }],
  ];
  for (const [field, patch] of cases) {
    const shown = (JSON.stringify(Object.values(patch)[0]) ?? 'undefined').slice(0, 12);
    test(`rejects ${field} = ${shown} with a RangeError naming the field`, () => {
      const input = { ...BASE, ...patch } as unknown as BidPreimage;
      assert.throws(
        () => commitBid(input),
        (e: unknown) => e instanceof RangeError && e.message.includes(field),
      );
      assert.equal(checkOpening(commitBid(BASE), input), false);
    });
  }

  test('changing any one field changes the commitment', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
    const preimage = fc.record({ jobId: hex, bidder: hex, amountMsats: fc.maxSafeNat(), nonce: hex });
    fc.assert(
      fc.property(
        preimage,
        preimage,
        fc.constantFrom('jobId', 'bidder', 'amountMsats', 'nonce'),
        (a, b, key) => {
          fc.pre(a[key] !== b[key]);
          assert.notEqual(commitBid(a), commitBid({ ...a, [key]: b[key] }));
        },
      ),
      { numRuns: 500 },
    );
  });

  test('the commitment is 64 lowercase hex and deterministic', () => {
    assert.match(commitBid(BASE), /^[0-9a-f]{64}$/);
    assert.equal(commitBid({ ...BASE }), commitBid(BASE));
  });
});

describe('newNonce', () => {
  test('32 random bytes as lowercase hex, never repeated', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const n = newNonce();
      assert.match(n, /^[0-9a-f]{64}$/);
      seen.add(n);
    }
    assert.equal(seen.size, 100);
    assert.doesNotThrow(() => commitBid({ ...BASE, nonce: newNonce() }));
  });
});

describe('checkOpening', () => {
  const commitment = commitBid(BASE);
  test('true for the opening that was committed', () => {
    assert.equal(checkOpening(commitment, { ...BASE }), true);
  });
  test('false for another amount, nonce, bidder or job (a replayed opening)', () => {
    assert.equal(checkOpening(commitment, { ...BASE, amountMsats: 20999 }), false);
    assert.equal(checkOpening(commitment, { ...BASE, nonce: '02'.repeat(32) }), false);
    assert.equal(checkOpening(commitment, { ...BASE, bidder: 'ce'.repeat(32) }), false);
    assert.equal(checkOpening(commitment, { ...BASE, jobId: 'ac'.repeat(32) }), false);
  });
  test('false, not a throw, for a malformed commitment or opening', () => {
    assert.equal(checkOpening(commitment.toUpperCase(), BASE), false);
    assert.equal(checkOpening('', BASE), false);
    assert.equal(checkOpening(commitment, { ...BASE, amountMsats: -1 }), false);
    assert.equal(checkOpening(commitment, { ...BASE, nonce: 'x' }), false);
  });
});
