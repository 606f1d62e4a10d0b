import type { Command } from 'commander';
import type { CliIo } from '../../io.ts';
import { registerJobDecide } from './decide.ts';
import { registerJobList } from './list.ts';
import { registerJobReplay } from './replay.ts';
import { registerJobShow } from './show.ts';
import { registerJobSubmit } from './submit.ts';

/** `timmy job …`: submit a job as a customer, and read or steer the instance's job log. */
export function registerJob(program: Command, io: CliIo, result: { code: number }): void {
  const job = program.command('job').description('submit NIP-90 jobs and manage the job log');
  registerJobSubmit(job, program, io, result);
  registerJobList(job, program, io);
  registerJobShow(job, program, io);
  registerJobDecide(job, program, io);
  registerJobReplay(job, program, io, result);
}
