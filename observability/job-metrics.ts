/**
 * The job metrics, fed by the job log's committed appends (`JobLog.onAppend`, dvm/job-log.ts): tasks by
 * outcome and persona, state-machine transitions, auction and job durations, payments and refunds. The
 * types here are the structural part of `JobAppended` this needs (observability/ sits above dvm/).
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface AppendedJob {
  type: string;
  /** The state the job left (undefined for its first entry). */
  from: string | undefined;
  view: {
    kind: number;
    state: string;
    agent: string | undefined;
    createdAt: number;
    updatedAt: number;
    payment?: { paid: boolean; amountMsats: number };
    history: readonly { state: string; at: number }[];
  };
}

const TERMINAL: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'forwarded']);

export interface JobMetrics {
  /**
   * One committed append. `personaOf` names the job's agent (a local persona, or a bounded word such as
   * `peer`), never its npub.
   */
  appended(appended: AppendedJob, personaOf: (pubkey: string | undefined) => string): void;
}

/** A job kind as a label: the NIP-90 request kinds (5000-5999) by number, anything else `other`. */
export function kindLabel(kind: number): string {
  return Number.isInteger(kind) && kind >= 5000 && kind <= 5999 ? String(kind) : 'other';
}

export function jobMetrics(registry: Registry): JobMetrics {
  const registers = [registry];
  const tasks = new Counter({
    name: 'timmy_tasks_total',
    help: 'Jobs that ended, by status (completed, failed, cancelled, forwarded) and the persona of their agent',
    labelNames: ['status', 'persona'],
    registers,
  });
  const posted = new Counter({
    name: 'timmy_jobs_posted_total',
    help: 'Job requests the desk took, by kind',
    labelNames: ['kind'],
    registers,
  });
  const transitions = new Counter({
    name: 'timmy_job_transitions_total',
    help: "Moves of the desk's job state machine, by the state left and the state entered",
    labelNames: ['from', 'to'],
    registers,
  });
  const duration = new Histogram({
    name: 'timmy_job_duration_seconds',
    help: 'From a request posted to its job ending, by kind and status',
    labelNames: ['kind', 'status'],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers,
  });
  const auction = new Histogram({
    name: 'timmy_auction_duration_seconds',
    help: 'From an auction opened (bidding) to its job leaving the bidding state',
    buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60],
    registers,
  });
  const payments = new Counter({
    name: 'timmy_payments_total',
    help: 'Job payments received (the invoice paid)',
    registers,
  });
  const paidSats = new Counter({
    name: 'timmy_payments_sats_total',
    help: 'Sats received in job payments',
    registers,
  });
  const refunds = new Counter({
    name: 'timmy_refunds_total',
    help: 'Paid jobs that failed or were cancelled (their hold invoice cancelled: the customer refunded)',
    registers,
  });
  const refundedSats = new Counter({
    name: 'timmy_refunds_sats_total',
    help: 'Sats refunded to customers',
    registers,
  });
  return {
    appended({ type, from, view }, personaOf) {
      const to = view.state;
      if (from === undefined) posted.inc({ kind: kindLabel(view.kind) });
      if (from === to) return;
      transitions.inc({ from: from ?? 'none', to });
      if (from === 'bidding') {
        const opened = [...view.history].reverse().find((h) => h.state === 'bidding');
        if (opened) auction.observe(Math.max(0, view.updatedAt - opened.at) / 1000);
      }
      if (type === 'paid' && view.payment) {
        payments.inc();
        paidSats.inc(Math.floor(view.payment.amountMsats / 1000));
      }
      if (!TERMINAL.has(to)) return;
      tasks.inc({ status: to, persona: personaOf(view.agent) });
      duration.observe(
        { kind: kindLabel(view.kind), status: to },
        Math.max(0, view.updatedAt - view.createdAt) / 1000,
      );
      if ((to === 'failed' || to === 'cancelled') && view.payment?.paid) {
        refunds.inc();
        refundedSats.inc(Math.floor(view.payment.amountMsats / 1000));
      }
    },
  };
}
