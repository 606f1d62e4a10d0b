import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NostrEvent } from '../core/nostr.ts';
import { mintInvoice, paymentHashOf } from '../payments/bolt11.ts';
import { idFor, signerFor, T0 } from '../tests/reputation/keys.ts';
import { UNPROVEN_REASON } from './evidence.ts';
import {
  buildLabel,
  LABEL_KIND,
  LABEL_NAMESPACE,
  LABEL_TYPE_WEIGHTS,
  type LabelRejectionCode,
  parseLabel,
} from './labels.ts';
import { labelForOutcome, labelTypeForOutcome } from './outcomes.ts';

const customer = signerFor('customer');
const worker = signerFor('worker');
const PREIMAGE = 'ab'.repeat(32);
const INVOICE = mintInvoice({
  nodeSecretKey: '22'.repeat(32),
  amountMsats: 10_000,
  description: 'job',
  paymentHash: paymentHashOf(PREIMAGE),
  expirySeconds: 3600,
  timestamp: T0,
});

test('the ai.wot types and their weights', () => {
  assert.deepEqual(LABEL_TYPE_WEIGHTS, {
    'service-quality': 1.5,
    'work-completed': 1.2,
    'identity-continuity': 1.0,
    'general-trust': 0.8,
    dispute: -1.5,
    warning: -0.8,
  });
});

test('a label built, signed and parsed back: every field', async () => {
  const template = buildLabel({
    subject: worker.pubkey,
    type: 'service-quality',
    createdAt: T0,
    jobKind: 5001,
    request: idFor('req'),
    result: idFor('res'),
    quality: 0.8,
    outcome: 'completed',
    payment: { invoice: INVOICE, preimage: PREIMAGE },
    comment: 'good summary',
  });
  assert.deepEqual(template.tags, [
    ['L', 'ai.wot'],
    ['l', 'service-quality', 'ai.wot'],
    ['p', worker.pubkey],
    ['k', '5001'],
    ['e', idFor('req'), '', 'request'],
    ['e', idFor('res'), '', 'result'],
    ['quality', '0.8'],
    ['outcome', 'completed'],
    ['payment', INVOICE, PREIMAGE],
  ]);
  const event = await customer.signEvent(template);
  const parsed = parseLabel(event);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.label, {
    id: event.id,
    rater: customer.pubkey,
    subject: worker.pubkey,
    type: 'service-quality',
    createdAt: T0,
    jobKind: 5001,
    request: idFor('req'),
    result: idFor('res'),
    quality: 0.8,
    outcome: 'completed',
    payment: { status: 'proven', paymentHash: paymentHashOf(PREIMAGE), amountMsats: 10_000 },
  });
});

test('an ai.wot label as others write it (unmarked e, no k, other namespaces beside) parses', async () => {
  const event = await customer.signEvent({
    kind: LABEL_KIND,
    created_at: T0,
    content: '',
    tags: [
      ['L', 'ai.wot'],
      ['L', 'other'],
      ['l', 'general-trust', 'ai.wot'],
      ['l', 'whatever', 'other'],
      ['p', worker.pubkey],
      ['e', idFor('res')],
    ],
  });
  const parsed = parseLabel(event);
  assert.ok(parsed.ok);
  assert.equal(parsed.label.type, 'general-trust');
  assert.equal(parsed.label.result, idFor('res'));
  assert.equal(parsed.label.jobKind, undefined);
  assert.deepEqual(parsed.label.payment, { status: 'none' });
});

test('a payment claim that does not verify is kept, counted as unpaid, with the reason', async () => {
  const event = await customer.signEvent(
    buildLabel({
      subject: worker.pubkey,
      type: 'work-completed',
      createdAt: T0,
      payment: { invoice: INVOICE, preimage: 'cd'.repeat(32) },
    }),
  );
  const parsed = parseLabel(event);
  assert.ok(parsed.ok);
  assert.equal(parsed.label.payment.status, 'unproven');
  assert.ok(
    parsed.label.payment.status === 'unproven' && parsed.label.payment.reason.startsWith(UNPROVEN_REASON),
  );
});

