import type { Command } from 'commander';
import { findJob, replayRecorded } from '../../../agents/job-record.ts';
import { isTerminal } from '../../../dvm/job-state.ts';
import { makeContext } from '../../context.ts';
import { CliError, type CliIo, printJson, println } from '../../io.ts';
import { clip, lookingUp, openWorkLog, requireLog } from './records.ts';

/** `timmy job replay <id>`: re-runs a finished job from its records and compares (replayRecorded). */
export function registerJobReplay(job: Command, program: Command, io: CliIo, result: { code: number }): void {
  job
    .command('replay')
    .description('re-run a finished or failed job from its recorded inputs and model outputs, and compare')
    .argument('<id>', 'job id or unique prefix')
    .option('--json', 'print the replay report as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const log = requireLog(ctx.dataDir, true);
      const work = openWorkLog(ctx.dataDir);
      try {
        const view = lookingUp(() => findJob(log, id));
        if (!isTerminal(view.state))
          throw new CliError(
            `job ${view.id.slice(0, 12)} is still ${view.state}; replay runs finished jobs`,
            1,
          );
        const report = await replayRecorded(log, work, view.id, {
          maxInputBytes: ctx.config.dvm.maxInputBytes,
        });
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
        work?.close();
        log.close();
      }
    });
}
