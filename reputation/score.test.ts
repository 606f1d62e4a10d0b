import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { NostrEvent } from '../core/nostr.ts';
import { mintInvoice, paymentHashOf } from '../payments/bolt11.ts';
import { DAY, idFor, keyFor, label, T0, unsigned } from '../tests/reputation/keys.ts';
import { V, VECTOR_NOW, vectorEvents } from '../tests/reputation/vectors.ts';
import { formatExplanation } from './explain.ts';
import type { LabelType } from './labels.ts';
import { buildRevocation } from './revocation.ts';
import { computeReputation, DEFAULT_SCORE_OPTIONS, SCORE_VERSION, scoreOptions } from './score.ts';

const SEED = keyFor('seed');
const SEED2 = keyFor('seed2');
const X = keyFor('agent-x');
const score = (events: NostrEvent[], now = T0, seeds = [SEED, SEED2], subject = X, kind?: number): number =>
  computeReputation(events, seeds, now).score(subject, kind).score;

test('the version and the defaults', () => {
  assert.equal(SCORE_VERSION, 'timmy-rep/1');
  assert.deepEqual(scoreOptions(), DEFAULT_SCORE_OPTIONS);
  assert.equal(DEFAULT_SCORE_OPTIONS.halfLifeDays, 90);
  assert.equal(DEFAULT_SCORE_OPTIONS.damping, 0.85);
  assert.throws(() => scoreOptions({ damping: 1 }), RangeError);
  assert.throws(() => scoreOptions({ halfLifeDays: 0 }), RangeError);
  assert.throws(() => scoreOptions({ priorMean: 101 }), RangeError);
  assert.throws(() => scoreOptions({ paidCap: 0.5 }), RangeError);
});

test('fixed vectors: the same labels give these exact scores (committed; a change is a new SCORE_VERSION)', () => {
  const rep = computeReputation(vectorEvents(), [V.owner, V.desk], VECTOR_NOW);
  const row = (k: string) => {
    const s = rep.score(k);
    return [s.score, s.labels, s.explanation.positive, s.explanation.negative];
  };
  assert.deepEqual(row(V.w1), [73.36, 6, 2.581551, 0.3004]);
  assert.deepEqual(row(V.w2), [34.4, 2, 0.491782, 1.844182]);
  assert.deepEqual(row(V.w3), [74.34, 6, 1.89752, 0]);
  assert.deepEqual(row(V.c1), [61.12, 1, 0.572265, 0]);
  assert.deepEqual(row(V.stranger), [50, 0, 0, 0]);
  assert.deepEqual(row(V.owner), [50, 0, 0, 0]);
  assert.equal(rep.score(V.w1, 5001).score, 79.02);
  assert.equal(rep.score(V.w1, 5002).score, 38.57);
  assert.equal(rep.score(V.w2, 5001).score, 34.4);
  assert.equal(rep.score(V.w3, 5050).score, 74.34);
  assert.equal(rep.score(V.w3, 5001).score, 50); // no labels for that kind: the prior
  assert.deepEqual(rep.kindsOf(V.w1), [5001, 5002]);
  assert.equal(rep.trust.trust(V.owner), 1);
  assert.equal(rep.trust.trust(V.stranger), 0);
  assert.equal(Math.round(rep.trust.trust(V.c1) * 1e6) / 1e6, 0.978252);
  assert.deepEqual(rep.score(V.w2).explanation.ignoredByReason, { future: 1, 'no-standing': 1, revoked: 1 });
  assert.deepEqual(rep.score(V.w3).explanation.ignoredByReason, { superseded: 1 });
  assert.deepEqual(rep.score(V.w1).explanation.ignoredByReason, { 'self-label': 1 });
});

