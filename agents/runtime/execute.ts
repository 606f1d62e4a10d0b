import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { HandlerMemory, HandlerOutput, JobHandler, ResolvedInput } from '../../dvm/handler.ts';
import { JobInputError } from '../../dvm/handler.ts';
import { JobRequestError, parseJobRequest } from '../../dvm/request.ts';
import type { Completion, CompletionRequest } from '../../llm/provider.ts';
import { LlmUnavailableError } from '../../llm/provider.ts';
import type { RequestedInput } from './inputs.ts';

/** Which agent ran an attempt with which handler and prompt: recorded so a replay runs the same code. */
export interface RunRecord {
  agent: string;
  handler: string;
  systemPrompt: string;
}

/** Where an execution gets its side effects: live (worker) or from the log only (replay). */
export interface ExecutionEffects {
  /** Returns the value recorded under `key`, or makes, records and returns it. */
  recorded<T>(key: string, make: () => Promise<T>): Promise<T>;
  resolveInputs(inputs: readonly RequestedInput[], signal: AbortSignal): Promise<ResolvedInput[]>;
  complete(request: CompletionRequest): Promise<Completion>;
  progress(message: string): void;
  /** The agent's memory, searched by the memory DVM kind (absent: none, or a replay without it). */
  memory?: HandlerMemory;
}

export interface ExecuteOptions {
  /** The request with its tags readable (decrypted when it was encrypted). */
  request: NostrEvent;
  attempt: number;
  handler: JobHandler;
  maxInputBytes: number;
  signal: AbortSignal;
  logger: Logger;
  effects: ExecutionEffects;
}

/**
 * One attempt of one job: parse the request, resolve its inputs (recorded as `inputs:<attempt>`), run the
 * handler with model calls recorded as `llm:<attempt>:<key>`, and record the output as `output:<attempt>`.
 * The same function runs live in the worker and from recorded effects in `timmy job replay`.
 */
export async function executeJob(o: ExecuteOptions): Promise<HandlerOutput> {
  const parsed = parseJobRequest(o.request, { maxInputBytes: o.maxInputBytes });
  if (!o.handler.kinds.includes(parsed.kind))
    throw new JobInputError(`handler ${o.handler.name} does not serve kind ${parsed.kind}`);
  const inputs = await o.effects.recorded<ResolvedInput[]>(`inputs:${o.attempt}`, () =>
    o.handler.fetchesUrls
      ? resolveKeepingUrls(parsed.inputs, o.effects, o.signal)
      : o.effects.resolveInputs(parsed.inputs, o.signal),
  );
  return o.effects.recorded<HandlerOutput>(`output:${o.attempt}`, () =>
    o.handler.run(
      {
        id: o.request.id,
        kind: parsed.kind,
        customer: o.request.pubkey,
        inputs,
        params: parsed.params,
        paramValues: parsed.paramValues,
        output: parsed.output,
      },
      {
        llm: (key, req) =>
          o.effects.recorded<Completion>(`llm:${o.attempt}:${key}`, () =>
            o.effects.complete({ ...req, signal: o.signal }),
          ),
        progress: (message) => o.effects.progress(message),
        signal: o.signal,
        logger: o.logger,
        ...(o.effects.memory ? { memory: o.effects.memory } : {}),
      },
    ),
  );
}

/** Every input but the `url` ones resolved; those are left for the handler to fetch (`fetchesUrls`). */
async function resolveKeepingUrls(
  inputs: readonly RequestedInput[],
  effects: ExecutionEffects,
  signal: AbortSignal,
): Promise<ResolvedInput[]> {
  const resolved = await effects.resolveInputs(
    inputs.filter((i) => i.type !== 'url'),
    signal,
  );
  let next = 0;
  return inputs.map((i): ResolvedInput => {
    if (i.type === 'url') return { type: 'url', data: i.data, marker: i.marker, text: '', contentType: '' };
    const r = resolved[next++];
    if (!r) throw new Error(`input ${next} was not resolved`);
    return r;
  });
}

/** The message a customer reads in the `error` feedback, and whether it is our fault (logged as an error). */
export function customerMessage(
  err: unknown,
  timedOut: boolean,
  timeoutMs: number,
): { text: string; internal: boolean } {
  if (timedOut)
    return {
      text: `the job took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`,
      internal: false,
    };
  if (err instanceof JobInputError || err instanceof JobRequestError || err instanceof LlmUnavailableError)
    return { text: err.message, internal: false };
  return { text: `the agent failed: ${errorMessage(err)}`, internal: true };
}

/** A customer-facing failure recorded as an effect, so a resume or replay fails the same way. */
interface RecordedError {
  $error: { name: string; message: string };
}

/** Errors worth recording: deterministic, customer-facing ones (not crashes, not aborts). */
export function recordableError(err: unknown): RecordedError | undefined {
  if (err instanceof JobInputError || err instanceof LlmUnavailableError || err instanceof JobRequestError)
    return { $error: { name: err.name, message: err.message } };
  return undefined;
}

/** The recorded value, or the recorded error thrown again. */
export function readRecorded<T>(stored: unknown): T {
  if (stored !== null && typeof stored === 'object' && '$error' in stored) {
    const { name, message } = (stored as RecordedError).$error;
    if (name === 'LlmUnavailableError') throw new LlmUnavailableError(message);
    throw new JobInputError(message);
  }
  return stored as T;
}
