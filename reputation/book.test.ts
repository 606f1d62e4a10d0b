import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import type { NostrEvent } from '../core/nostr.ts';
import {
  DAY,
  idFor,
  keyFor,
  label,
  signerFor,
  signLabel,
  signRevocation,
  T0,
} from '../tests/reputation/keys.ts';
import { V, VECTOR_NOW, vectorEvents } from '../tests/reputation/vectors.ts';
import { ReputationBook } from './book.ts';
import { MAX_LABELS_PER_PAIR } from './label-index.ts';
import { computeReputation } from './score.ts';

const owner = signerFor('book-owner');
const worker = signerFor('book-worker');
const customer = signerFor('book-customer');

function book(clock = new ManualClock(T0 * 1000), seeds = [owner.pubkey]): ReputationBook {
  return new ReputationBook({ seeds, clock });
}

test('fed one event at a time, the book scores as the pure function does', () => {
  const events = vectorEvents();
  const b = new ReputationBook({
    seeds: [V.owner, V.desk],
    clock: new ManualClock(VECTOR_NOW * 1000),
    verify: null,
    scoreStepSeconds: 1,
  });
  for (const e of events) b.add(e);
  const pure = computeReputation(events, [V.owner, V.desk], VECTOR_NOW);
  for (const k of Object.values(V)) {
    assert.ok(
      Math.abs(b.score(k).score - pure.score(k).score) <= 0.01,
      `${b.score(k).score} ${pure.score(k).score}`,
    );
    for (const kind of pure.kindsOf(k)) {
      assert.ok(Math.abs(b.score(k, kind).score - pure.score(k, kind).score) <= 0.01);
    }
    assert.ok(Math.abs(b.trust(k) - pure.trust.trust(k)) < 1e-3);
  }
  // After a refresh from scratch the ranks are the pure function's, to the tolerance.
  b.refresh();
  for (const k of Object.values(V)) assert.equal(b.score(k).score, pure.score(k).score);
});

test('labels are verified: a forged or altered event is ignored with the reason', async () => {
  const b = book();
  const good = await signLabel(customer, { subject: worker.pubkey, type: 'service-quality' });
  const altered: NostrEvent = {
    ...good,
    tags: good.tags.map((t) => (t[0] === 'l' ? ['l', 'dispute', 'ai.wot'] : t)),
  };
  const result = b.add(altered);
  assert.equal(result.status, 'ignored');
  assert.ok(result.status === 'ignored' && /id does not match|bad signature/.test(result.reason));
  assert.equal(b.add(good).status, 'added');
  assert.equal(b.add(good).status, 'duplicate');
  assert.equal(b.add({ ...good, kind: 1 }).status, 'ignored');
});

test('a rejected label is answered with its reason and shows in the agent explanation', async () => {
  const b = book();
  const self = await signLabel(worker, { subject: worker.pubkey, type: 'service-quality' });
  const r = b.add(self);
  assert.equal(r.status, 'rejected');
  assert.ok(r.status === 'rejected' && r.rejection.code === 'self-label');
  assert.deepEqual(b.score(worker.pubkey).explanation.ignoredByReason, { 'self-label': 1 });
  assert.equal(b.score(worker.pubkey).score, 50);
});

test('revocation: by the author (before or after its label arrives) it removes the label; by another key not', async () => {
  const b = book();
  const l1 = await signLabel(owner, { subject: worker.pubkey, type: 'work-completed', request: idFor(1) });
  const l2 = await signLabel(owner, { subject: worker.pubkey, type: 'work-completed', request: idFor(2) });
  b.add(l1);
  const one = b.score(worker.pubkey).score;
  assert.ok(one > 60);
  const other = b.add(await signRevocation(customer, [l1.id]));
  assert.deepEqual(other, { status: 'revocation', revoked: [], notAuthor: [l1.id] });
  assert.equal(b.score(worker.pubkey).score, one);
  const mine = b.add(await signRevocation(owner, [l1.id]));
  assert.deepEqual(mine, { status: 'revocation', revoked: [l1.id], notAuthor: [] });
  assert.equal(b.score(worker.pubkey).score, 50);
  assert.equal(b.score(worker.pubkey).explanation.ignored[0]?.reason, 'revoked');
  // Deleted before it arrives: it never counts.
  b.add(await signRevocation(owner, [l2.id]));
  assert.equal(b.add(l2).status, 'revoked');
  assert.equal(b.score(worker.pubkey).score, 50);
});

test('lookups come from the cache until a label, a new ranking or the time step changes them', async () => {
  const clock = new ManualClock(T0 * 1000);
  const b = book(clock);
  await addSigned(b, owner, 1);
  const first = b.score(worker.pubkey);
  assert.equal(b.score(worker.pubkey), first, 'the same object: a map read');
  await addSigned(b, owner, 2);
  const second = b.score(worker.pubkey);
  assert.notEqual(second, first);
  assert.ok(second.score > first.score);
  clock.advance(30_000); // within the 60 s step
  assert.equal(b.score(worker.pubkey), second);
  clock.advance(40 * DAY * 1000);
  const later = b.score(worker.pubkey);
  assert.ok(later.score < second.score, 'decayed');
  assert.equal(later.explanation.at % 60, 0);
});

async function addSigned(
  b: ReputationBook,
  from: typeof owner,
  n: number,
  subject = worker.pubkey,
): Promise<void> {
  const r = b.add(await signLabel(from, { subject, type: 'work-completed', request: idFor(`job-${n}`) }));
  assert.equal(r.status, 'added');
}

