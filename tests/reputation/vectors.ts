import type { NostrEvent } from '../../core/nostr.ts';
import { mintInvoice, paymentHashOf } from '../../payments/bolt11.ts';
import { buildRevocation } from '../../reputation/revocation.ts';
import { DAY, idFor, keyFor, label, T0, unsigned } from './keys.ts';

/**
 * A small fixed network whose scores are committed in score.test.ts: two seeds (the owner and the desk),
 * three workers, a customer the owner vouches for, a stranger; paid, unpaid, old, future, self, revoked and
 * superseded labels, a revocation by the wrong key.
 */
export const V = {
  owner: keyFor('owner'),
  desk: keyFor('desk'),
  w1: keyFor('w1'),
  w2: keyFor('w2'),
  w3: keyFor('w3'),
  c1: keyFor('c1'),
  stranger: keyFor('stranger'),
};
export const VECTOR_NOW = T0 + 30 * DAY;

function paid(n: number, sats: number): { invoice: string; preimage: string } {
  const preimage = idFor(`preimage-${n}`);
  return {
    invoice: mintInvoice({
      nodeSecretKey: '33'.repeat(32),
      amountMsats: sats * 1000,
      description: `job ${n}`,
      paymentHash: paymentHashOf(preimage),
      expirySeconds: 3600,
      timestamp: T0,
    }),
    preimage,
  };
}

export function vectorEvents(): NostrEvent[] {
  const job = (n: number) => ({ request: idFor(`job-${n}`) });
  const revokedLabel = label(V.desk, {
    subject: V.w2,
    type: 'warning',
    jobKind: 5001,
    ...job(20),
    createdAt: T0 + DAY,
  });
  const deskW1 = label(V.desk, {
    subject: V.w1,
    type: 'work-completed',
    jobKind: 5001,
    ...job(1),
    payment: paid(1, 21),
  });
  return [
    deskW1,
    label(V.desk, {
      subject: V.w1,
      type: 'work-completed',
      jobKind: 5001,
      ...job(2),
      createdAt: T0 + 2 * DAY,
    }),
    label(V.desk, { subject: V.w1, type: 'service-quality', quality: 0.9, jobKind: 5001, ...job(3) }),
    label(V.desk, { subject: V.w1, type: 'warning', jobKind: 5002, ...job(4), createdAt: T0 + 5 * DAY }),
    label(V.desk, { subject: V.w2, type: 'work-completed', jobKind: 5001, ...job(5) }),
    label(V.desk, { subject: V.w2, type: 'dispute', jobKind: 5001, ...job(6), payment: paid(6, 100) }),
    revokedLabel,
    unsigned(V.desk, buildRevocation([revokedLabel.id], T0 + 2 * DAY)),
    unsigned(V.stranger, buildRevocation([deskW1.id], T0 + 2 * DAY)),
    label(V.owner, { subject: V.c1, type: 'general-trust' }),
    label(V.c1, { subject: V.w1, type: 'service-quality', quality: 0.9, jobKind: 5001, ...job(7) }),
    label(V.c1, { subject: V.w3, type: 'work-completed', jobKind: 5050, ...job(8) }),
    // c1 first rated job 9 a failure, then changed its mind: the later label replaces the earlier.
    label(V.c1, { subject: V.w3, type: 'warning', jobKind: 5050, ...job(9), createdAt: T0 }),
    label(V.c1, { subject: V.w3, type: 'work-completed', jobKind: 5050, ...job(9), createdAt: T0 + DAY }),
    label(V.w1, { subject: V.w3, type: 'work-completed', jobKind: 5050, ...job(10) }),
    label(V.desk, {
      subject: V.w3,
      type: 'work-completed',
      jobKind: 5050,
      ...job(11),
      createdAt: T0 - 200 * DAY,
    }),
    label(V.stranger, { subject: V.w3, type: 'service-quality', quality: 1, jobKind: 5050, ...job(12) }),
    label(V.stranger, { subject: V.w3, type: 'service-quality', quality: 1, jobKind: 5050, ...job(13) }),
    label(V.stranger, { subject: V.w2, type: 'dispute', jobKind: 5001, ...job(14) }),
    label(V.w1, { subject: V.w1, type: 'service-quality', jobKind: 5001, ...job(15) }),
    label(V.c1, {
      subject: V.w2,
      type: 'work-completed',
      jobKind: 5001,
      ...job(16),
      createdAt: VECTOR_NOW + DAY,
    }),
    // The stranger claims a payment it cannot prove.
    label(V.stranger, {
      subject: V.w1,
      type: 'work-completed',
      jobKind: 5001,
      ...job(17),
      payment: { invoice: paid(17, 50).invoice, preimage: idFor('wrong') },
    }),
  ];
}
