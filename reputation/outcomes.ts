/**
 * The label a customer (Timmy for the jobs he brokers, or any customer) publishes when a job ends, from what
 * happened. The mapping (docs/reputation.md):
 *
 * | outcome | label type |
 * | --- | --- |
 * | completed, no rating | work-completed |
 * | completed, rated ≥ 0.5 | service-quality (the rating in a `quality` tag) |
 * | completed, rated < 0.5 | warning |
 * | failed, or missed its deadline, not paid | warning |
 * | failed, or missed its deadline, after a settled payment | dispute (money was lost) |
 * | disputed by the customer | dispute |
 * | a bid not revealed or invalid in an auction | warning |
 *
 * Pure: the caller signs the template.
 */
import type { EventTemplate } from '../core/nostr.ts';
import { buildLabel, type LabelInput, type LabelType } from './labels.ts';

export interface LabelPayment {
  invoice: string;
  /** Present once the payment settled: what makes the evidence proven. */
  preimage?: string;
}

interface JobRef {
  /** The agent rated. */
  worker: string;
  jobKind: number;
  /** The job request's id. */
  request: string;
  /** When the label is written, unix seconds. */
  at: number;
}

export type JobOutcome =
  | (JobRef & { outcome: 'completed'; result: string; payment?: LabelPayment; quality?: number })
  | (JobRef & { outcome: 'failed'; reason?: string; result?: string; payment?: LabelPayment })
  | (JobRef & { outcome: 'missed-deadline'; payment?: LabelPayment })
  | (JobRef & { outcome: 'disputed'; reason: string; result?: string; payment?: LabelPayment })
  /** An auction bid not revealed (`no-opening`) or invalid (the auction's reason). */
  | (JobRef & { outcome: 'bad-bid'; reason: string });

const QUALITY_THRESHOLD = 0.5;

const settled = (payment: LabelPayment | undefined): boolean =>
  payment?.preimage !== undefined && payment.preimage !== '';

/** The label type an outcome gives (the table above). */
export function labelTypeForOutcome(o: JobOutcome): LabelType {
  switch (o.outcome) {
    case 'completed':
      if (o.quality === undefined) return 'work-completed';
      return o.quality >= QUALITY_THRESHOLD ? 'service-quality' : 'warning';
    case 'failed':
    case 'missed-deadline':
      return settled(o.payment) ? 'dispute' : 'warning';
    case 'disputed':
      return 'dispute';
    case 'bad-bid':
      return 'warning';
  }
}

function comment(o: JobOutcome): string {
  const job = `job ${o.request.slice(0, 12)} (kind ${o.jobKind})`;
  switch (o.outcome) {
    case 'completed':
      return o.quality === undefined ? `${job} completed` : `${job} completed, rated ${o.quality}`;
    case 'failed':
      return `${job} failed${o.reason ? `: ${o.reason}` : ''}`;
    case 'missed-deadline':
      return `${job} missed its deadline`;
    case 'disputed':
      return `${job} disputed: ${o.reason}`;
    case 'bad-bid':
      return `${job}: auction bid ${o.reason}`;
  }
}

/** The kind 1985 template for a job's outcome, about the worker. */
export function labelForOutcome(o: JobOutcome): EventTemplate {
  const input: LabelInput = {
    subject: o.worker,
    type: labelTypeForOutcome(o),
    createdAt: o.at,
    jobKind: o.jobKind,
    request: o.request,
    outcome: o.outcome,
    comment: comment(o),
  };
  if ('result' in o && o.result !== undefined) input.result = o.result;
  if ('payment' in o && o.payment !== undefined) input.payment = o.payment;
  if (o.outcome === 'completed' && o.quality !== undefined) input.quality = o.quality;
  return buildLabel(input);
}
