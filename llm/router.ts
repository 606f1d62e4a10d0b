/**
 * The cascade router: an `LlmProvider` over an ordered list of providers. Each call tries the providers in
 * order, skipping those whose circuit breaker refuses, each under its own deadline, and falls through to the
 * next one on an error, a timeout or an unusable answer. Per-provider statistics are kept for `stats()` and
 * every attempt is reported to the optional `onCall` hook.
 *
 * Streaming: tokens pass straight through to the caller's `onToken`. Once a provider has streamed any text
 * to the caller, the router no longer falls through: if that provider then fails, the call rejects with an
 * LlmUnavailableError (the caller already holds part of an answer, and another model would not continue it).
 * A caller's abort rejects at once with an AbortError and counts as nobody's failure.
 */
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { abortError, raceAbort, throwIfAborted } from './abort.ts';
import type { BreakerPermit, BreakerSnapshot, CircuitBreaker } from './circuit-breaker.ts';
import { type LatencySummary, LatencyWindow } from './latency-window.ts';
import {
  type Completion,
  type CompletionRequest,
  type LlmProvider,
  LlmResponseError,
  LlmUnavailableError,
} from './provider.ts';

export interface RouterEntry {
  provider: LlmProvider;
  /** Deadline for one call to this provider; past it the call is aborted and the next provider tried. */
  timeoutMs: number;
  breaker: CircuitBreaker;
}

/** One attempt on one provider, as reported to `onCall` (skipped providers are not reported). */
export interface CallSample {
  provider: string;
  ok: boolean;
  outcome: 'ok' | 'error' | 'timeout' | 'aborted';
  latencyMs: number;
  promptTokens: number;
  completionTokens: number;
  /** The model that answered (successful attempts). */
  model?: string;
  error?: string;
}

export interface ProviderStats {
  provider: string;
  /** Attempts made (skipped ones not included). */
  calls: number;
  successes: number;
  /** Failed attempts, timeouts included. */
  failures: number;
  timeouts: number;
  /** Attempts the caller aborted (not failures). */
  aborted: number;
  /** Calls that passed this provider by because its circuit was open. */
  skipped: number;
  promptTokens: number;
  completionTokens: number;
  /** Latency of successful attempts: the last one, and p50/p99/max over the recent window. */
  latency: LatencySummary;
  lastError: string | undefined;
  breaker: BreakerSnapshot;
}

export interface CascadeRouterOptions {
  entries: RouterEntry[];
  logger: Logger;
  clock?: Clock;
  onCall?: (sample: CallSample) => void;
  /** Successful latencies kept per provider for the percentiles (default 256). */
  latencyWindow?: number;
}

/** What the user reads when no provider is configured at all. */
export const NO_PROVIDER_MESSAGE =
  'no language model is configured: set TIMMY_LLM_OLLAMA_URL (an Ollama server), TIMMY_LLM_OPENAI_URL ' +
  '(an OpenAI-compatible server) or TIMMY_LLM_LLAMA_CPP_MODEL_PATH (a GGUF model file); see docs/llm.md';

interface Slot {
  entry: RouterEntry;
  counters: Omit<ProviderStats, 'latency' | 'breaker' | 'provider'>;
  latency: LatencyWindow;
}

type Attempt =
  | { kind: 'ok'; completion: Completion }
  | { kind: 'aborted' }
  | { kind: 'failed'; line: string; streamed: boolean };

export class CascadeRouter implements LlmProvider {
  readonly name = 'router';
  private readonly slots: Slot[];
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly onCall: ((sample: CallSample) => void) | undefined;
  private closed = false;

  constructor(options: CascadeRouterOptions) {
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.onCall = options.onCall;
    this.slots = options.entries.map((entry) => ({
      entry,
      latency: new LatencyWindow(options.latencyWindow ?? 256),
      counters: {
        calls: 0,
        successes: 0,
        failures: 0,
        timeouts: 0,
        aborted: 0,
        skipped: 0,
        promptTokens: 0,
        completionTokens: 0,
        lastError: undefined,
      },
    }));
  }

