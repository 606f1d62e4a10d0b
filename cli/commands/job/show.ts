import type { Command } from 'commander';
import { jobRecord } from '../../../agents/job-record.ts';
import { agentNames, nameOf } from '../../agent-names.ts';
import { makeContext } from '../../context.ts';
import { type CliIo, printJson, println } from '../../io.ts';
import {
  clip,
  describeEntry,
  describeRecord,
  kindLabel,
  lookingUp,
  openWorkLog,
  requireLog,
} from './records.ts';

/** `timmy job show <id>`: the desk's log of one job and what each of its agents recorded (jobRecord). */
export function registerJobShow(job: Command, program: Command, io: CliIo): void {
  job
    .command('show')
    .description('one job: its request, every transition and record, its result')
    .argument('<id>', 'job id (the request event id, or a unique prefix of at least 6 characters)')
    .option('--json', 'print JSON (the job view and its log entries)')
    .action(async (id: string, opts: { json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const log = requireLog(ctx.dataDir, true);
      const work = openWorkLog(ctx.dataDir);
      try {
        const { job: view, entries, agents } = lookingUp(() => jobRecord(log, work, id));
        if (opts.json) {
          printJson(io.stdout, { job: view, entries, agents: Object.fromEntries(agents) });
          return;
        }
        const names = await agentNames(ctx.dataDir);
        println(io.stdout, `job      ${view.id}`);
        println(io.stdout, `kind     ${kindLabel(view.kind)}`);
        println(io.stdout, `customer ${nameOf(names, view.customer)}`);
        println(io.stdout, `state    ${view.state}${view.reason ? ` (${view.reason})` : ''}`);
        println(io.stdout, `agent    ${nameOf(names, view.agent)}  attempt ${view.attempt}`);
        for (const i of view.request.tags.filter((t) => t[0] === 'i'))
          println(io.stdout, `input    ${i[2] ?? 'text'}: ${clip(i[1] ?? '', 100)}`);
        println(io.stdout, '');
        for (const e of entries) {
          const at = new Date(e.at).toISOString().slice(11, 23);
          println(io.stdout, `${String(e.seq).padStart(6)} ${at}  ${describeEntry(e.entry, names)}`);
        }
        for (const [agent, records] of agents) {
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
        work?.close();
        log.close();
      }
    });
}
