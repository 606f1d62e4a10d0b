/**
 * Prometheus metrics (docs/observability.md). One `Registry` per instance, made by the composition root and
 * never the library's global default: two instances in one process (tests) keep apart. Counters and
 * histograms are fed from observation points the code already has (the job log's `onAppend`, the model
 * router's `onCall`); gauges, and the relay's counters, are read from the running parts when Prometheus
 * scrapes (`setSources`). No label carries an npub, a job id or anything else without a small bound.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RelayStats } from '../relay/server.ts';
import { type JobMetrics, jobMetrics } from './job-metrics.ts';

/** What the scrape reads from the running instance; each is optional and set when its part is up. */
export interface MetricSources {
  relay?: () => RelayStats | undefined;
  /** The agents the desk knows, by persona name, and whether it counts them alive. */
  agents?: () => readonly { persona: string; alive: boolean }[];
  /** What the wallet should hold for this instance, in sats (the treasury's books). */
  balanceSats?: () => number | undefined;
  memoryCount?: () => number | undefined;
  /** The model providers and their circuit breakers' states. */
  providers?: () => readonly { provider: string; state: 'closed' | 'open' | 'half-open' }[];
}

/** One model attempt, as the router reports it (structurally `CallSample` of llm/router.ts). */
export interface LlmCallSample {
  provider: string;
  model?: string;
  outcome: string;
  latencyMs: number;
  promptTokens: number;
  completionTokens: number;
}

export const BREAKER_VALUES: Readonly<Record<'closed' | 'half-open' | 'open', number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

export interface MetricsOptions {
  /** Node's default process metrics (`process_*`, `nodejs_*`); default true. */
  defaultMetrics?: boolean;
}

export class TimmyMetrics {
  readonly registry = new Registry();
  /** Feeds the job counters and histograms (`JobLog.onAppend`). */
  readonly jobs: JobMetrics;
  private sources: MetricSources = {};
  private readonly llmDuration: Histogram<'provider' | 'model'>;
  private readonly llmRequests: Counter<'provider' | 'outcome'>;
  private readonly llmTokens: Counter<'provider' | 'direction'>;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.jobs = jobMetrics(this.registry);
    this.llmDuration = new Histogram({
      name: 'timmy_llm_request_duration_seconds',
      help: 'Model calls, each attempt on one provider, by provider and model (unknown when it failed)',
      labelNames: ['provider', 'model'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.llmRequests = new Counter({
      name: 'timmy_llm_requests_total',
      help: 'Model call attempts by provider and outcome (ok, error, timeout, aborted)',
      labelNames: ['provider', 'outcome'],
      registers,
    });
    this.llmTokens = new Counter({
      name: 'timmy_llm_tokens_total',
      help: 'Tokens by provider and direction (prompt, completion)',
      labelNames: ['provider', 'direction'],
      registers,
    });
    this.scraped(registers);
  }

  /** Adds (or replaces) what the scrape reads. */
  setSources(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** One model attempt (the router's `onCall`). */
  llmCall(sample: LlmCallSample): void {
    const provider = sample.provider;
    this.llmDuration.observe({ provider, model: sample.model ?? 'unknown' }, sample.latencyMs / 1000);
    this.llmRequests.inc({ provider, outcome: sample.outcome });
    if (sample.promptTokens > 0) this.llmTokens.inc({ provider, direction: 'prompt' }, sample.promptTokens);
    if (sample.completionTokens > 0)
      this.llmTokens.inc({ provider, direction: 'completion' }, sample.completionTokens);
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The metrics read at scrape time from the sources. */
  private scraped(registers: Registry[]): void {
    const src = (): MetricSources => this.sources;
    const ws: Gauge = new Gauge({
      name: 'timmy_ws_connections',
      help: "Open WebSocket connections to the embedded relay (the dashboard's /relay bridge included)",
      registers,
      collect: () => setOrReset(ws, src().relay?.()?.connections),
    });
    const subs: Gauge = new Gauge({
      name: 'timmy_relay_subscriptions',
      help: 'Live subscriptions (REQs) open on the embedded relay',
      registers,
      collect: () => setOrReset(subs, src().relay?.()?.subscriptions),
    });
    const accepted: Counter = new Counter({
      name: 'timmy_relay_events_accepted_total',
      help: 'EVENTs the embedded relay answered OK true (stored, duplicate or ephemeral)',
      registers,
      collect: () => {
        const s = src().relay?.();
        accepted.reset();
        if (s) accepted.inc(Math.max(0, s.eventsReceived - s.eventsRejected));
      },
    });
    const rejected: Counter<'reason'> = new Counter({
      name: 'timmy_relay_events_rejected_total',
      help: 'EVENTs the embedded relay answered OK false, by the NIP-01 prefix of the reason',
      labelNames: ['reason'],
      registers,
      collect: () => {
        rejected.reset();
        for (const [reason, n] of Object.entries(src().relay?.()?.rejectedByReason ?? {}))
          rejected.inc({ reason }, n);
      },
    });
    const health: Gauge<'persona'> = new Gauge({
      name: 'timmy_agent_health',
      help: 'Whether the desk counts each agent alive (1) or not (0), by persona',
      labelNames: ['persona'],
      registers,
      collect: () => {
        health.reset();
        for (const a of src().agents?.() ?? []) health.set({ persona: a.persona }, a.alive ? 1 : 0);
      },
    });
    const balance: Gauge = new Gauge({
      name: 'timmy_lightning_balance_sats',
      help: "What the wallet should hold for this instance, in sats (the treasury's books; absent without payments)",
      registers,
      collect: () => setOrReset(balance, src().balanceSats?.()),
    });
    const memory: Gauge = new Gauge({
      name: 'timmy_memory_count',
      help: "Memories in the agents' semantic memory (absent when memory is off)",
      registers,
      collect: () => setOrReset(memory, src().memoryCount?.()),
    });
    const breaker: Gauge<'provider'> = new Gauge({
      name: 'timmy_llm_circuit_state',
      help: "Each model provider's circuit breaker: 0 closed, 1 half-open, 2 open",
      labelNames: ['provider'],
      registers,
      collect: () => {
        breaker.reset();
        for (const p of src().providers?.() ?? [])
          breaker.set({ provider: p.provider }, BREAKER_VALUES[p.state]);
      },
    });
  }
}

function setOrReset(gauge: Gauge, value: number | undefined): void {
  if (value === undefined) gauge.reset();
  else gauge.set(value);
}