test('deterministic: the same events in any order give the same scores and explanations', () => {
  const events = vectorEvents();
  const base = computeReputation(events, [V.owner, V.desk], VECTOR_NOW);
  const shuffled = [...events].reverse();
  shuffled.push(shuffled.shift() as NostrEvent, events[0] as NostrEvent); // and a duplicate
  const again = computeReputation(shuffled, [V.owner, V.desk], VECTOR_NOW);
  for (const k of Object.values(V)) {
    assert.deepEqual(JSON.parse(JSON.stringify(again.score(k))), JSON.parse(JSON.stringify(base.score(k))));
  }
});

test('every score explains itself: the counted labels with their factors, and the ignored ones with reasons', () => {
  const rep = computeReputation(vectorEvents(), [V.owner, V.desk], VECTOR_NOW);
  const e = rep.score(V.w1).explanation;
  assert.equal(e.version, SCORE_VERSION);
  assert.equal(e.at, VECTOR_NOW);
  assert.match(e.formula, /^100 × \(2 × 0.5 \+ 2.581551\) \/ \(2 \+ 2.581551 \+ 0.3004\) = 73.36$/);
  assert.equal(e.countedTotal, 6);
  const paid = e.counted.find((c) => c.notes.some((n) => n.startsWith('paid 21 sats (proven)')));
  assert.ok(paid, 'the paid label says so');
  assert.ok(paid.payment > 1);
  const unproven = e.counted.find((c) => c.rater === V.stranger);
  assert.ok(unproven?.notes.some((n) => n.startsWith('payment claimed but not proven')));
  assert.equal(unproven?.payment, 1);
  const weights = e.counted.map((c) => Math.abs(c.weight));
  assert.deepEqual(
    weights,
    [...weights].sort((a, b) => b - a),
    'heaviest first',
  );
  const self = e.ignored.find((i) => i.reason === 'self-label');
  assert.equal(self?.rater, V.w1);
  const text = formatExplanation(rep.score(V.w1), e);
  assert.match(text, /overall: 73.36/);
  assert.match(text, /ignored: 1 \(self-label 1\)/);
});

const positive = (rater: string, n: number, extra: Partial<Parameters<typeof label>[1]> = {}): NostrEvent =>
  label(rater, {
    subject: X,
    type: 'work-completed',
    jobKind: 5001,
    request: idFor(`p-${rater}-${n}`),
    ...extra,
  });

test('monotone: one more positive label (from a seed or a stranger) never lowers the score', () => {
  const types: LabelType[] = [
    'service-quality',
    'work-completed',
    'identity-continuity',
    'general-trust',
    'dispute',
    'warning',
  ];
  const labelArb = fc.record({
    rater: fc.integer({ min: 0, max: 5 }), // 0-1: seeds; 2-5: strangers
    type: fc.constantFrom(...types),
    ageDays: fc.integer({ min: 0, max: 400 }),
    kind: fc.constantFrom(5001, 5002),
  });
  const raters = [SEED, SEED2, keyFor('s1'), keyFor('s2'), keyFor('s3'), keyFor('s4')];
  let n = 0;
  const make = (l: { rater: number; type: LabelType; ageDays: number; kind: number }): NostrEvent =>
    label(raters[l.rater] as string, {
      subject: X,
      type: l.type,
      jobKind: l.kind,
      request: idFor(`mono-${n++}`),
      createdAt: T0 - l.ageDays * DAY,
    });
  fc.assert(
    fc.property(
      fc.array(labelArb, { maxLength: 25 }),
      labelArb.filter((l) => l.type !== 'dispute' && l.type !== 'warning'),
      (existing, extra) => {
        const events = existing.map(make);
        const before = computeReputation(events, [SEED, SEED2], T0);
        const after = computeReputation([...events, make(extra)], [SEED, SEED2], T0);
        for (const kind of [undefined, extra.kind]) {
          const b = before.score(X, kind).score;
          const a = after.score(X, kind).score;
          if (a < b) return false;
        }
        return true;
      },
    ),
    { numRuns: 150, seed: 1213 },
  );
});

