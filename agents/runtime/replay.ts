import { errorMessage } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { HandlerOutput, JobHandler } from '../../dvm/handler.ts';
import {
  applyEntry,
  foldJob,
  type JobLogEntry,
  type JobStateName,
  type JobView,
  transitions,
} from '../../dvm/job-state.ts';
import { isEncryptedRequest, JobRequestError, parseJobRequest } from '../../dvm/request.ts';
import { customerMessage, executeJob, type RunRecord, readRecorded } from './execute.ts';

export type Outcome = { ok: true; content: string } | { ok: false; error: string };

export interface AttemptReplay {
  attempt: number;
  agent: string;
  handler: string;
  recorded: Outcome;
  replayed: Outcome;
  same: boolean;
}

export interface ReplayReport {
  jobId: string;
  kind: number;
  recorded: JobStateName[];
  replayed: JobStateName[];
  attempts: AttemptReplay[];
  /** Same transitions and the same outcome for every attempt. */
  same: boolean;
  /** Why the replay could not reproduce the run (a model call or input that was not recorded). */
  diverged?: string;
}

export interface ReplayOptions {
  handlerFor(name: string, systemPrompt: string): JobHandler | undefined;
  maxInputBytes: number;
  /**
   * What the agent of an attempt recorded (its work log, agents/runtime/work-log.ts); undefined when its
   * record is not at hand (the agent ran elsewhere). Jobs logged before the desk and the agents kept separate
   * records have their effects in the job log itself, which is read then.
   */
  effectsOf?(attempt: number, agent: string): Readonly<Record<string, unknown>> | undefined;
}

class NotRecorded extends Error {}

/**
 * Deterministic replay of a finished or failed job from its log alone: the recorded human and
 * coordinator decisions (approvals, assignments, lost agents) are applied as they were, and every
 * execution is run again through the same code (agents/execute.ts) with the recorded inputs and model
 * completions, so no relay, network or model is touched. The report compares the transitions and each
 * attempt's outcome with the recorded ones.
 */
export async function replayJob(
  entries: readonly JobLogEntry[],
  options: ReplayOptions,
): Promise<ReplayReport> {
  const recordedView = foldJob(entries);
  const attempts: AttemptReplay[] = [];
  let diverged: string | undefined;
  let view: JobView | undefined;

  for (const { seq, at, entry } of entries) {
    const meta = { seq, at };
    if ((entry.type === 'completed' || entry.type === 'failed') && view) {
      const attempt = view.attempt;
      const { effects, missing } = effectsFor(recordedView, attempt, view.agent, options);
      const run = effects[`run:${attempt}`] as RunRecord | undefined;
      const inHand = view.state === 'assigned' || view.state === 'executing';
      if (inHand && missing && entry.type === 'completed')
        diverged ??= `attempt ${attempt}: the agent's record of its work is not in this data directory (it ran elsewhere)`;
      if (run && inHand) {
        const recorded: Outcome =
          entry.type === 'completed'
            ? { ok: true, content: recordedOutput(effects, attempt) ?? entry.result.content }
            : { ok: false, error: entry.reason };
        const replayed = await runAgain(recordedView, effects, attempt, run, options).catch(
          (err: unknown) => {
            if (err instanceof NotRecorded) diverged ??= err.message;
            return { ok: false, error: errorMessage(err) } as Outcome;
          },
        );
        attempts.push({
          attempt,
          agent: run.agent,
          handler: run.handler,
          recorded,
          replayed,
          same: sameOutcome(recorded, replayed),
        });
        view = replayed.ok
          ? applyEntry(
              view,
              { type: 'completed', agent: view.agent ?? '', result: replayResult(view, replayed.content) },
              meta,
            )
          : applyEntry(view, { type: 'failed', reason: replayed.error }, meta);
        continue;
      }
      if (entry.type === 'failed' && view.state === 'posted') {
        // The coordinator refused the request: validate it again.
        const reason = revalidate(view.request, options.maxInputBytes);
        view = applyEntry(view, { type: 'failed', reason: reason ?? entry.reason }, meta);
        if (reason === undefined) diverged ??= 'the request is valid now but was refused when it was posted';
        continue;
      }
    }
    view = applyEntry(view, entry, meta);
  }
  const recordedStates = transitions(recordedView);
  const replayedStates = view ? transitions(view) : [];
  const same =
    diverged === undefined &&
    recordedStates.join() === replayedStates.join() &&
    attempts.every((a) => a.same);
  return {
    jobId: recordedView.id,
    kind: recordedView.kind,
    recorded: recordedStates,
    replayed: replayedStates,
    attempts,
    same,
    diverged,
  };
}

