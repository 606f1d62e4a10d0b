/**
 * ScriptedProvider: the fake LlmProvider for tests, shipped beside the real ones. Queue what the next calls
 * should do, then read back the requests it received:
 *
 *   const llm = new ScriptedProvider();
 *   llm.queue('a plain answer', { chunks: ['str', 'eamed'] }, { error: 'boom' }, { hang: true });
 *   await llm.complete({ messages });   // → text 'a plain answer'
 *   llm.calls[0].messages                // what was asked
 *
 * A step is a string (the answer, one chunk) or an object: `text` and/or `chunks` (streamed through onToken
 * in order, `chunkDelayMs` apart; the text is their concatenation), `delayMs` (wait first), `error` (reject
 * with it, after any chunks), `hang` (never answer, after any chunks, until aborted), `garbage` (reject with
 * an LlmResponseError, as a provider that got an unusable answer does), `model`, token counts. Every wait
 * honours the request's signal. With the queue empty it answers `defaultAnswer` if one was given, else it
 * rejects saying that nothing was queued.
 */
import { type Clock, systemClock } from '../core/clock.ts';
import { raceAbort, sleep, throwIfAborted, untilAborted } from './abort.ts';
import { type Completion, type CompletionRequest, type LlmProvider, LlmResponseError } from './provider.ts';
import { estimatePromptTokens } from './token-estimate.ts';

export interface ScriptedAnswer {
  text?: string;
  chunks?: string[];
  delayMs?: number;
  chunkDelayMs?: number;
  error?: Error | string;
  hang?: boolean;
  garbage?: boolean;
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
}

export type ScriptStep = string | ScriptedAnswer;

export interface ScriptedProviderOptions {
  /** Provider name (default "scripted"). */
  name?: string;
  /** Model name reported in completions (default "scripted"). */
  model?: string;
  /** Answer used when the queue is empty; without it such a call rejects. */
  defaultAnswer?: ScriptStep;
  /** Measures `latencyMs` (default the system clock). */
  clock?: Clock;
}

export class ScriptedProvider implements LlmProvider {
  readonly name: string;
  /** Every request received, in order (including those that then failed or were aborted). */
  readonly calls: CompletionRequest[] = [];
  private readonly steps: ScriptStep[] = [];
  private readonly model: string;
  private readonly defaultAnswer: ScriptStep | undefined;
  private readonly clock: Clock;
  private isClosed = false;

  constructor(options: ScriptedProviderOptions = {}) {
    this.name = options.name ?? 'scripted';
    this.model = options.model ?? 'scripted';
    this.defaultAnswer = options.defaultAnswer;
    this.clock = options.clock ?? systemClock;
  }

  /** Appends steps for the next calls, one step per call. */
  queue(...steps: ScriptStep[]): this {
    this.steps.push(...steps);
    return this;
  }

  /** Steps still queued. */
  get pending(): number {
    return this.steps.length;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  complete(request: CompletionRequest): Promise<Completion> {
    this.calls.push(request);
    const step = this.steps.shift() ?? this.defaultAnswer;
    if (step === undefined) {
      return Promise.reject(
        new Error(`${this.name}: no scripted answer queued for call ${this.calls.length} (use queue())`),
      );
    }
    return raceAbort(this.play(typeof step === 'string' ? { text: step } : step, request), request.signal);
  }

  async close(): Promise<void> {
    this.isClosed = true;
  }

  private async play(step: ScriptedAnswer, request: CompletionRequest): Promise<Completion> {
    const { signal } = request;
    throwIfAborted(signal);
    const started = this.clock.now();
    if (step.delayMs) await sleep(step.delayMs, signal);
    const chunks = step.chunks ?? (step.text ? [step.text] : []);
    for (const [i, chunk] of chunks.entries()) {
      if (i > 0 && step.chunkDelayMs) await sleep(step.chunkDelayMs, signal);
      throwIfAborted(signal);
      request.onToken?.(chunk);
    }
    if (step.hang) await untilAborted(signal);
    if (step.error !== undefined) throw typeof step.error === 'string' ? new Error(step.error) : step.error;
    if (step.garbage) throw new LlmResponseError(this.name, 'unparseable answer (scripted garbage)');
    const text = step.chunks ? step.chunks.join('') : (step.text ?? '');
    return {
      text,
      provider: this.name,
      model: step.model ?? this.model,
      promptTokens: step.promptTokens ?? estimatePromptTokens(request.messages),
      completionTokens: step.completionTokens ?? chunks.length,
      latencyMs: this.clock.now() - started,
    };
  }
}
