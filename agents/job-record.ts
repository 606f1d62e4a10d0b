/**
 * One job as a person reads it, from both records: the desk's job log (every decision and the desk's events)
 * and the work log of each agent that had it (what the agent did). `timmy job show|replay` and the dashboard
 * read jobs through these.
 */
import type { JobLog } from '../dvm/job-log.ts';
import type { JobLogEntry, JobView } from '../dvm/job-state.ts';
import { type ReplayReport, replayJob } from './runtime/replay.ts';
import { handlerFor } from './runtime/roster.ts';
import type { WorkLog, WorkRecord } from './runtime/work-log.ts';

/** A job id that is malformed (`bad-id`), unknown, or a prefix of several (`ambiguous`). */
export class JobLookupError extends Error {
  constructor(
    readonly code: 'bad-id' | 'not-found' | 'ambiguous',
    message: string,
  ) {
    super(message);
    this.name = 'JobLookupError';
  }
}

/** A job by its full id, or by a unique prefix (at least 6 hex characters) among the newest 1000 jobs. */
export function findJob(log: JobLog, id: string): JobView {
  const wanted = id.toLowerCase();
  if (!/^[0-9a-f]{6,64}$/.test(wanted))
    throw new JobLookupError('bad-id', `"${id}" is not a job id (hex, at least 6 characters)`);
  const exact = log.get(wanted);
  if (exact) return exact;
  const matches = log.list({ limit: 1000 }).filter((s) => s.id.startsWith(wanted));
  const [only] = matches;
  if (!only) throw new JobLookupError('not-found', `no job ${id} in the job log`);
  if (matches.length > 1)
    throw new JobLookupError('ambiguous', `"${id}" matches ${matches.length} jobs; give more characters`);
  return log.get(only.id) as JobView;
}

export interface JobRecord {
  job: JobView;
  /** The desk's entries, in order. */
  entries: JobLogEntry[];
  /** Per agent the job was assigned to, what it recorded (agents whose work log is at hand). */
  agents: Map<string, WorkRecord[]>;
}

/** The job's whole record: the desk's log and the agents' own records of it. */
export function jobRecord(log: JobLog, work: WorkLog | undefined, id: string): JobRecord {
  const job = findJob(log, id);
  const entries = log.entries(job.id);
  const agents = new Map<string, WorkRecord[]>();
  for (const e of entries) {
    if (e.entry.type !== 'assigned' || agents.has(e.entry.agent) || !work) continue;
    const records = work.forAgent(e.entry.agent).records(job.id);
    if (records.length > 0) agents.set(e.entry.agent, records);
  }
  return { job, entries, agents };
}

/**
 * Re-runs a finished job from what was recorded (the desk's decisions, each attempt's inputs and model
 * outputs from its agent's record) and compares (agents/runtime/replay.ts).
 */
export function replayRecorded(
  log: JobLog,
  work: WorkLog | undefined,
  jobId: string,
  options: { maxInputBytes: number },
): Promise<ReplayReport> {
  return replayJob(log.entries(jobId), {
    handlerFor,
    maxInputBytes: options.maxInputBytes,
    effectsOf: (_attempt, agent) => work?.forAgent(agent).effects(jobId),
  });
}
