import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { MemoryLogger, silentLogger } from '../../core/logger.ts';
import { TRACE_TAG } from '../../core/tracing.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { OtelTracing } from '../../observability/tracing.ts';
import { MemoryLightning, MemoryWallet } from '../../payments/memory-wallet.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';

/**
 * One paid, auctioned job traced end to end (docs/observability.md, "Traces"): the relay, the desk and two
 * agents share an in-process exporter, and every span of the job lands in one connected trace.
 */

const exporter = new InMemorySpanExporter();
const tracing = new OtelTracing({ serviceName: 'test', exporter, processor: 'simple', logger: silentLogger });
const llm = new ScriptedProvider({ defaultAnswer: 'a traced answer' });
const logger = new MemoryLogger();
const lightning = new MemoryLightning();
const customerWallet = new MemoryWallet({ network: lightning, balanceMsats: 1_000_000 });
let relay: TestRelay;
let net: TestNetwork;
let customer: Customer;

before(async () => {
  relay = await startTestRelay({ tracing });
  net = await startTestNetwork({
    relayUrl: relay.url,
    agents: personas([
      { name: 'quill', serves: [{ kind: 5050, handler: 'text-generation', priceMsats: 3000 }] },
      { name: 'scribe', serves: [{ kind: 5050, handler: 'text-generation', priceMsats: 5000 }] },
    ]),
    providers: [{ provider: llm, timeoutMs: 5000 }],
    auction: { enabled: true, bidWindowMs: 1200, revealGraceMs: 800 },
    payments: {
      wallet: new MemoryWallet({ network: lightning }),
      config: { feePct: 10, minPriceMsats: 1000 },
    },
    tracing,
    logger,
  });
  customer = new Customer(relay.url, customerWallet);
  await until(
    () => ['quill', 'scribe'].every((n) => net.network.isAlive(net.pubkeyOf(n))),
    30_000,
    'both agents alive',
  );
});

after(async () => {
  customer.close();
  await net.stop();
  await relay.close();
  await removeDir(net.dataDir);
  await tracing.close();
});

function hex(s: ReadableSpan): { trace: string; id: string; parent: string | undefined } {
  return { trace: s.spanContext().traceId, id: s.spanContext().spanId, parent: s.parentSpanContext?.spanId };
}

test('a paid, auctioned job is one connected trace: relay ingest, auction, bids of both agents, payment, execution, the model call, the result', async () => {
  const out = await customer.submit(
    buildJobRequest({ kind: 5050, inputs: [{ data: 'write a haiku', type: 'text' }], bidMsats: 20_000 }),
    30_000,
  );
  assert.equal(out.error, undefined, out.error);
  assert.equal(out.result?.content, 'a traced answer');
  const id = out.request.id;
  const traceId = id.slice(0, 32);
  await until(() => exporter.getFinishedSpans().some((s) => s.name === 'job'), 15_000, 'the root span ended');

  const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const names = spans.map((s) => s.name);
  for (const step of [
    'relay.ingest',
    'job',
    'desk.intake',
    'desk.auction',
    'agent.bid',
    'desk.payment',
    'desk.after-payment',
    'desk.assigned',
    'agent.execute',
    'llm.complete',
    'agent.result',
    'desk.execution',
  ])
    assert.ok(names.includes(step), `a ${step} span (spans: ${names.join(', ')})`);

  // One root, named by the request id; every other span hangs under a span of the same trace.
  const root = spans.find((s) => s.name === 'job');
  assert.ok(root);
  assert.equal(hex(root).id, id.slice(32, 48));
  assert.equal(hex(root).parent, undefined);
  const ids = new Set(spans.map((s) => hex(s).id));
  for (const s of spans)
    if (s !== root) assert.ok(ids.has(hex(s).parent ?? ''), `${s.name} hangs under a span of the trace`);

  // Both agents bid, under the desk's root (the auction's traceparent tag); the winner executed.
  assert.equal(names.filter((n) => n === 'desk.auction').length, 1, 'one auction');
  const bids = spans.filter((s) => s.name === 'agent.bid');
  assert.deepEqual(bids.map((s) => s.attributes['timmy.agent']).sort(), ['quill', 'scribe']);
  for (const b of bids) assert.equal(hex(b).parent, hex(root).id);
  const execute = spans.find((s) => s.name === 'agent.execute');
  assert.equal(execute?.attributes['timmy.agent'], 'quill');
  assert.equal(hex(execute as ReadableSpan).parent, hex(root).id);
  const model = spans.find((s) => s.name === 'llm.complete');
  assert.equal(hex(model as ReadableSpan).parent, hex(execute as ReadableSpan).id);
  assert.equal(model?.attributes['gen_ai.system'], 'scripted');
  assert.equal(root.attributes['timmy.job.outcome'], 'completed');
  assert.equal(root.attributes['timmy.agent'], 'quill');
  const payment = spans.find((s) => s.name === 'desk.payment');
  const asked = out.feedback
    .find((e) => e.tags.some((t) => t[0] === 'status' && t[1] === 'payment-required'))
    ?.tags.find((t) => t[0] === 'amount')?.[1];
  assert.equal(payment?.attributes['timmy.payment.sats'], Math.floor(Number(asked) / 1000));

  // The desk's events for the job carry its root as a traceparent tag; its labels do not.
  const assignment = await customer.client.query([{ kinds: [7600], '#e': [id] }]);
  assert.equal(
    assignment[0]?.tags.find((t) => t[0] === TRACE_TAG)?.[1],
    `00-${traceId}-${id.slice(32, 48)}-01`,
  );
  const labels = await customer.client.query([{ kinds: [1985], '#e': [id] }]);
  for (const l of labels) assert.ok(!l.tags.some((t) => t[0] === TRACE_TAG));

  // The agent's log lines about the job carry its trace and span.
  const done = logger.records.find((r) => r.msg === 'job done, result published' && r.fields.job === id);
  assert.equal(done?.fields.trace_id, traceId);
  assert.equal(done?.fields.span_id, hex(execute as ReadableSpan).id);
});