test("a stranger's labels never move the ranks; a trusted rater's do", async () => {
  const b = book();
  await addSigned(b, owner, 1, customer.pubkey); // the owner vouches for the customer
  const ranks = () => [owner, worker, customer].map((s) => b.rank(s.pubkey));
  const before = ranks();
  const stranger = signerFor('book-stranger');
  for (let n = 0; n < 20; n++) await addSigned(b, stranger, 100 + n);
  assert.deepEqual(ranks(), before);
  assert.equal(b.trust(stranger.pubkey), 0);
  await addSigned(b, customer, 200);
  assert.ok(b.rank(worker.pubkey) > (before[1] as number));
  assert.ok(b.trust(worker.pubkey) > 0);
});

test(`a flood from one key about one agent keeps its ${MAX_LABELS_PER_PAIR} latest labels and says so`, () => {
  const b = new ReputationBook({ seeds: [keyFor('s')], clock: new ManualClock(T0 * 1000), verify: null });
  const flooder = keyFor('flooder');
  const results = Array.from({ length: 150 }, (_, i) =>
    b.add(
      label(flooder, { subject: keyFor('x'), type: 'service-quality', request: idFor(i), createdAt: T0 - i }),
    ),
  );
  assert.equal(results.filter((r) => r.status === 'added').length, MAX_LABELS_PER_PAIR);
  assert.equal(results.filter((r) => r.status === 'overflow').length, 50);
  const e = b.score(keyFor('x')).explanation;
  assert.equal(e.ignoredByReason['flood-overflow'], 50);
  assert.equal(e.countedTotal, MAX_LABELS_PER_PAIR);
  assert.equal(b.stats().labels, MAX_LABELS_PER_PAIR);
});

test('the ranks are recomputed (decay) after trustRefreshSeconds, on the next lookup or by refresh()', async () => {
  const clock = new ManualClock(T0 * 1000);
  const b = new ReputationBook({ seeds: [owner.pubkey], clock, trustRefreshSeconds: 3600 });
  await addSigned(b, owner, 1);
  const rankedAt = b.stats().rankedAt;
  clock.advance(1800_000);
  b.score(worker.pubkey);
  assert.equal(b.stats().rankedAt, rankedAt);
  clock.advance(1800_000);
  b.score(worker.pubkey);
  assert.equal(b.stats().rankedAt, rankedAt + 3600);
  clock.advance(60_000);
  b.refresh();
  assert.equal(b.stats().rankedAt, rankedAt + 3660);
  assert.ok(b.stats().converged);
});

test('scores() gives the overall score and one per job kind', async () => {
  const b = book();
  for (const [n, kind] of [
    [1, 5001],
    [2, 5002],
  ] as const) {
    b.add(
      await signLabel(owner, {
        subject: worker.pubkey,
        type: 'work-completed',
        jobKind: kind,
        request: idFor(n),
      }),
    );
  }
  const { overall, kinds } = b.scores(worker.pubkey);
  assert.equal(overall.jobKind, undefined);
  assert.deepEqual(
    kinds.map((k) => k.jobKind),
    [5001, 5002],
  );
  assert.deepEqual(b.subjects(), [worker.pubkey]);
});

test('a key rating 20,000 agents, one label at a time: each add stays cheap, each agent hears next to nothing', () => {
  const b = new ReputationBook({ seeds: [keyFor('s')], clock: new ManualClock(T0 * 1000), verify: null });
  const flooder = keyFor('wide-flooder');
  const agents = Array.from({ length: 20_000 }, (_, i) => keyFor(`wide-${i}`));
  b.score(agents[0] as string); // a cached score, dropped again and again
  for (const [i, a] of agents.entries()) {
    assert.equal(
      b.add(label(flooder, { subject: a, type: 'service-quality', request: idFor(`w-${i}`) })).status,
      'added',
    );
  }
  assert.ok(b.score(agents[0] as string).score < 50.01);
  assert.equal(b.stats().labels, 20_000);
});

test('one payment shown by a thousand labels proves one of them', async () => {
  const { mintInvoice, paymentHashOf } = await import('../payments/bolt11.ts');
  const preimage = '12'.repeat(32);
  const invoice = mintInvoice({
    nodeSecretKey: '55'.repeat(32),
    amountMsats: 50_000,
    description: 'once',
    paymentHash: paymentHashOf(preimage),
    expirySeconds: 60,
    timestamp: T0,
  });
  const seed = keyFor('paying-seed');
  const b = new ReputationBook({ seeds: [seed], clock: new ManualClock(T0 * 1000), verify: null });
  const events = Array.from({ length: 1000 }, (_, i) =>
    label(seed, {
      subject: keyFor(`paid-${i % 10}`),
      type: 'work-completed',
      request: idFor(`paid-${i}`),
      createdAt: T0 - i,
      payment: { invoice, preimage },
    }),
  );
  b.addAll(events);
  let proven = 0;
  for (let s = 0; s < 10; s++) {
    for (const c of b.score(keyFor(`paid-${s}`)).explanation.counted) if (c.payment > 1) proven++;
  }
  assert.equal(proven, 1);
  // The earliest label holds the proof (created_at, then id).
  const earliest = events[999] as NostrEvent;
  const holder = b.score(keyFor('paid-9')).explanation.counted.find((c) => c.payment > 1);
  assert.equal(holder?.id, earliest.id);
});
