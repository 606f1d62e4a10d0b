/**
 * The Tracing contract (core/tracing.ts): a job's trace and root span named by its request id, a received
 * `traceparent` continued, spans in the past, errors, and the tag helpers. tests/contracts/tracing.test.ts runs
 * it against the OpenTelemetry implementation and the recording fake.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TRACE_TAG, type Tracing, traceparentOf, withTraceTag } from '../../core/tracing.ts';

export interface FinishedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  error: string | undefined;
  startMs: number;
  endMs: number;
}

export type MakeTracing = () => { tracing: Tracing; finished(): FinishedSpan[] };

const REQUEST = 'c3'.repeat(16) + '5e'.repeat(8) + '77'.repeat(8);
const CUSTOMER = `00-${'1f'.repeat(16)}-${'2e'.repeat(8)}-01`;

export function tracingContract(name: string, make: MakeTracing): void {
  describe(`Tracing contract: ${name}`, () => {
    test('a job root takes its trace id and span id from the request id', () => {
      const { tracing, finished } = make();
      tracing.jobRoot(REQUEST).end();
      const [root] = finished();
      assert.equal(root?.traceId, REQUEST.slice(0, 32));
      assert.equal(root?.spanId, REQUEST.slice(32, 48));
      assert.equal(root?.parentSpanId, undefined);
    });

    test("a span of the job made elsewhere hangs under the job's root", () => {
      const { tracing, finished } = make();
      const span = tracing.start('agent.execute', { parent: { job: REQUEST } });
      const child = tracing.start('llm.complete', { parent: { span } });
      child.end();
      span.end();
      const [c, s] = finished();
      assert.equal(s?.parentSpanId, REQUEST.slice(32, 48));
      assert.equal(c?.parentSpanId, s?.spanId);
      assert.equal(c?.traceId, REQUEST.slice(0, 32));
    });

    test("a customer's traceparent wins over the job's ids, and travels in a tag", () => {
      const { tracing, finished } = make();
      const root = tracing.jobRoot(REQUEST, { parent: { traceparent: CUSTOMER } });
      const tags = withTraceTag([['e', REQUEST]], root);
      const downstream = tracing.start('agent.bid', {
        parent: { traceparent: traceparentOf({ tags }), job: REQUEST },
      });
      downstream.end();
      root.end();
      const [d, r] = finished();
      assert.equal(r?.traceId, '1f'.repeat(16));
      assert.equal(r?.parentSpanId, '2e'.repeat(8));
      assert.equal(d?.traceId, '1f'.repeat(16));
      assert.equal(d?.parentSpanId, r?.spanId);
      assert.equal(tags.filter((t) => t[0] === TRACE_TAG).length, 1);
    });

    test('a malformed traceparent is ignored', () => {
      const { tracing, finished } = make();
      tracing.start('x', { parent: { traceparent: 'nonsense', job: REQUEST } }).end();
      assert.equal(finished()[0]?.traceId, REQUEST.slice(0, 32));
    });

    test('a span recorded after the fact keeps its times; an error ends it with the message', () => {
      const { tracing, finished } = make();
      const s = tracing.start('desk.auction', { parent: { job: REQUEST }, startMs: 1_700_000_000_000 });
      s.end(new Error('no bids'), 1_700_000_002_000);
      s.end(undefined, 1_800_000_000_000);
      const [f] = finished();
      assert.equal(f?.startMs, 1_700_000_000_000);
      assert.equal(f?.endMs, 1_700_000_002_000);
      assert.equal(f?.error, 'no bids');
      assert.equal(finished().length, 1, 'ended once');
    });

    test('log fields name the trace and the span', () => {
      const { tracing } = make();
      const s = tracing.start('x', { parent: { job: REQUEST } });
      assert.equal(s.logFields.trace_id, REQUEST.slice(0, 32));
      assert.match(s.logFields.span_id ?? '', /^[0-9a-f]{16}$/);
      assert.equal(s.traceparent, `00-${REQUEST.slice(0, 32)}-${s.logFields.span_id}-01`);
      s.end();
    });
  });
}
