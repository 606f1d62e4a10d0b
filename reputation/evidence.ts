/**
 * Payment evidence on a reputation label: the BOLT #11 invoice the job was paid with and, once the payment
 * settled, its preimage. The evidence is proven when sha256(preimage) is the invoice's payment hash: only
 * whoever paid (or was paid) learns the preimage, so a rating can be tied to real money. It proves that the
 * invoice was paid, not who paid it (a key can pay itself): that is why the rater's trust still multiplies
 * every label. Tag: `["payment", "<bolt11>", "<preimage hex>"]`, the preimage left out while unsettled.
 * Pure; the invoice is read by payments/bolt11.ts (checksum, signature, payment hash).
 */
import { decodeInvoice, InvoiceError, paymentHashOf } from '../payments/bolt11.ts';

export const PAYMENT_TAG = 'payment';

/** Evidence that does not verify is kept, and counted as unpaid with this reason. */
export const UNPROVEN_REASON = 'payment claimed but not proven';

export type PaymentEvidence =
  | { status: 'none' }
  | {
      status: 'proven';
      paymentHash: string;
      /** Undefined for an any-amount invoice: proven, but worth no more than an unpaid label. */
      amountMsats: number | undefined;
    }
  | {
      status: 'unproven';
      /** Why it does not verify, starting with UNPROVEN_REASON. */
      reason: string;
      paymentHash?: string;
      amountMsats?: number;
    };

const HEX64 = /^[0-9a-f]{64}$/;

/** The tag for a label: the invoice, and its preimage when the payment has settled. */
export function paymentTag(invoice: string, preimage?: string): string[] {
  return preimage === undefined ? [PAYMENT_TAG, invoice] : [PAYMENT_TAG, invoice, preimage];
}

const unproven = (why: string, paymentHash?: string, amountMsats?: number): PaymentEvidence => ({
  status: 'unproven',
  reason: `${UNPROVEN_REASON}: ${why}`,
  ...(paymentHash !== undefined ? { paymentHash } : {}),
  ...(amountMsats !== undefined ? { amountMsats } : {}),
});

/**
 * Reads a `payment` tag (undefined: no claim). Never throws: an unreadable invoice, a missing or malformed
 * preimage, or one that does not hash to the invoice's payment hash gives `unproven` with the reason.
 */
export function checkPaymentEvidence(tag: readonly string[] | undefined): PaymentEvidence {
  if (tag === undefined) return { status: 'none' };
  const invoice = tag[1];
  if (invoice === undefined || invoice === '') return unproven('the payment tag names no invoice');
  let paymentHash: string;
  let amountMsats: number | undefined;
  try {
    // The expiry does not matter here (an invoice paid long ago is still proof), so no clock is needed.
    const decoded = decodeInvoice(invoice, 0);
    paymentHash = decoded.paymentHash;
    amountMsats = decoded.amountMsats;
  } catch (err) {
    const detail = err instanceof InvoiceError ? err.message : 'unreadable';
    return unproven(`the invoice is not valid bolt11 (${detail})`);
  }
  const preimage = tag[2];
  if (preimage === undefined || preimage === '') {
    return unproven('no preimage (the payment never settled, or it was not shown)', paymentHash, amountMsats);
  }
  if (!HEX64.test(preimage)) {
    return unproven('the preimage is not 32 bytes of lowercase hex', paymentHash, amountMsats);
  }
  if (paymentHashOf(preimage) !== paymentHash) {
    return unproven("the preimage does not hash to the invoice's payment hash", paymentHash, amountMsats);
  }
  return { status: 'proven', paymentHash, amountMsats };
}

/**
 * How much more a proven payment makes a label weigh: 1 + 0.5·log2(1 + sats), at most `cap` (ai.wot's zap
 * weight, capped so that one large payment cannot carry a score). 1 for no, or an unproven, payment.
 */
export function paymentFactor(evidence: PaymentEvidence, cap: number): number {
  if (evidence.status !== 'proven' || evidence.amountMsats === undefined) return 1;
  const sats = evidence.amountMsats / 1000;
  return Math.min(cap, 1 + 0.5 * Math.log2(1 + sats));
}
