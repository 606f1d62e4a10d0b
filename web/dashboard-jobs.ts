import type { JobLog, JobSummary } from '../dvm/job-log.ts';
import {
  JOB_STATES,
  type JobEntry,
  type JobLogEntry,
  type JobStateName,
  type JobView,
} from '../dvm/job-state.ts';
import type { JobDetail, JobList, JobRow, JobTimelineItem } from './api-types.ts';

/** The dashboard's job views, read from the desk's job log (dvm/job-log.ts). */

/** The treasury's word on a job's payment, when payments are on. */
export interface JobPaymentFacts {
  state: string;
  amountMsats: number;
  priceMsats?: number;
  invoice?: string;
  paymentHash?: string;
}

export type JobPaymentLookup = (jobId: string) => JobPaymentFacts | undefined;

export class BadQuery extends Error {}

export interface JobQuery {
  states?: JobStateName[];
  kind?: number;
  agent?: string;
  limit: number;
  before?: number;
}

/** `?state=&kind=&agent=&limit=&before=` checked; throws BadQuery with the reason. */
export function parseJobQuery(params: URLSearchParams): JobQuery {
  const q: JobQuery = { limit: 50 };
  const state = params.get('state');
  if (state) {
    const states = state.split(',');
    for (const s of states)
      if (!(JOB_STATES as readonly string[]).includes(s))
        throw new BadQuery(`unknown state "${s}" (one of ${JOB_STATES.join(', ')})`);
    q.states = states as JobStateName[];
  }
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = params.get(name);
    if (v === null || v === '') return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
      throw new BadQuery(`${name} must be a whole number from ${min} to ${max}`);
    return Number(v);
  };
  const kind = int('kind', 0, 65535);
  if (kind !== undefined) q.kind = kind;
  q.limit = int('limit', 1, 500) ?? 50;
  const before = int('before', 0, Number.MAX_SAFE_INTEGER);
  if (before !== undefined) q.before = before;
  const agent = params.get('agent');
  if (agent) {
    if (!/^[0-9a-f]{64}$/.test(agent)) throw new BadQuery('agent must be a 64-hex public key');
    q.agent = agent;
  }
  return q;
}

/** A page of jobs, most recently updated first; `next` is the `before` of the next page. */
export function listJobs(log: JobLog, q: JobQuery, payment?: JobPaymentLookup): JobList {
  const rows: JobSummary[] = [];
  let before = q.before;
  // Kind and agent are filtered here (the log lists by state): read pages until the page is full.
  for (let round = 0; round < 20 && rows.length < q.limit; round++) {
    const page = log.list({
      ...(q.states ? { states: q.states } : {}),
      limit: 200,
      ...(before !== undefined ? { before } : {}),
    });
    for (const s of page) {
      if (q.kind !== undefined && s.kind !== q.kind) continue;
      if (q.agent !== undefined && s.agent !== q.agent) continue;
      rows.push(s);
      if (rows.length >= q.limit) break;
    }
    if (page.length < 200) {
      before = undefined;
      break;
    }
    before = page.at(-1)?.updatedAt;
  }
  const jobs = rows.map((s) => rowOf(s, payment?.(s.id)));
  const last = rows.at(-1);
  return rows.length >= q.limit && last ? { jobs, next: last.updatedAt } : { jobs };
}

export function rowOf(s: JobSummary | JobView, pay?: JobPaymentFacts): JobRow {
  const view = 'request' in s ? s : undefined;
  const row: JobRow = {
    id: s.id,
    kind: s.kind,
    customer: s.customer,
    state: s.state,
    attempt: s.attempt,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
  if (s.agent) row.agent = s.agent;
  const price = pay?.priceMsats ?? pay?.amountMsats ?? view?.payment?.amountMsats;
  if (price !== undefined) row.priceMsats = price;
  const state = pay?.state ?? (view?.payment ? (view.payment.paid ? 'paid' : 'invoiced') : undefined);
  if (state) row.payment = state;
  return row;
}

export function jobDetail(
  log: JobLog,
  id: string,
  coordinator: string,
  payment?: JobPaymentLookup,
): JobDetail | undefined {
  const view = log.get(id);
  if (!view) return undefined;
  const pay = payment?.(id);
  const detail: JobDetail = {
    ...rowOf(view, pay),
    request: view.request,
    approved: view.approved,
    timeline: timelineOf(log.entries(id)),
    coordinator,
  };
  if (view.result) detail.result = view.result;
  if (view.reason) detail.reason = view.reason;
  if (pay || view.payment) {
    detail.paymentDetail = {
      state: pay?.state ?? (view.payment?.paid ? 'paid' : 'invoiced'),
      amountMsats: pay?.amountMsats ?? view.payment?.amountMsats,
      invoice: pay?.invoice ?? view.payment?.bolt11,
      ...(pay?.paymentHash ? { paymentHash: pay.paymentHash } : {}),
      refunded: pay?.state === 'refunded',
    };
  }
  return detail;
}

/** The log's entries as the timeline shows them (state after each, short facts), records but notes left out. */
export function timelineOf(entries: readonly JobLogEntry[]): JobTimelineItem[] {
  const out: JobTimelineItem[] = [];
  let state = 'posted';
  for (const { at, entry } of entries) {
    state = stateAfter(entry, state);
    if (entry.type === 'effect' || entry.type === 'published') continue;
    const detail = detailOf(entry);
    out.push({ type: entry.type, state, at, ...(detail ? { detail } : {}) });
  }
  return out;
}

function stateAfter(entry: JobEntry, state: string): string {
  switch (entry.type) {
    case 'posted':
    case 'approved':
    case 'agent-lost':
      return 'posted';
    case 'approval-required':
      return 'awaiting-approval';
    case 'rejected':
    case 'cancelled':
      return 'cancelled';
    case 'bidding':
      return 'bidding';
    case 'assigned':
      return 'assigned';
    case 'started':
      return 'executing';
    case 'payment-required':
      return 'awaiting-payment';
    case 'completed':
      return 'completed';
    case 'failed':
      return 'failed';
    case 'forwarded':
      return 'forwarded';
    default:
      return state;
  }
}

const short = (hex: string): string => `${hex.slice(0, 12)}…`;

function detailOf(entry: JobEntry): string | undefined {
  switch (entry.type) {
    case 'approval-required':
      return entry.reason;
    case 'approved':
      return `by ${entry.by}`;
    case 'rejected':
      return `by ${entry.by}${entry.reason ? `: ${entry.reason}` : ''}`;
    case 'bidding':
      return `bids until ${new Date(entry.until).toISOString()}`;
    case 'assigned':
      return `agent ${short(entry.agent)}, attempt ${entry.attempt}`;
    case 'started':
      return `agent ${short(entry.agent)}`;
    case 'agent-lost':
      return `agent ${short(entry.agent)}: ${entry.reason}`;
    case 'payment-required':
      return `${Math.ceil(entry.amountMsats / 1000)} sats`;
    case 'completed':
      return `result ${short(entry.result.id)} by ${short(entry.agent)}`;
    case 'failed':
    case 'cancelled':
      return entry.reason;
    case 'forwarded':
      return `to desk ${short(entry.to)} on ${entry.relay}`;
    case 'outbox':
      return `${entry.key}: kind ${entry.event.kind}`;
    case 'note':
      return entry.text;
    default:
      return undefined;
  }
}
