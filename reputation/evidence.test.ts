import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mintInvoice, paymentHashOf } from '../payments/bolt11.ts';
import { checkPaymentEvidence, PAYMENT_TAG, paymentFactor, paymentTag, UNPROVEN_REASON } from './evidence.ts';

const NODE_KEY = '11'.repeat(32);
const PREIMAGE = 'ab'.repeat(32);

function invoice(amountMsats?: number, preimage = PREIMAGE): string {
  return mintInvoice({
    nodeSecretKey: NODE_KEY,
    ...(amountMsats !== undefined ? { amountMsats } : {}),
    description: 'job',
    paymentHash: paymentHashOf(preimage),
    expirySeconds: 3600,
    timestamp: 1_700_000_000,
  });
}

test('a preimage that hashes to the invoice payment hash proves the payment (expired or not)', () => {
  const e = checkPaymentEvidence(paymentTag(invoice(21_000), PREIMAGE));
  assert.deepEqual(e, { status: 'proven', paymentHash: paymentHashOf(PREIMAGE), amountMsats: 21_000 });
});

test('a claim that does not verify is unproven, with the reason', () => {
  const cases: [string[], RegExp][] = [
    [[PAYMENT_TAG, invoice(21_000)], /no preimage/],
    [[PAYMENT_TAG, invoice(21_000), 'cd'.repeat(32)], /does not hash to the invoice's payment hash/],
    [[PAYMENT_TAG, invoice(21_000), 'AB'.repeat(32)], /not 32 bytes of lowercase hex/],
    [[PAYMENT_TAG, invoice(21_000), 'abc'], /not 32 bytes of lowercase hex/],
    [[PAYMENT_TAG, 'lnbc1notaninvoice', PREIMAGE], /not valid bolt11/],
    [[PAYMENT_TAG, `${invoice(21_000).slice(0, -1)}q`, PREIMAGE], /not valid bolt11 \(bad checksum\)/],
    [[PAYMENT_TAG], /names no invoice/],
    [[PAYMENT_TAG, ''], /names no invoice/],
  ];
  for (const [tag, why] of cases) {
    const e = checkPaymentEvidence(tag);
    assert.equal(e.status, 'unproven', JSON.stringify(tag));
    if (e.status !== 'unproven') continue;
    assert.ok(e.reason.startsWith(`${UNPROVEN_REASON}: `), e.reason);
    assert.match(e.reason, why);
  }
  // What could be read is kept: the hash and amount of a readable invoice.
  const pending = checkPaymentEvidence([PAYMENT_TAG, invoice(5_000)]);
  assert.deepEqual(pending.status === 'unproven' && [pending.paymentHash, pending.amountMsats], [
    paymentHashOf(PREIMAGE),
    5_000,
  ]);
});

test('no tag, no claim', () => {
  assert.deepEqual(checkPaymentEvidence(undefined), { status: 'none' });
  assert.deepEqual(paymentTag('lnbc1x'), [PAYMENT_TAG, 'lnbc1x']);
});

test('the payment factor is 1 + 0.5·log2(1 + sats), capped, and 1 without a proven amount', () => {
  const proven = (msats?: number) => checkPaymentEvidence(paymentTag(invoice(msats), PREIMAGE));
  assert.equal(paymentFactor(proven(1_000), 3), 1.5); // 1 sat
  assert.equal(paymentFactor(proven(3_000), 3), 2); // 3 sats
  assert.equal(paymentFactor(proven(15_000), 3), 3); // 15 sats: the cap
  assert.equal(paymentFactor(proven(1_000_000_000), 3), 3); // a million sats: still the cap
  assert.equal(paymentFactor(proven(1_000_000_000), 5), 5);
  assert.equal(paymentFactor(proven(undefined), 3), 1); // any-amount invoice: proven, worth nothing more
  assert.equal(paymentFactor(checkPaymentEvidence([PAYMENT_TAG, invoice(15_000)]), 3), 1);
  assert.equal(paymentFactor({ status: 'none' }, 3), 1);
});
