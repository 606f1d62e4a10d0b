import type { JobLog } from '../../dvm/job-log.ts';
import type { JobView } from '../../dvm/job-state.ts';

/** A decision the job's state does not allow. */
export class OperatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperatorError';
  }
}

/**
 * The operator's decision on a job held for approval (`dvm.approvalKinds`, `dvm.approvalAgents`), recorded in
 * the desk's job log from any process: the running desk picks it up within a second (an approved job goes on;
 * a rejected one is cancelled and the customer reads the reason). Returns the job after the change.
 */
export function decideJob(
  log: JobLog,
  job: JobView,
  decision: 'approve' | 'reject',
  by: string,
  reason = '',
): JobView {
  if (job.state !== 'awaiting-approval')
    throw new OperatorError(`job ${job.id.slice(0, 12)} is ${job.state}, not awaiting approval`);
  return decision === 'approve'
    ? log.append(job.id, { type: 'approved', by }).view
    : log.append(job.id, { type: 'rejected', by, reason }).view;
}
