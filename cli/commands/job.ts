import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { replayJob } from '../../agents/runtime/replay.ts';
import { handlerFor } from '../../agents/runtime/roster.ts';
import { WorkLog, type WorkRecord } from '../../agents/runtime/work-log.ts';
import { dataFile } from '../../core/data-dir.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { isTerminal, JOB_STATES, type JobStateName, type JobView } from '../../dvm/job-state.ts';
import { jobKindInfo } from '../../dvm/kinds.ts';
import { agentNames, nameOf } from '../agent-names.ts';
import { makeContext } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';
import { registerJobSubmit } from './job-submit.ts';

/** `timmy job …`: submit a job as a customer, and read or steer the instance's job log. */
export function registerJob(program: Command, io: CliIo, result: { code: number }): void {
  const job = program.command('job').description('submit NIP-90 jobs and manage the job log');
  registerJobSubmit(job, program, io, result);

  job
    .command('list')
    .description('jobs of this instance, newest first')
    .option('--state <states>', `only these states, comma-separated (${JOB_STATES.join(', ')})`)
    .option('--limit <n>', 'how many (default 20, at most 1000)', '20')
    .option('--json', 'print JSON')
    .action(async (opts: { state?: string; limit: string; json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const states = opts.state ? parseStates(opts.state) : undefined;
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new CliError(`--limit must be an integer from 1 to 1000, got "${opts.limit}"`, 2);
      const log = openLog(ctx.dataDir, true);
      if (!log) {
        if (opts.json) printJson(io.stdout, []);
        else println(io.stdout, `no jobs yet in ${ctx.dataDir}`);
        return;
      }
      try {
        const names = await agentNames(ctx.dataDir);
        const rows = log.list({ states, limit });
        if (opts.json) {
          printJson(
            io.stdout,
            rows.map((r) => ({ ...r, agentName: r.agent ? names.get(r.agent) : undefined })),
          );
          return;
        }
        if (rows.length === 0) {
          println(io.stdout, 'no jobs match');
          return;
        }
        println(io.stdout, pad(['ID', 'KIND', 'STATE', 'AGENT', 'UPDATED', 'REASON'], [12, 22, 18, 10, 20]));
        for (const r of rows) {
          println(
            io.stdout,
            pad(
              [
                r.id.slice(0, 12),
                kindLabel(r.kind),
                r.state,
                nameOf(names, r.agent),
                new Date(r.updatedAt).toISOString().slice(0, 19).replace('T', ' '),
                r.reason ?? '',
              ],
              [12, 22, 18, 10, 20],
            ),
          );
        }
      } finally {
        log.close();
      }
    });

  job
    .command('show')
    .description('one job: its request, every transition and record, its result')
    .argument('<id>', 'job id (the request event id, or a unique prefix of at least 6 characters)')
    .option('--json', 'print JSON (the job view and its log entries)')
    .action(async (id: string, opts: { json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const log = requireLog(ctx.dataDir, true);
      try {
        const view = findJob(log, id);
        const entries = log.entries(view.id);
        const agentRecords = workRecords(ctx.dataDir, view.id, entries);
        if (opts.json) {
          printJson(io.stdout, { job: view, entries, agents: Object.fromEntries(agentRecords) });
          return;
        }
        const names = await agentNames(ctx.dataDir);
        println(io.stdout, `job      ${view.id}`);
        println(io.stdout, `kind     ${kindLabel(view.kind)}`);
        println(io.stdout, `customer ${nameOf(names, view.customer)}`);
        println(io.stdout, `state    ${view.state}${view.reason ? ` (${view.reason})` : ''}`);
        println(io.stdout, `agent    ${nameOf(names, view.agent)}  attempt ${view.attempt}`);
        const inputs = view.request.tags.filter((t) => t[0] === 'i');
        for (const i of inputs) println(io.stdout, `input    ${i[2] ?? 'text'}: ${clip(i[1] ?? '', 100)}`);
        println(io.stdout, '');
        for (const e of entries) {
          const at = new Date(e.at).toISOString().slice(11, 23);
          println(io.stdout, `${String(e.seq).padStart(6)} ${at}  ${describeEntry(e.entry, names)}`);
        }
        for (const [agent, records] of agentRecords) {
          println(io.stdout, '');
          println(io.stdout, `${nameOf(names, agent)}'s own record:`);
          for (const r of records) {
            const at = new Date(r.at).toISOString().slice(11, 23);
            println(io.stdout, `${String(r.seq).padStart(6)} ${at}  ${describeRecord(r)}`);
          }
        }
        if (view.result) {
          println(io.stdout, '');
          println(io.stdout, 'result:');
          println(io.stdout, view.result.content);
        }
      } finally {
        log.close();
      }
    });

  for (const verb of ['approve', 'reject'] as const) {
    job
      .command(verb)
      .description(
        verb === 'approve'
          ? 'let a job waiting for approval go ahead (the running instance picks it up within a second)'
          : 'decline a job waiting for approval; the customer gets an error feedback with the reason',
      )
      .argument('<id>', 'job id or unique prefix')
      .option('--reason <text>', 'why (sent to the customer on reject)', '')
      .option('--by <name>', 'who decides (recorded in the job log)', io.env.USER ?? 'operator')
      .option('--json', 'print the job after the change as JSON')
      .action(async (id: string, opts: { reason: string; by: string; json?: boolean }) => {
        const ctx = await makeContext(io, program.opts());
        const log = requireLog(ctx.dataDir, false);
        try {
          const view = findJob(log, id);
          if (view.state !== 'awaiting-approval') {
            throw new CliError(`job ${view.id.slice(0, 12)} is ${view.state}, not awaiting approval`, 1);
          }
          const after =
            verb === 'approve'
              ? log.append(view.id, { type: 'approved', by: opts.by }).view
              : log.append(view.id, { type: 'rejected', by: opts.by, reason: opts.reason }).view;
          if (opts.json) printJson(io.stdout, { id: after.id, state: after.state });
          else
            println(
              io.stdout,
              `job ${after.id.slice(0, 12)} ${verb === 'approve' ? 'approved' : 'rejected'}: now ${after.state}`,
            );
        } finally {
          log.close();
        }
      });
  }

  job
    .command('replay')
    .description('re-run a finished or failed job from its recorded inputs and model outputs, and compare')
    .argument('<id>', 'job id or unique prefix')
    .option('--json', 'print the replay report as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const log = requireLog(ctx.dataDir, true);
      try {
        const view = findJob(log, id);
        if (!isTerminal(view.state))
          throw new CliError(
            `job ${view.id.slice(0, 12)} is still ${view.state}; replay runs finished jobs`,
            1,
          );
        const work = openWorkLog(ctx.dataDir);
        let report: Awaited<ReturnType<typeof replayJob>>;
        try {
          report = await replayJob(log.entries(view.id), {
            handlerFor,
            maxInputBytes: ctx.config.dvm.maxInputBytes,
            effectsOf: (_attempt, agent) => work?.forAgent(agent).effects(view.id),
          });
        } finally {
          work?.close();
        }
        if (opts.json) printJson(io.stdout, report);
        else {
          println(io.stdout, `recorded: ${report.recorded.join(' → ')}`);
          println(io.stdout, `replayed: ${report.replayed.join(' → ')}`);
          for (const a of report.attempts) {
            const show = (o: typeof a.recorded): string =>
              o.ok ? `result ${clip(o.content, 60)}` : `error: ${o.error}`;
            println(
              io.stdout,
              `attempt ${a.attempt} (${a.agent}, ${a.handler}): ${a.same ? 'same' : 'DIFFERENT'}`,
            );
            if (!a.same) {
              println(io.stdout, `  recorded ${show(a.recorded)}`);
              println(io.stdout, `  replayed ${show(a.replayed)}`);
            }
          }
          if (report.diverged) println(io.stdout, `diverged: ${report.diverged}`);
          println(io.stdout, report.same ? 'SAME: the replay reproduced the job' : 'DIFFERENT: see above');
        }
        if (!report.same) result.code = 1;
      } finally {
        log.close();
      }
    });
}

/** The agents' work log of this data directory, read-only, if agents ran here. */
function openWorkLog(dataDir: string): WorkLog | undefined {
  const path = dataFile(dataDir, 'work');
  return existsSync(path) ? WorkLog.open({ path, readonly: true }) : undefined;
}

/** What each agent the job was assigned to recorded of it (agents that ran here only). */
function workRecords(
  dataDir: string,
  jobId: string,
  entries: ReturnType<JobLog['entries']>,
): Map<string, WorkRecord[]> {
  const out = new Map<string, WorkRecord[]>();
  const work = openWorkLog(dataDir);
  if (!work) return out;
  try {
    for (const e of entries) {
      if (e.entry.type !== 'assigned' || out.has(e.entry.agent)) continue;
      const records = work.forAgent(e.entry.agent).records(jobId);
      if (records.length > 0) out.set(e.entry.agent, records);
    }
  } finally {
    work.close();
  }
  return out;
}

function openLog(dataDir: string, readonly: boolean): JobLog | undefined {
  const path = dataFile(dataDir, 'jobs');
  if (!existsSync(path)) return undefined;
  return JobLog.open({ path, readonly });
}

function requireLog(dataDir: string, readonly: boolean): JobLog {
  const log = openLog(dataDir, readonly);
  if (!log) throw new CliError(`no job log in ${dataDir} yet (jobs appear once \`timmy start\` has run)`, 1);
  return log;
}

/** By full id, or by a unique prefix among the newest 1000 jobs. */
function findJob(log: JobLog, id: string): JobView {
  const wanted = id.toLowerCase();
  if (!/^[0-9a-f]{6,64}$/.test(wanted))
    throw new CliError(`"${id}" is not a job id (hex, at least 6 characters)`, 2);
  const exact = log.get(wanted);
  if (exact) return exact;
  const matches = log.list({ limit: 1000 }).filter((s) => s.id.startsWith(wanted));
  if (matches.length === 0) throw new CliError(`no job ${id} in the job log`, 1);
  if (matches.length > 1)
    throw new CliError(`"${id}" matches ${matches.length} jobs; give more characters`, 2);
  return log.get((matches[0] as { id: string }).id) as JobView;
}

function parseStates(text: string): JobStateName[] {
  const states = text.split(',').map((s) => s.trim());
  for (const s of states) {
    if (!(JOB_STATES as readonly string[]).includes(s))
      throw new CliError(`unknown state "${s}" (states: ${JOB_STATES.join(', ')})`, 2);
  }
  return states as JobStateName[];
}

function kindLabel(kind: number): string {
  const info = jobKindInfo(kind);
  return info ? `${kind} ${info.name}` : String(kind);
}

function describeEntry(
  entry: ReturnType<JobLog['entries']>[number]['entry'],
  names: Map<string, string>,
): string {
  switch (entry.type) {
    case 'posted':
      return `posted by ${nameOf(names, entry.request.pubkey)}`;
    case 'assigned':
      return `assigned to ${nameOf(names, entry.agent)} (attempt ${entry.attempt})`;
    case 'started':
      return `started by ${nameOf(names, entry.agent)}`;
    case 'agent-lost':
      return `agent ${nameOf(names, entry.agent)} lost: ${entry.reason}`;
    case 'completed':
      return `completed: result ${entry.result.id.slice(0, 12)}`;
    case 'failed':
    case 'cancelled':
    case 'approval-required':
      return `${entry.type}: ${entry.reason}`;
    case 'approved':
      return `approved by ${entry.by}`;
    case 'rejected':
      return `rejected by ${entry.by}${entry.reason ? `: ${entry.reason}` : ''}`;
    case 'effect':
      return `  record ${entry.key}`;
    case 'outbox':
      return `  signed ${entry.key} (kind ${entry.event.kind}, ${entry.event.id.slice(0, 12)})`;
    case 'published':
      return `  published ${entry.key}`;
    case 'note':
      return `  note: ${entry.text}`;
    default:
      return entry.type;
  }
}

function describeRecord(r: WorkRecord): string {
  if (r.type === 'effect') return `  record ${r.key}`;
  if (r.type === 'outbox')
    return `  signed ${r.key} (kind ${r.event.kind}, ${r.event.id.slice(0, 12)})${r.published ? ', published' : ''}`;
  return `  note: ${r.text}`;
}

function clip(text: string, n: number): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

function pad(cols: string[], widths: number[]): string {
  return cols
    .map((c, i) => (i < widths.length ? c.padEnd(widths[i] ?? 0) : c))
    .join(' ')
    .trimEnd();
}
