import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { silentLogger } from '../core/logger.ts';
import { noTracing, TRACE_TAG, traceparentOf, withTraceTag } from '../core/tracing.ts';
import { jobIds, OtelTracing, tracingFromConfig } from './tracing.ts';

const REQUEST = 'ab'.repeat(32);

function tracing(sampleRatio = 1) {
  const exporter = new InMemorySpanExporter();
  const t = new OtelTracing({
    serviceName: 'test',
    exporter,
    processor: 'simple',
    sampleRatio,
    logger: silentLogger,
  });
  return { t, exporter };
}

describe('OtelTracing', () => {
  it("names a job's trace and root span from its request id", () => {
    const { t, exporter } = tracing();
    const root = t.jobRoot(REQUEST, { attributes: { 'timmy.job.kind': 5001 } });
    root.end();
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.spanContext().traceId, REQUEST.slice(0, 32));
    assert.equal(span?.spanContext().spanId, REQUEST.slice(32, 48));
    assert.equal(span?.parentSpanContext, undefined);
    assert.equal(root.traceparent, `00-${REQUEST.slice(0, 32)}-${REQUEST.slice(32, 48)}-01`);
    assert.deepEqual(root.logFields, { trace_id: REQUEST.slice(0, 32), span_id: REQUEST.slice(32, 48) });
  });

  it("hangs a span under the job's root by the request id alone (another process)", () => {
    const { t, exporter } = tracing();
    t.start('agent.execute', { parent: { job: REQUEST } }).end();
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.spanContext().traceId, REQUEST.slice(0, 32));
    assert.equal(span?.parentSpanContext?.spanId, REQUEST.slice(32, 48));
    assert.notEqual(span?.spanContext().spanId, REQUEST.slice(32, 48));
  });

  it("continues a received traceparent, before the job's own ids", () => {
    const { t, exporter } = tracing();
    const customer = `00-${'12'.repeat(16)}-${'34'.repeat(8)}-01`;
    const root = t.jobRoot(REQUEST, { parent: { traceparent: customer } });
    t.start('relay.ingest', { parent: { traceparent: customer, job: REQUEST } }).end();
    const child = t.start('auction', { parent: { span: root } });
    child.end(new Error('no bids'));
    root.end();
    const spans = exporter.getFinishedSpans();
    assert.ok(spans.every((s) => s.spanContext().traceId === '12'.repeat(16)));
    const rootSpan = spans.find((s) => s.name === 'job');
    assert.equal(rootSpan?.parentSpanContext?.spanId, '34'.repeat(8));
    assert.equal(rootSpan?.spanContext().spanId, REQUEST.slice(32, 48));
    const auction = spans.find((s) => s.name === 'auction');
    assert.equal(auction?.parentSpanContext?.spanId, REQUEST.slice(32, 48));
    assert.equal(auction?.status.message, 'no bids');
  });

  it('ignores a malformed traceparent and falls back to the job', () => {
    const { t, exporter } = tracing();
    for (const bad of [
      '',
      'garbage',
      `00-${'0'.repeat(32)}-${'34'.repeat(8)}-01`,
      `00-${'12'.repeat(16)}-x-01`,
    ])
      t.start('s', { parent: { traceparent: bad, job: REQUEST } }).end();
    for (const s of exporter.getFinishedSpans()) assert.equal(s.spanContext().traceId, REQUEST.slice(0, 32));
  });

  it('records spans after the fact with their own start and end', () => {
    const { t, exporter } = tracing();
    t.start('desk.auction', { parent: { job: REQUEST }, startMs: 1_700_000_000_000 }).end(
      undefined,
      1_700_000_001_500,
    );
    const [span] = exporter.getFinishedSpans();
    assert.deepEqual(span?.startTime, [1_700_000_000, 0]);
    assert.deepEqual(span?.duration, [1, 500_000_000]);
  });

  it('records nothing at a sample ratio of 0: no span, no tag, no log field', () => {
    const { t, exporter } = tracing(0);
    const root = t.jobRoot(REQUEST);
    const child = t.start('x', { parent: { job: REQUEST } });
    root.end();
    child.end();
    assert.equal(exporter.getFinishedSpans().length, 0);
    assert.equal(root.traceparent, undefined);
    assert.deepEqual(withTraceTag([['e', REQUEST]], child), [['e', REQUEST]]);
    assert.deepEqual(child.logFields, {});
  });

  it('exports OTLP over HTTP to a collector', async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const t = tracingFromConfig(
        {
          enabled: true,
          otlpEndpoint: `http://127.0.0.1:${port}/v1/traces`,
          serviceName: 'timmy-test',
          sampleRatio: 1,
        },
        silentLogger,
      );
      t.jobRoot(REQUEST).end();
      await t.close();
      assert.equal(bodies.length, 1);
      const sent = bodies[0] ?? '';
      assert.ok(sent.includes('timmy-test'), 'the service name is sent');
      assert.ok(sent.length > 0);
    } finally {
      server.close();
    }
  });

  it('is noTracing when off', () => {
    const t = tracingFromConfig(
      { enabled: false, otlpEndpoint: '', serviceName: 'timmy', sampleRatio: 1 },
      silentLogger,
    );
    assert.equal(t.enabled, false);
    assert.equal(t.jobRoot(REQUEST).traceparent, undefined);
  });
});

describe('trace tags', () => {
  it('reads and writes the traceparent tag', () => {
    const { t } = tracing();
    const span = t.jobRoot(REQUEST);
    const tags = withTraceTag(
      [
        ['e', REQUEST],
        [TRACE_TAG, 'old'],
      ],
      span,
    );
    assert.equal(tags.filter((x) => x[0] === TRACE_TAG).length, 1);
    assert.equal(traceparentOf({ tags }), span.traceparent);
    assert.equal(withTraceTag([['e', REQUEST]], noTracing.start('x')).length, 1);
  });

  it('derives ids only from a well-formed request id', () => {
    assert.deepEqual(jobIds(REQUEST), { traceId: REQUEST.slice(0, 32), spanId: REQUEST.slice(32, 48) });
    assert.equal(jobIds('xyz'), undefined);
    assert.equal(jobIds('0'.repeat(64)), undefined);
  });
});