test('time: labels decay (half-life 90 days) and the score returns to the prior', () => {
  const events = [1, 2, 3].map((n) => positive(SEED, n));
  const at = (days: number) => score(events, T0 + days * DAY);
  const series = [0, 30, 90, 180, 365, 730, 2000].map(at);
  for (let i = 1; i < series.length; i++)
    assert.ok((series[i] as number) < (series[i - 1] as number), `${series}`);
  assert.ok(Math.abs(at(2000) - 50) < 0.1, `${at(2000)}`);
  // A complaint fades the same way, from below.
  const bad = [1, 2, 3].map((n) => positive(SEED, n, { type: 'warning' }));
  assert.ok(score(bad, T0) < score(bad, T0 + 180 * DAY) && score(bad, T0 + 2000 * DAY) > 49.9);
});

test('a new agent starts at the prior; one label from an unknown key barely moves it, from a seed it does', () => {
  assert.equal(score([]), 50);
  const fromStranger = score([positive(keyFor('unknown'), 1, { type: 'service-quality' })]);
  const fromSeed = score([positive(SEED, 1, { type: 'service-quality' })]);
  assert.ok(fromStranger > 50 && fromStranger < 52, `${fromStranger}`);
  assert.ok(fromSeed > 65, `${fromSeed}`);
  // A thousand strangers together count at most strangersCap (0.5 label): the score stays near the prior.
  const crowd = Array.from({ length: 1000 }, (_, i) =>
    positive(keyFor(`crowd-${i}`), i, { type: 'service-quality' }),
  );
  const many = score(crowd);
  assert.ok(many <= (100 * (1 + 0.5)) / (2 + 0.5) + 1e-9, `${many}`);
  const e = computeReputation(crowd, [SEED], T0).score(X).explanation;
  assert.equal(e.strangers.raters, 1000);
  assert.equal(e.strangers.capped, true);
  assert.ok(e.counted[0]?.notes.some((n) => n.includes('capped at 0.5')));
});

test('self-labels are ignored, with the reason', () => {
  const self = label(X, { subject: X, type: 'service-quality' });
  const rep = computeReputation([self], [X], T0);
  assert.equal(rep.score(X).score, 50);
  assert.deepEqual(rep.score(X).explanation.ignoredByReason, { 'self-label': 1 });
});

test('a flood from one key counts like a few labels; spread over many agents it says little about each', () => {
  const flood = Array.from({ length: 1000 }, (_, i) => positive(SEED, i));
  const floodScore = score(flood);
  const cap = DEFAULT_SCORE_OPTIONS.pairCap;
  assert.ok(floodScore <= (100 * (1 + cap)) / (2 + cap) + 1e-9, `${floodScore}`);
  // Ten seeds with one label each say more than one seed with a thousand.
  const seeds = Array.from({ length: 10 }, (_, i) => keyFor(`seed-${i}`));
  assert.ok(
    score(
      seeds.map((s) => positive(s, 0)),
      T0,
      seeds,
    ) > floodScore,
  );
  // A trusted non-seed key (vouched for by a seed) that rates 200 agents gives each a sliver of its voice.
  const trusted = keyFor('trusted');
  const vouch = label(SEED, { subject: trusted, type: 'general-trust' });
  const one = score([vouch, positive(trusted, 0)]);
  const spread = Array.from({ length: 200 }, (_, i) =>
    label(trusted, { subject: keyFor(`other-${i}`), type: 'work-completed', request: idFor(`o-${i}`) }),
  );
  const diluted = score([vouch, positive(trusted, 0), ...spread]);
  assert.ok(one > 55 && diluted < 50.5, `${one} ${diluted}`);
});

const PREIMAGE = 'ef'.repeat(32);
const INVOICE = mintInvoice({
  nodeSecretKey: '44'.repeat(32),
  amountMsats: 100_000,
  description: 'job',
  paymentHash: paymentHashOf(PREIMAGE),
  expirySeconds: 60,
  timestamp: T0,
});