/**
 * The effects recorded for one attempt: the agent's own record, else (jobs logged before the agents kept
 * their own) the job log's; `missing` when neither has any.
 */
function effectsFor(
  recorded: JobView,
  attempt: number,
  agent: string | undefined,
  options: ReplayOptions,
): { effects: Readonly<Record<string, unknown>>; missing: boolean } {
  const own = agent === undefined ? undefined : options.effectsOf?.(attempt, agent);
  if (own && Object.keys(own).length > 0) return { effects: own, missing: false };
  const legacy = Object.keys(recorded.effects).some(
    (k) => k.endsWith(`:${attempt}`) || k.includes(`:${attempt}:`),
  );
  return { effects: recorded.effects, missing: !legacy };
}

async function runAgain(
  recorded: JobView,
  effects: Readonly<Record<string, unknown>>,
  attempt: number,
  run: RunRecord,
  options: ReplayOptions,
): Promise<Outcome> {
  const handler = options.handlerFor(run.handler, run.systemPrompt);
  if (!handler) throw new NotRecorded(`handler "${run.handler}" does not exist in this version`);
  const request = requestFor(recorded, effects, attempt);
  try {
    const out: HandlerOutput = await executeJob({
      request,
      attempt,
      handler,
      maxInputBytes: options.maxInputBytes,
      signal: new AbortController().signal,
      logger: silentLogger,
      effects: {
        recorded: async <T>(key: string, make: () => Promise<T>): Promise<T> => {
          if (key.startsWith('output:')) return make(); // the handler itself always runs again
          if (key in effects) return readRecorded<T>(effects[key]);
          throw new NotRecorded(`the replay needed "${key}", which the original run did not record`);
        },
        resolveInputs: async () => {
          throw new NotRecorded('the replay needed to fetch inputs, which were not recorded');
        },
        complete: async () => {
          throw new NotRecorded('the replay needed a model call that was not recorded');
        },
        progress: () => {},
      },
    });
    return { ok: true, content: out.content };
  } catch (err) {
    if (err instanceof NotRecorded) throw err;
    return { ok: false, error: customerMessage(err, false, 0).text };
  }
}

/** The request as the agent read it: the recorded decrypted copy for encrypted requests. */
function requestFor(view: JobView, effects: Readonly<Record<string, unknown>>, attempt: number): NostrEvent {
  if (!isEncryptedRequest(view.request)) return view.request;
  const logical = effects[`request:${attempt}`] as NostrEvent | undefined;
  if (!logical) throw new NotRecorded('the decrypted request was not recorded');
  return logical;
}

function recordedOutput(effects: Readonly<Record<string, unknown>>, attempt: number): string | undefined {
  const out = effects[`output:${attempt}`] as HandlerOutput | undefined;
  return out?.content;
}

function revalidate(request: NostrEvent, maxInputBytes: number): string | undefined {
  try {
    parseJobRequest(request, { maxInputBytes });
    return undefined;
  } catch (err) {
    if (err instanceof JobRequestError) return err.message;
    throw err;
  }
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  return a.ok && b.ok ? a.content === b.content : !a.ok && !b.ok ? a.error === b.error : false;
}

/** A stand-in result event for the replayed fold (never signed or published). */
function replayResult(view: JobView, content: string): NostrEvent {
  return {
    id: '',
    pubkey: view.agent ?? '',
    created_at: 0,
    kind: view.kind + 1000,
    tags: [['e', view.id]],
    content,
    sig: '',
  };
}