async function rejected(tags: string[][], kind = LABEL_KIND, author = customer): Promise<unknown> {
  const event = await author.signEvent({ kind, created_at: T0, content: '', tags });
  const parsed = parseLabel(event);
  assert.ok(!parsed.ok, JSON.stringify(tags));
  return parsed.rejection;
}

test('every malformed label is rejected with a code, a reason, and the subject when it could be read', async () => {
  const base = (type = 'work-completed'): string[][] => [
    ['L', LABEL_NAMESPACE],
    ['l', type, LABEL_NAMESPACE],
    ['p', worker.pubkey],
  ];
  const cases: [string[][], LabelRejectionCode, number?][] = [
    [base(), 'bad-kind', 1],
    [
      [
        ['l', 'work-completed', LABEL_NAMESPACE],
        ['p', worker.pubkey],
      ],
      'no-namespace',
    ],
    [
      [
        ['L', LABEL_NAMESPACE],
        ['l', 'work-completed', 'other'],
        ['p', worker.pubkey],
      ],
      'no-label',
    ],
    [[...base(), ['l', 'warning', LABEL_NAMESPACE]], 'several-labels'],
    [base('excellent'), 'unknown-type'],
    [
      [
        ['L', LABEL_NAMESPACE],
        ['l', 'work-completed', LABEL_NAMESPACE],
      ],
      'missing-p',
    ],
    [[...base(), ['p', customer.pubkey]], 'several-p'],
    [
      [
        ['L', LABEL_NAMESPACE],
        ['l', 'work-completed', LABEL_NAMESPACE],
        ['p', 'npub1notahexkey'],
      ],
      'bad-p',
    ],
    [[...base(), ['k', '1985']], 'bad-job-kind'],
    [[...base(), ['k', '5001'], ['k', '5002']], 'bad-job-kind'],
    [[...base(), ['k', '05001']], 'bad-job-kind'],
    [[...base(), ['e', 'xyz']], 'bad-e'],
    [[...base(), ['e', idFor(1), '', 'request'], ['e', idFor(2), '', 'request']], 'bad-e'],
    [[...base(), ['e', idFor(1)], ['e', idFor(2), '', 'result']], 'bad-e'],
    [[...base(), ['e', idFor(1), '', 'root']], 'bad-e'],
    [[...base(), ['quality', '1.5']], 'bad-quality'],
    [[...base(), ['quality', '-0.1']], 'bad-quality'],
    [[...base(), ['quality', 'good']], 'bad-quality'],
    [[...base(), ['payment', INVOICE], ['payment', INVOICE]], 'bad-payment'],
  ];
  for (const [tags, code, kind] of cases) {
    const r = (await rejected(tags, kind)) as { code: string; reason: string; subject?: string };
    assert.equal(r.code, code, `${JSON.stringify(tags)}: ${r.reason}`);
    assert.ok(r.reason.length > 0);
    const subjectReadable =
      tags.filter((t) => t[0] === 'p').length === 1 && code !== 'bad-p' && code !== 'bad-kind';
    assert.equal(r.subject, subjectReadable ? worker.pubkey : undefined, `${code} subject`);
  }
});

test('a self-label is rejected as such, naming its subject', async () => {
  const r = (await rejected(
    [
      ['L', LABEL_NAMESPACE],
      ['l', 'service-quality', LABEL_NAMESPACE],
      ['p', worker.pubkey],
    ],
    LABEL_KIND,
    worker,
  )) as { code: string; subject: string };
  assert.equal(r.code, 'self-label');
  assert.equal(r.subject, worker.pubkey);
});

test('a malformed event shape is rejected, never thrown', () => {
  const bad = {
    id: 'x',
    pubkey: customer.pubkey,
    created_at: T0,
    kind: LABEL_KIND,
    tags: [],
    content: '',
    sig: '',
  };
  const parsed = parseLabel(bad as NostrEvent);
  assert.ok(!parsed.ok && parsed.rejection.code === 'malformed-event');
  const tags = { ...bad, id: idFor('x'), tags: 'nope' } as unknown as NostrEvent;
  const parsed2 = parseLabel(tags);
  assert.ok(!parsed2.ok && parsed2.rejection.code === 'malformed-event');
});