test('a proven payment weighs more; a claimed payment that never happened counts as unpaid, and says so', () => {
  const unpaid = score([positive(SEED, 1)]);
  const proven = score([positive(SEED, 1, { payment: { invoice: INVOICE, preimage: PREIMAGE } })]);
  const claimed = [positive(SEED, 1, { payment: { invoice: INVOICE, preimage: 'aa'.repeat(32) } })];
  assert.ok(proven > unpaid, `${proven} ${unpaid}`);
  assert.equal(score(claimed), unpaid);
  const e = computeReputation(claimed, [SEED], T0).score(X).explanation;
  assert.ok(e.counted[0]?.notes[0]?.startsWith('payment claimed but not proven'), `${e.counted[0]?.notes}`);
  // One payment proves one label: shown again on a second label (even about another agent), it counts unpaid.
  const twice = [
    positive(SEED, 1, { payment: { invoice: INVOICE, preimage: PREIMAGE }, createdAt: T0 - 10 }),
    positive(SEED, 2, { payment: { invoice: INVOICE, preimage: PREIMAGE } }),
  ];
  const rep = computeReputation(twice, [SEED], T0);
  const notes = rep.score(X).explanation.counted.map((c) => c.notes.join('; '));
  assert.equal(notes.filter((n) => n.includes('(proven)')).length, 1);
  assert.equal(notes.filter((n) => n.includes('already proves label')).length, 1);
  // One large payment cannot carry the score: the factor is capped at paidCap (3).
  const big = mintInvoice({
    nodeSecretKey: '44'.repeat(32),
    amountMsats: 1_000_000_000,
    description: 'big',
    paymentHash: paymentHashOf(PREIMAGE),
    expirySeconds: 60,
    timestamp: T0,
  });
  const whale = score([positive(SEED, 1, { payment: { invoice: big, preimage: PREIMAGE } })]);
  assert.ok(whale < 80, `${whale}`);
});

test('complaints count only from raters with standing', () => {
  const fromStranger = score([positive(keyFor('angry'), 1, { type: 'dispute' })]);
  assert.equal(fromStranger, 50);
  assert.ok(score([positive(SEED, 1, { type: 'dispute' })]) < 40);
});

test('revocation: a deletion by the label author removes it; a deletion by anyone else does not', () => {
  const l = positive(SEED, 1);
  const byAuthor = unsigned(SEED, buildRevocation([l.id], T0 + 5));
  const byOther = unsigned(keyFor('other'), buildRevocation([l.id], T0 + 5));
  assert.ok(score([l]) > 60);
  assert.equal(score([l, byAuthor]), 50);
  assert.equal(score([byAuthor, l]), 50);
  assert.equal(score([l, byOther]), score([l]));
  const e = computeReputation([l, byAuthor], [SEED], T0).score(X).explanation;
  assert.equal(e.ignored[0]?.reason, 'revoked');
});

test('the latest label of a rater about a job replaces its earlier ones; future-dated labels wait', () => {
  const first = positive(SEED, 1, { type: 'warning', createdAt: T0 - 100 });
  const second = positive(SEED, 1, { type: 'service-quality', createdAt: T0 - 50 });
  assert.equal(score([first, second]), score([second]));
  const future = positive(SEED, 2, { createdAt: T0 + DAY });
  assert.equal(score([future]), 50);
  assert.ok(score([future], T0 + DAY) > 60);
});

test('scores are per job kind: labels for one kind do not move another', () => {
  const events = [
    positive(SEED, 1, { jobKind: 5001 }),
    positive(SEED, 2, { jobKind: 5002, type: 'dispute' }),
  ];
  const rep = computeReputation(events, [SEED], T0);
  assert.ok(rep.score(X, 5001).score > 60);
  assert.ok(rep.score(X, 5002).score < 40);
  assert.equal(rep.score(X, 5050).score, 50);
  const overall = rep.score(X).score;
  assert.ok(overall < rep.score(X, 5001).score && overall > rep.score(X, 5002).score);
});
