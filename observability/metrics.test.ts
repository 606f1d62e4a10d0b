import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RelayStats } from '../relay/server.ts';
import type { AppendedJob } from './job-metrics.ts';
import { kindLabel } from './job-metrics.ts';
import { TimmyMetrics } from './metrics.ts';

/** The value of one sample line of the text exposition (undefined when absent). */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function job(
  type: string,
  from: string | undefined,
  state: string,
  extra: Partial<AppendedJob['view']> = {},
): AppendedJob {
  return {
    type,
    from,
    view: {
      kind: 5050,
      state,
      agent: 'a'.repeat(64),
      createdAt: 1000,
      updatedAt: 1000,
      history: [],
      ...extra,
    },
  };
}

const persona = (pubkey: string | undefined): string => (pubkey ? 'echo' : 'none');

describe('TimmyMetrics', () => {
  test('two instances keep apart (no global registry) and every roadmap metric is registered', async () => {
    const a = new TimmyMetrics({ defaultMetrics: false });
    const b = new TimmyMetrics({ defaultMetrics: false });
    a.jobs.appended(job('posted', undefined, 'posted'), persona);
    assert.equal(sample(await a.text(), 'timmy_jobs_posted_total', '{kind="5050"}'), 1);
    assert.equal(sample(await b.text(), 'timmy_jobs_posted_total', '{kind="5050"}'), undefined);
    const names = (await a.registry.getMetricsAsJSON()).map((m) => m.name);
    for (const name of [
      'timmy_tasks_total',
      'timmy_auction_duration_seconds',
      'timmy_llm_request_duration_seconds',
      'timmy_llm_tokens_total',
      'timmy_lightning_balance_sats',
      'timmy_memory_count',
      'timmy_ws_connections',
      'timmy_agent_health',
    ])
      assert.ok(names.includes(name), name);
  });

  test('default process metrics are on the instance registry', async () => {
    const m = new TimmyMetrics();
    assert.ok((await m.text()).includes('process_cpu_user_seconds_total'));
  });

  test('job appends: transitions, auction and job durations, tasks by persona, payments and refunds', async () => {
    const m = new TimmyMetrics({ defaultMetrics: false });
    m.jobs.appended(job('posted', undefined, 'posted'), persona);
    m.jobs.appended(
      job('bidding', 'posted', 'bidding', { history: [{ state: 'bidding', at: 1000 }] }),
      persona,
    );
    const history = [
      { state: 'bidding', at: 1000 },
      { state: 'awaiting-payment', at: 3500 },
    ];
    m.jobs.appended(
      job('payment-required', 'bidding', 'awaiting-payment', { history, updatedAt: 3500 }),
      persona,
    );
    const payment = { paid: true, amountMsats: 21_000 };
    m.jobs.appended(job('paid', 'awaiting-payment', 'bidding', { payment }), persona);
    m.jobs.appended(job('note', 'bidding', 'bidding'), persona);
    m.jobs.appended(job('completed', 'executing', 'completed', { updatedAt: 4000, payment }), persona);
    m.jobs.appended(job('failed', 'executing', 'failed', { updatedAt: 2000, payment, kind: 1 }), persona);
    const t = await m.text();
    assert.equal(sample(t, 'timmy_job_transitions_total', '{from="none",to="posted"}'), 1);
    assert.equal(sample(t, 'timmy_job_transitions_total', '{from="posted",to="bidding"}'), 1);
    assert.equal(sample(t, 'timmy_job_transitions_total', '{from="bidding",to="bidding"}'), undefined);
    assert.equal(sample(t, 'timmy_auction_duration_seconds_count'), 1);
    assert.equal(sample(t, 'timmy_auction_duration_seconds_sum'), 2.5);
    assert.equal(sample(t, 'timmy_tasks_total', '{status="completed",persona="echo"}'), 1);
    assert.equal(sample(t, 'timmy_tasks_total', '{status="failed",persona="echo"}'), 1);
    assert.equal(sample(t, 'timmy_job_duration_seconds_sum', '{kind="5050",status="completed"}'), 3);
    assert.equal(sample(t, 'timmy_job_duration_seconds_count', '{kind="other",status="failed"}'), 1);
    assert.equal(sample(t, 'timmy_payments_total'), 1);
    assert.equal(sample(t, 'timmy_payments_sats_total'), 21);
    assert.equal(sample(t, 'timmy_refunds_total'), 1);
    assert.equal(sample(t, 'timmy_refunds_sats_total'), 21);
    assert.ok(!/[0-9a-f]{64}/.test(t), 'no npub or job id as a label');
  });

  test('model calls: duration by provider and model, requests by outcome, tokens by direction', async () => {
    const m = new TimmyMetrics({ defaultMetrics: false });
    const base = { provider: 'ollama', latencyMs: 1500, promptTokens: 10, completionTokens: 4 };
    m.llmCall({ ...base, model: 'llama3', outcome: 'ok' });
    m.llmCall({ ...base, outcome: 'timeout', promptTokens: 0, completionTokens: 0 });
    const t = await m.text();
    assert.equal(
      sample(t, 'timmy_llm_request_duration_seconds_count', '{provider="ollama",model="llama3"}'),
      1,
    );
    assert.equal(
      sample(t, 'timmy_llm_request_duration_seconds_sum', '{provider="ollama",model="llama3"}'),
      1.5,
    );
    assert.equal(
      sample(t, 'timmy_llm_request_duration_seconds_count', '{provider="ollama",model="unknown"}'),
      1,
    );
    assert.equal(sample(t, 'timmy_llm_requests_total', '{provider="ollama",outcome="timeout"}'), 1);
    assert.equal(sample(t, 'timmy_llm_tokens_total', '{provider="ollama",direction="prompt"}'), 10);
    assert.equal(sample(t, 'timmy_llm_tokens_total', '{provider="ollama",direction="completion"}'), 4);
  });

  test('scrape-time sources: relay, agents, treasury, memory, circuit breakers; they follow the state', async () => {
    const m = new TimmyMetrics({ defaultMetrics: false });
    const relay: RelayStats = {
      connections: 3,
      subscriptions: 7,
      eventsReceived: 10,
      eventsStored: 6,
      eventsRejected: 3,
      rejectedByReason: { invalid: 2, 'rate-limited': 1 },
      eventsPending: 0,
      answersPending: 0,
    };
    let alive = true;
    m.setSources({
      relay: () => relay,
      agents: () => [
        { persona: 'echo', alive },
        { persona: 'scribe', alive: false },
      ],
      balanceSats: () => 1234,
      memoryCount: () => 42,
      providers: () => [{ provider: 'ollama', state: 'open' }],
    });
    let t = await m.text();
    assert.equal(sample(t, 'timmy_ws_connections'), 3);
    assert.equal(sample(t, 'timmy_relay_subscriptions'), 7);
    assert.equal(sample(t, 'timmy_relay_events_accepted_total'), 7);
    assert.equal(sample(t, 'timmy_relay_events_rejected_total', '{reason="invalid"}'), 2);
    assert.equal(sample(t, 'timmy_relay_events_rejected_total', '{reason="rate-limited"}'), 1);
    assert.equal(sample(t, 'timmy_agent_health', '{persona="echo"}'), 1);
    assert.equal(sample(t, 'timmy_agent_health', '{persona="scribe"}'), 0);
    assert.equal(sample(t, 'timmy_lightning_balance_sats'), 1234);
    assert.equal(sample(t, 'timmy_memory_count'), 42);
    assert.equal(sample(t, 'timmy_llm_circuit_state', '{provider="ollama"}'), 2);
    alive = false;
    relay.connections = 1;
    t = await m.text();
    assert.equal(sample(t, 'timmy_agent_health', '{persona="echo"}'), 0);
    assert.equal(sample(t, 'timmy_ws_connections'), 1);
  });

  test('kind labels are bounded', () => {
    assert.equal(kindLabel(5050), '5050');
    assert.equal(kindLabel(6050), 'other');
    assert.equal(kindLabel(5000.5), 'other');
  });
});