test('buildLabel refuses what it cannot write', () => {
  const ok = { subject: worker.pubkey, type: 'warning' as const, createdAt: T0 };
  assert.throws(() => buildLabel({ ...ok, subject: 'npub1x' }), TypeError);
  assert.throws(() => buildLabel({ ...ok, jobKind: 6001 }), TypeError);
  assert.throws(() => buildLabel({ ...ok, request: 'x' }), TypeError);
  assert.throws(() => buildLabel({ ...ok, quality: 2 }), TypeError);
  assert.throws(() => buildLabel({ ...ok, quality: Number.NaN }), TypeError);
  assert.throws(() => buildLabel({ ...ok, type: 'great' as 'warning' }), TypeError);
});

test('job outcomes map to label types (docs/reputation.md)', () => {
  const job = { worker: worker.pubkey, jobKind: 5001, request: idFor('r'), at: T0 };
  const paid = { invoice: INVOICE, preimage: PREIMAGE };
  const unpaid = { invoice: INVOICE };
  const cases: [Parameters<typeof labelTypeForOutcome>[0], string][] = [
    [{ ...job, outcome: 'completed', result: idFor('x') }, 'work-completed'],
    [{ ...job, outcome: 'completed', result: idFor('x'), payment: paid }, 'work-completed'],
    [{ ...job, outcome: 'completed', result: idFor('x'), quality: 0.9 }, 'service-quality'],
    [{ ...job, outcome: 'completed', result: idFor('x'), quality: 0.5 }, 'service-quality'],
    [{ ...job, outcome: 'completed', result: idFor('x'), quality: 0.2 }, 'warning'],
    [{ ...job, outcome: 'failed', reason: 'model down' }, 'warning'],
    [{ ...job, outcome: 'failed', payment: unpaid }, 'warning'],
    [{ ...job, outcome: 'failed', payment: paid }, 'dispute'],
    [{ ...job, outcome: 'missed-deadline' }, 'warning'],
    [{ ...job, outcome: 'missed-deadline', payment: paid }, 'dispute'],
    [{ ...job, outcome: 'disputed', reason: 'wrong language' }, 'dispute'],
    [{ ...job, outcome: 'bad-bid', reason: 'no-opening' }, 'warning'],
    [{ ...job, outcome: 'bad-bid', reason: 'mismatch' }, 'warning'],
  ];
  for (const [outcome, type] of cases) {
    assert.equal(labelTypeForOutcome(outcome), type, JSON.stringify(outcome));
    const tags = labelForOutcome(outcome).tags;
    assert.deepEqual(tags[1], ['l', type, LABEL_NAMESPACE]);
    assert.ok(tags.some((t) => t[0] === 'outcome' && t[1] === outcome.outcome));
    assert.ok(tags.some((t) => t[0] === 'e' && t[1] === idFor('r') && t[3] === 'request'));
    assert.ok(tags.some((t) => t[0] === 'k' && t[1] === '5001'));
  }
});

test('a completed paid job labels the result and carries the proof; it parses as proven', async () => {
  const template = labelForOutcome({
    outcome: 'completed',
    worker: worker.pubkey,
    jobKind: 5001,
    request: idFor('r'),
    result: idFor('res'),
    payment: { invoice: INVOICE, preimage: PREIMAGE },
    quality: 0.75,
    at: T0,
  });
  assert.equal(template.kind, LABEL_KIND);
  assert.equal(template.created_at, T0);
  assert.match(template.content, /completed, rated 0.75/);
  const parsed = parseLabel(await customer.signEvent(template));
  assert.ok(parsed.ok);
  assert.equal(parsed.label.type, 'service-quality');
  assert.equal(parsed.label.quality, 0.75);
  assert.equal(parsed.label.result, idFor('res'));
  assert.equal(parsed.label.payment.status, 'proven');
});
