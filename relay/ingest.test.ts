import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { ManualClock } from '../core/clock.ts';
import type { EventStore, SaveOutcome } from '../core/event-store.ts';
import { MemoryLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { RecordingTracing } from '../core/recording-tracing.ts';
import { Ingest, type IngestAnswer } from './ingest.ts';
import { MemoryEventStore } from './memory-store.ts';
import type { Policy } from './policy.ts';
import { type Verifier, VerifyPool } from './verify-pool.ts';

const sk = generateSecretKey();
let serial = 0;
const sign = (kind = 1, tags: string[][] = []): NostrEvent =>
  finalizeEvent({ kind, created_at: Math.floor(Date.now() / 1000), tags, content: `c${serial++}` }, sk);
const from = { authedPubkeys: new Set<string>(), ip: '127.0.0.1', source: 'ws' };

/** A MemoryEventStore that records its save calls and can hold them until released. */
class GatedStore extends MemoryEventStore {
  readonly calls: number[] = [];
  gate: Promise<void> = Promise.resolve();
  failWith: Error | undefined;
  override async save(events: readonly NostrEvent[]): Promise<SaveOutcome[]> {
    this.calls.push(events.length);
    await this.gate;
    if (this.failWith) throw this.failWith;
    return super.save(events);
  }
}

function setup(options: { store?: EventStore; policies?: Policy[] } = {}) {
  const store = options.store ?? new GatedStore();
  const accepted: [string, string][] = [];
  const verifier = new VerifyPool({ workers: 0, logger: new MemoryLogger() });
  const ingest = new Ingest({
    store,
    verifier,
    policies: options.policies ?? [],
    logger: new MemoryLogger(),
    clock: new ManualClock(),
    onAccepted: (e, outcome) => accepted.push([e.id, outcome]),
  });
  return { store, ingest, accepted };
}

test('events submitted together are saved in one call, in order, and answered after it', async () => {
  const { store, ingest, accepted } = setup();
  const gated = store as GatedStore;
  let release!: () => void;
  gated.gate = new Promise((r) => {
    release = r;
  });
  const events = Array.from({ length: 50 }, () => sign());
  const answered: IngestAnswer[] = [];
  const all = Promise.all(events.map((e) => ingest.submit(e, from).then((a) => answered.push(a))));
  while (gated.calls.length === 0) await new Promise((r) => setImmediate(r));
  assert.deepEqual(gated.calls, [50]);
  assert.equal(answered.length, 0, 'no answer before the save resolved');
  assert.ok(ingest.pending > 0);
  release();
  await all;
  assert.ok(answered.every((a) => a.accepted && a.outcome === 'saved' && a.message === ''));
  assert.deepEqual(
    accepted.map(([id]) => id),
    events.map((e) => e.id),
  );
  assert.equal(ingest.pending, 0);
});

test('a deletion submitted right after its target is applied after it', async () => {
  const { store, ingest } = setup();
  const note = sign();
  const deletion = sign(5, [['e', note.id]]);
  const [a, b] = await Promise.all([ingest.submit(note, from), ingest.submit(deletion, from)]);
  assert.equal(a.outcome, 'saved');
  assert.equal(b.outcome, 'saved');
  assert.deepEqual(
    (await store.query([{}])).map((e) => e.id),
    [deletion.id],
  );
});

test('maps store outcomes: duplicate is accepted, a refusal keeps its reason', async () => {
  const { ingest } = setup();
  const note = sign();
  assert.equal((await ingest.submit(note, from)).outcome, 'saved');
  assert.deepEqual(await ingest.submit(note, from), {
    accepted: true,
    message: 'duplicate: already have this event',
    outcome: 'duplicate',
  });
  const deletion = sign(5, [['e', note.id]]);
  await ingest.submit(deletion, from);
  assert.deepEqual(await ingest.submit(note, from), {
    accepted: false,
    message: 'blocked: deleted by author',
    outcome: 'rejected',
  });
});

test('bad ids and signatures are refused before the store', async () => {
  const { store, ingest } = setup();
  const e = sign();
  const badId = await ingest.submit({ ...e, content: 'changed' }, from);
  const badSig = await ingest.submit(
    { ...e, sig: `${e.sig.slice(0, 127)}${e.sig[127] === '0' ? '1' : '0'}` },
    from,
  );
  assert.deepEqual(badId, {
    accepted: false,
    message: 'invalid: event id does not match the event',
    outcome: 'rejected',
  });
  assert.deepEqual(badSig, { accepted: false, message: 'invalid: bad signature', outcome: 'rejected' });
  assert.deepEqual((store as GatedStore).calls, []);
});

test('a failing store answers error: and the next batch still goes through', async () => {
  const { store, ingest } = setup();
  (store as GatedStore).failWith = new Error('disk full');
  assert.deepEqual(await ingest.submit(sign(), from), {
    accepted: false,
    message: 'error: could not save the event',
    outcome: 'rejected',
  });
  (store as GatedStore).failWith = undefined;
  assert.equal((await ingest.submit(sign(), from)).outcome, 'saved');
});

test('ephemeral events are broadcast and never stored', async () => {
  const { store, ingest, accepted } = setup();
  const e = sign(20001);
  assert.deepEqual(await ingest.submit(e, from), { accepted: true, message: '', outcome: 'ephemeral' });
  assert.deepEqual(accepted, [[e.id, 'ephemeral']]);
  assert.deepEqual((store as GatedStore).calls, []);
});

test('the policy chain sees the source, and its decisions are honoured', async () => {
  const seen: unknown[] = [];
  const policies: Policy[] = [
    (input, next) => {
      seen.push({ ip: input.ip, source: input.source, authed: [...input.authedPubkeys] });
      if (input.event.content.endsWith('!reject')) return { action: 'reject', message: 'blocked: no thanks' };
      if (input.event.content.endsWith('!shadow')) return { action: 'shadowReject', message: 'shh' };
      if (input.event.content.endsWith('!throw')) throw new Error('boom');
      return next();
    },
  ];
  const { store, ingest, accepted } = setup({ policies });
  const mk = (suffix: string) =>
    finalizeEvent({ kind: 1, created_at: 1, tags: [], content: `x${serial++}${suffix}` }, sk);
  const who = { authedPubkeys: new Set(['a'.repeat(64)]), ip: '10.0.0.1', source: 'ws' };
  assert.deepEqual(await ingest.submit(mk('!reject'), who), {
    accepted: false,
    message: 'blocked: no thanks',
    outcome: 'rejected',
  });
  assert.deepEqual(await ingest.submit(mk('!shadow'), who), {
    accepted: true,
    message: '',
    outcome: 'shadowed',
  });
  const thrown = await ingest.submit(mk('!throw'), who);
  assert.equal(thrown.accepted, false);
  assert.match(thrown.message, /^error: policy failed: boom/);
  assert.equal((await ingest.submit(mk(''), who)).outcome, 'saved');
  assert.equal(accepted.length, 1);
  assert.equal((await store.query([{}])).length, 1);
  assert.deepEqual(seen[0], { ip: '10.0.0.1', source: 'ws', authed: ['a'.repeat(64)] });
});

test('flush resolves once everything submitted is answered', async () => {
  const { ingest } = setup();
  await ingest.flush();
  const answers: IngestAnswer[] = [];
  for (let i = 0; i < 20; i++) void ingest.submit(sign(), from).then((a) => answers.push(a));
  await ingest.flush();
  assert.equal(answers.length, 20);
});

test('group commit: a decided event waits for one still being verified, so both share one save', async () => {
  const store = new GatedStore();
  const slow = sign();
  const verifier: Verifier = {
    verify: (e) => new Promise((resolve) => setTimeout(() => resolve('ok'), e.id === slow.id ? 5 : 0)),
    close: async () => {},
  };
  const ingest = new Ingest({
    store,
    verifier,
    policies: [],
    logger: new MemoryLogger(),
    clock: new ManualClock(),
    onAccepted: () => {},
  });
  const answers = await Promise.all([ingest.submit(sign(), from), ingest.submit(slow, from)]);
  assert.ok(answers.every((a) => a.outcome === 'saved'));
  assert.deepEqual(store.calls, [2]);
});

test("a job request's ingest is a span of the job's trace, ended with its outcome; other events are not traced", async () => {
  const tracing = new RecordingTracing();
  const ingest = new Ingest({
    store: new MemoryEventStore(),
    verifier: new VerifyPool({ workers: 0, logger: new MemoryLogger() }),
    policies: [],
    logger: new MemoryLogger(),
    clock: new ManualClock(),
    onAccepted: () => {},
    tracing,
  });
  const job = sign(5001, [['i', 'hello', 'text']]);
  const customer = `00-${'1f'.repeat(16)}-${'2e'.repeat(8)}-01`;
  const traced = sign(5002, [['traceparent', customer]]);
  const forged = { ...sign(5001), sig: 'ab'.repeat(64) };
  await Promise.all([
    ingest.submit(job, from),
    ingest.submit(sign(1), from),
    ingest.submit(traced, from),
    ingest.submit(forged, from),
  ]);
  const spans = tracing.named('relay.ingest');
  assert.equal(spans.length, 3);
  const [a, b, c] = [job, traced, forged].map((e) =>
    spans.find((s) => s.attributes['nostr.event_id'] === e.id),
  );
  assert.equal(a?.traceId, job.id.slice(0, 32));
  assert.equal(a?.parentSpanId, job.id.slice(32, 48));
  assert.equal(a?.attributes['timmy.relay.outcome'], 'saved');
  assert.equal(b?.traceId, '1f'.repeat(16));
  assert.equal(b?.parentSpanId, '2e'.repeat(8));
  assert.equal(c?.attributes['timmy.relay.outcome'], 'rejected');
  assert.match(c?.error ?? '', /^invalid:/);
});
