import type { Command } from 'commander';
import { JOB_STATES, type JobStateName } from '../../../dvm/job-state.ts';
import { agentNames, nameOf } from '../../agent-names.ts';
import { makeContext } from '../../context.ts';
import { CliError, type CliIo, printJson, println } from '../../io.ts';
import { kindLabel, openLog, pad } from './records.ts';

/** `timmy job list`: the desk's jobs, newest first (JobLog.list). */
export function registerJobList(job: Command, program: Command, io: CliIo): void {
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
        const widths = [12, 22, 18, 10, 20];
        println(io.stdout, pad(['ID', 'KIND', 'STATE', 'AGENT', 'UPDATED', 'REASON'], widths));
        for (const r of rows) {
          const updated = new Date(r.updatedAt).toISOString().slice(0, 19).replace('T', ' ');
          println(
            io.stdout,
            pad(
              [
                r.id.slice(0, 12),
                kindLabel(r.kind),
                r.state,
                nameOf(names, r.agent),
                updated,
                r.reason ?? '',
              ],
              widths,
            ),
          );
        }
      } finally {
        log.close();
      }
    });
}

function parseStates(text: string): JobStateName[] {
  const states = text.split(',').map((s) => s.trim());
  for (const s of states) {
    if (!(JOB_STATES as readonly string[]).includes(s))
      throw new CliError(`unknown state "${s}" (states: ${JOB_STATES.join(', ')})`, 2);
  }
  return states as JobStateName[];
}
