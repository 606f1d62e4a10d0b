import type { Command } from 'commander';
import { decideJob, OperatorError } from '../../../agents/desk/operator.ts';
import { findJob } from '../../../agents/job-record.ts';
import { makeContext } from '../../context.ts';
import { CliError, type CliIo, printJson, println } from '../../io.ts';
import { lookingUp, requireLog } from './records.ts';

/** `timmy job approve|reject <id>`: the operator's decision on a job held for approval (decideJob). */
export function registerJobDecide(job: Command, program: Command, io: CliIo): void {
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
          const view = lookingUp(() => findJob(log, id));
          let after: ReturnType<typeof decideJob>;
          try {
            after = decideJob(log, view, verb, opts.by, opts.reason);
          } catch (err) {
            if (err instanceof OperatorError) throw new CliError(err.message, 1);
            throw err;
          }
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
}