  /** The providers in cascade order. */
  get providers(): LlmProvider[] {
    return this.slots.map((s) => s.entry.provider);
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    if (this.slots.length === 0) throw new LlmUnavailableError(NO_PROVIDER_MESSAGE);
    throwIfAborted(request.signal);
    const started = this.clock.now();
    const attempts: string[] = [];
    for (const slot of this.slots) {
      const name = slot.entry.provider.name;
      const permit = slot.entry.breaker.acquire();
      if (!permit) {
        slot.counters.skipped++;
        attempts.push(`${name}: skipped, ${this.refusal(slot.entry.breaker.snapshot())}`);
        continue;
      }
      const r = await this.attempt(slot, permit, request);
      if (r.kind === 'ok') {
        return { ...r.completion, provider: name, latencyMs: this.clock.now() - started };
      }
      if (r.kind === 'aborted') throw abortError(request.signal);
      attempts.push(r.line);
      if (r.streamed) {
        throw new LlmUnavailableError(
          `${r.line} (after streaming part of its answer, so no other provider was tried)`,
          attempts,
        );
      }
    }
    throw new LlmUnavailableError(`no language model could answer: ${attempts.join('; ')}`, attempts);
  }

  stats(): ProviderStats[] {
    return this.slots.map((s) => ({
      provider: s.entry.provider.name,
      ...s.counters,
      latency: s.latency.summary(),
      breaker: s.entry.breaker.snapshot(),
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.slots.map((s) => s.entry.provider.close?.()));
  }

  private async attempt(slot: Slot, permit: BreakerPermit, request: CompletionRequest): Promise<Attempt> {
    const { provider, timeoutMs } = slot.entry;
    const c = slot.counters;
    c.calls++;
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new DOMException(`timeout after ${timeoutMs} ms`, 'TimeoutError')),
      timeoutMs,
    );
    const signal = request.signal ? AbortSignal.any([request.signal, deadline.signal]) : deadline.signal;
    let live = true;
    let streamed = false;
    const sink = request.onToken;
    const onToken = sink
      ? (text: string): void => {
          if (!live || text === '') return;
          streamed = true;
          sink(text);
        }
      : undefined;
    const t0 = this.clock.now();
    try {
      const completion = await raceAbort(provider.complete({ ...request, signal, onToken }), signal);
      live = false;
      if (typeof completion?.text !== 'string')
        throw new LlmResponseError(provider.name, 'answered without text');
      const latencyMs = this.clock.now() - t0;
      permit.succeed();
      c.successes++;
      c.promptTokens += completion.promptTokens;
      c.completionTokens += completion.completionTokens;
      slot.latency.add(latencyMs);
      this.logger.debug({ provider: provider.name, latencyMs }, 'llm call answered');
      this.report({
        provider: provider.name,
        ok: true,
        outcome: 'ok',
        latencyMs,
        model: completion.model,
        promptTokens: completion.promptTokens,
        completionTokens: completion.completionTokens,
      });
      return { kind: 'ok', completion };
    } catch (err) {
      live = false;
      const latencyMs = this.clock.now() - t0;
      const base = { provider: provider.name, ok: false, latencyMs, promptTokens: 0, completionTokens: 0 };
      if (request.signal?.aborted) {
        permit.release();
        c.aborted++;
        this.report({ ...base, outcome: 'aborted', error: 'aborted by the caller' });
        return { kind: 'aborted' };
      }
      const timedOut = deadline.signal.aborted;
      const message = timedOut
        ? `timeout after ${timeoutMs} ms`
        : withoutPrefix(errorMessage(err), provider.name);
      permit.fail();
      c.failures++;
      if (timedOut) c.timeouts++;
      c.lastError = message;
      this.logger.warn(
        { provider: provider.name, latencyMs, timedOut, error: message, breaker: slot.entry.breaker.state },
        'llm provider failed',
      );
      this.report({ ...base, outcome: timedOut ? 'timeout' : 'error', error: message });
      return { kind: 'failed', line: `${provider.name}: ${message}`, streamed };
    } finally {
      clearTimeout(timer);
    }
  }

  private refusal(s: BreakerSnapshot): string {
    if (s.state === 'half-open') return 'circuit half-open, a probe call is in flight';
    const wait = s.retryAt === undefined ? 0 : Math.max(0, s.retryAt - this.clock.now());
    return `circuit open after repeated failures (next try in ${Math.ceil(wait / 1000)} s)`;
  }

  private report(sample: CallSample): void {
    if (!this.onCall) return;
    try {
      this.onCall(sample);
    } catch (err) {
      this.logger.warn({ error: errorMessage(err) }, 'llm onCall hook threw');
    }
  }
}

function withoutPrefix(message: string, name: string): string {
  return message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message;
}
