import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { until } from '../../testkit/raw-client.ts';
import { FAST_KEYS, runTimmy, startTimmy, tempDataDir } from '../cli/harness.ts';

/** One span as the OTLP/HTTP JSON encoding carries it (ids in hex). */
interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

interface OtlpBody {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

/**
 * `npm start` with tracing on, as a user turns it on (TIMMY_TRACING_*), exporting to an OTLP/HTTP collector
 * on loopback: a job submitted with `timmy job submit` arrives there as one trace named by its request id.
 */
test('timmy start exports a paid job as one OTLP trace to the configured collector', async () => {
  const spans: OtlpSpan[] = [];
  const services = new Set<string>();
  const collector = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      try {
        const parsed = JSON.parse(body) as OtlpBody;
        for (const rs of parsed.resourceSpans ?? []) {
          for (const a of rs.resource?.attributes ?? [])
            if (a.key === 'service.name' && a.value.stringValue) services.add(a.value.stringValue);
          for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const { port } = collector.address() as AddressInfo;
  const dataDir = await tempDataDir();
  const env = {
    ...FAST_KEYS,
    TIMMY_DATA_DIR: dataDir,
    TIMMY_RELAY_PORT: '0',
    TIMMY_HTTP_PORT: '0',
    TIMMY_TRACING_ENABLED: 'true',
    TIMMY_TRACING_OTLP_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
    TIMMY_TRACING_SERVICE_NAME: 'timmy-under-test',
  };
  const { run } = await startTimmy(env);
  try {
    const submitted = await runTimmy(['job', 'submit', '--kind', '5700', '--json', 'trace me'], env);
    assert.equal(submitted.code, 0, submitted.stderr);
    const out = JSON.parse(submitted.stdout) as { request: string; result: { content: string } };
    assert.equal(out.result.content, 'trace me');
    const traceId = out.request.slice(0, 32);
    // Spans go in batches (every 5 s); stopping the instance flushes the rest.
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 0, run.stderr());
    await until(() => spans.some((s) => s.traceId === traceId && s.name === 'job'), 30_000, 'the job span');
    const trace = spans.filter((s) => s.traceId === traceId);
    const names = new Set(trace.map((s) => s.name));
    for (const name of ['relay.ingest', 'job', 'desk.payment', 'agent.execute', 'agent.result'])
      assert.ok(names.has(name), `${name} (got ${[...names].join(', ')})`);
    const root = trace.find((s) => s.name === 'job');
    assert.equal(root?.spanId, out.request.slice(32, 48));
    const ids = new Set(trace.map((s) => s.spanId));
    for (const s of trace)
      if (s !== root) assert.ok(ids.has(s.parentSpanId ?? ''), `${s.name} hangs under a span of the trace`);
    assert.ok(services.has('timmy-under-test'));
    // The agent's JSON log line about the job carries the trace and its span (stderr is not a terminal).
    const lines = run
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const done = lines.find((l) => l.event === 'job_done_result_published' && l.job === out.request);
    assert.equal(done?.trace_id, traceId);
    assert.ok(ids.has(String(done?.span_id)), "the line's span is in the trace");
    assert.ok(lines.every((l) => typeof l.event === 'string' && typeof l.module === 'string'));
  } finally {
    if (run.child.exitCode === null) {
      run.child.kill('SIGINT');
      await run.exited;
    }
    collector.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
