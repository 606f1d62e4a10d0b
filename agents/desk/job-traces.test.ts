import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { RecordingTracing } from '../../core/recording-tracing.ts';
import { noTracing, TRACE_TAG } from '../../core/tracing.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { JobTraces } from './job-traces.ts';

const hex = (n: number, width = 64): string => n.toString(16).padStart(width, '1');
const event = (kind: number, n: number, tags: string[][] = []): NostrEvent => ({
  id: hex(n),
  pubkey: hex(0xc0ffee),
  created_at: 1_700_000_000,
  kind,
  tags,
  content: '',
  sig: hex(5, 128),
});
const AGENT = hex(0xa);

function setup() {
  const clock = new ManualClock(1_700_000_000_000);
  const log = JobLog.open({ path: ':memory:', clock, groupCommit: false }); // told at each append, not at the turn's end
  const tracing = new RecordingTracing(() => clock.now());
  const traces = new JobTraces({ tracing, log, personaOf: (p) => (p === AGENT ? 'quill' : 'peer') });
  traces.start();
  return { clock, log, tracing, traces };
}

test("the job's states become spans under its root, timed by the log; the root ends with the outcome", () => {
  const { clock, log, tracing } = setup();
  const request = event(5050, 1);
  log.append(request.id, { type: 'posted', request });
  clock.advance(10);
  log.append(request.id, { type: 'bidding', until: 1_700_000_002 });
  clock.advance(1500);
  log.append(request.id, { type: 'payment-required', amountMsats: 5500, bolt11: 'lnbc1x' });
  clock.advance(200);
  log.append(request.id, { type: 'paid', preimage: 'ab' });
  clock.advance(5);
  log.append(request.id, { type: 'assigned', agent: AGENT, attempt: 1 });
  clock.advance(20);
  log.append(request.id, { type: 'started', agent: AGENT });
  clock.advance(300);
  log.append(request.id, { type: 'completed', agent: AGENT, result: event(6050, 2) });

  const [root] = tracing.named('job');
  assert.equal(root?.traceId, request.id.slice(0, 32));
  assert.equal(root?.spanId, request.id.slice(32, 48));
  assert.equal(root?.startMs, 1_700_000_000_000);
  assert.equal(root?.endMs, 1_700_000_002_035);
  assert.equal(root?.attributes['timmy.job.outcome'], 'completed');
  assert.equal(root?.attributes['timmy.agent'], 'quill');
  const phases = tracing.ended.filter((s) => s.name !== 'job');
  assert.deepEqual(
    phases.map((s) => [s.name, (s.endMs ?? 0) - s.startMs]),
    [
      ['desk.intake', 10],
      ['desk.auction', 1500],
      ['desk.payment', 200],
      ['desk.after-payment', 5],
      ['desk.assigned', 20],
      ['desk.execution', 300],
    ],
  );
  for (const p of phases) assert.equal(p.parentSpanId, root?.spanId);
  assert.equal(phases[2]?.attributes['timmy.payment.sats'], 5);
  assert.equal(phases[5]?.attributes['timmy.agent'], 'quill');
});

test('a failed job ends its root with the reason', () => {
  const { log, tracing } = setup();
  const request = event(5050, 3);
  log.append(request.id, { type: 'posted', request });
  log.append(request.id, { type: 'failed', reason: 'no agent serves kind 5050' });
  assert.equal(tracing.named('job')[0]?.error, 'no agent serves kind 5050');
  assert.equal(tracing.named('desk.intake')[0]?.error, 'no agent serves kind 5050');
});

test("the desk's job events carry the root as a traceparent tag; labels and unknown jobs do not", () => {
  const { log, traces } = setup();
  const customer = `00-${'1f'.repeat(16)}-${'2e'.repeat(8)}-01`;
  const request = event(5050, 4, [[TRACE_TAG, customer]]);
  log.append(request.id, { type: 'posted', request });
  const tagged = traces.decorate(request.id, {
    kind: 7600,
    created_at: 1,
    tags: [['e', request.id]],
    content: '',
  });
  assert.deepEqual(tagged.tags.at(-1), [TRACE_TAG, `00-${'1f'.repeat(16)}-${request.id.slice(32, 48)}-01`]);
  const label = { kind: 1985, created_at: 1, tags: [['e', request.id]], content: '' };
  assert.equal(traces.decorate(request.id, label), label);
  const other = { kind: 7600, created_at: 1, tags: [], content: '' };
  assert.equal(traces.decorate(hex(99), other), other);
});

test("a job forwarded here continues the forwarding desk's span", () => {
  const { log, tracing, traces } = setup();
  const request = event(5050, 5);
  const from = `00-${request.id.slice(0, 32)}-${'3c'.repeat(8)}-01`;
  log.transaction(() => {
    log.append(request.id, { type: 'posted', request });
    log.append(request.id, {
      type: 'effect',
      key: 'forwarded-from',
      value: { from: hex(7), hops: 1, path: [hex(7)], relays: [], traceparent: from },
    });
  });
  traces.decorate(request.id, { kind: 7000, created_at: 1, tags: [], content: '' });
  log.append(request.id, { type: 'cancelled', reason: 'test' });
  const [root] = tracing.named('job');
  assert.equal(root?.traceId, request.id.slice(0, 32));
  assert.equal(root?.parentSpanId, '3c'.repeat(8));
  assert.notEqual(root?.spanId, request.id.slice(32, 48), 'not the origin desk root span id');
});

test('tracing off: nothing is followed, nothing is tagged', () => {
  const clock = new ManualClock();
  const log = JobLog.open({ path: ':memory:', clock, groupCommit: false }); // told at each append, not at the turn's end
  const traces = new JobTraces({ tracing: noTracing, log, personaOf: () => 'x' });
  traces.start();
  const request = event(5050, 6);
  log.append(request.id, { type: 'posted', request });
  const t = { kind: 7600, created_at: 1, tags: [], content: '' };
  assert.equal(traces.decorate(request.id, t), t);
});
