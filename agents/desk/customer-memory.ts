import { type Clock, systemClock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { JobAppended } from '../../dvm/job-log.ts';
import { isTerminal, type JobView } from '../../dvm/job-state.ts';
import { jobKindInfo } from '../../dvm/kinds.ts';
import { isEncryptedRequest } from '../../dvm/request.ts';
import { encodeNpub } from '../../identity/nip19.ts';
import type { Memories } from '../../memory/memories.ts';
import type { MemoryFilter } from '../../memory/types.ts';

/**
 * Timmy remembers customers and past jobs (docs/memory.md): when a job ends (completed, failed, cancelled or
 * forwarded), the desk's namespace (the coordinator's name) gets an episodic memory of that job (the
 * customer, the kind, a short excerpt of a plaintext request's text, who did it, the outcome, the sats), and
 * the one semantic memory it keeps per customer (jobs, kinds, how they pay, last seen) is replaced by an
 * updated one. Both carry `meta.customer` = the customer's hex pubkey, which is how an agent working for
 * that customer recalls them (cli/compose-agents.ts) and how `timmy memory forget --customer` finds them.
 * An encrypted request's text is never stored: only the fact of the job.
 */

const EXCERPT_CHARS = 200;

/** The desk's running tally of one customer, kept in its semantic memory's metadata. */
export interface CustomerTally {
  jobs: number;
  outcomes: Record<string, number>;
  kinds: Record<string, number>;
  /** Jobs whose invoice was paid and that were delivered, and their sats. */
  paidJobs: number;
  paidSats: number;
  /** Paid, then refunded (the job failed or was cancelled). */
  refundedJobs: number;
  /** Asked to pay and did not. */
  unpaidJobs: number;
  /** No payment asked (payments off, a trusted customer, a forward). */
  freeJobs: number;
  encryptedJobs: number;
  firstSeen: number;
  lastSeen: number;
}

export interface CustomerJob {
  view: JobView;
  /** The customer's display name, when the desk knows it. */
  name?: string;
  /** Who did it: an agent's persona name, or a description of a peer's agent. */
  agent?: string;
  /** When it ended (ms). */
  at: number;
}

function sats(msats: number): number {
  return Math.floor(msats / 1000);
}

function flat(text: string, max = EXCERPT_CHARS): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function kindName(kind: number | string): string {
  const title = jobKindInfo(Number(kind))?.title;
  return title ? `${kind} (${title.toLowerCase()})` : String(kind);
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The customer as a memory names them: display name and npub. */
export function customerLabel(pubkey: string, name?: string): string {
  const npub = encodeNpub(pubkey);
  return name ? `${flat(name, 64)} (${npub})` : npub;
}

/** What a plaintext request asked: its text inputs, else the kinds of its inputs; bounded. */
function asked(view: JobView): string {
  const inputs = view.request.tags.filter((t) => t[0] === 'i');
  const texts = inputs.filter((t) => t[2] === 'text' || t[2] === 'prompt').map((t) => t[1] ?? '');
  if (texts.length > 0) return `"${flat(texts.join(' '))}"`;
  if (inputs.length > 0) return flat(inputs.map((t) => `a ${t[2] ?? ''} input ${t[1] ?? ''}`).join(', '));
  return 'nothing (no inputs)';
}

function outcome(job: CustomerJob): string {
  const v = job.view;
  const who = job.agent ? ` by ${job.agent}` : '';
  switch (v.state) {
    case 'completed':
      return `done${who}`;
    case 'failed':
      return `failed${who}${v.reason ? `: ${flat(v.reason, 120)}` : ''}`;
    case 'cancelled':
      return `cancelled${v.reason ? `: ${flat(v.reason, 120)}` : ''}`;
    case 'forwarded':
      return 'forwarded to a peer desk';
    default:
      return v.state;
  }
}

function payment(v: JobView): string {
  const p = v.payment;
  if (!p) return 'no payment asked';
  if (!p.paid) return `asked ${sats(p.amountMsats)} sats, not paid`;
  return v.state === 'completed'
    ? `paid ${sats(p.amountMsats)} sats`
    : `${sats(p.amountMsats)} sats refunded`;
}

/** The episodic memory of one finished job, as the desk keeps it. */
export function jobEpisode(job: CustomerJob): { content: string; meta: Record<string, unknown> } {
  const v = job.view;
  const encrypted = isEncryptedRequest(v.request);
  const what = encrypted ? 'an encrypted request (its text stays private)' : asked(v);
  const content = `Job of kind ${kindName(v.kind)} for customer ${customerLabel(v.customer, job.name)} on ${day(job.at)}: asked ${what}; ${outcome(job)}; ${payment(v)}.`;
  return {
    content,
    meta: {
      customer: v.customer,
      job: v.id,
      kind: v.kind,
      outcome: v.state,
      ...(job.agent ? { agent: job.agent } : {}),
      sats: v.payment?.paid && v.state === 'completed' ? sats(v.payment.amountMsats) : 0,
    },
  };
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The tally after one more job. */
export function addJob(before: CustomerTally | undefined, job: CustomerJob): CustomerTally {
  const v = job.view;
  const t: CustomerTally = before
    ? { ...before, outcomes: { ...before.outcomes }, kinds: { ...before.kinds } }
    : {
        jobs: 0,
        outcomes: {},
        kinds: {},
        paidJobs: 0,
        paidSats: 0,
        refundedJobs: 0,
        unpaidJobs: 0,
        freeJobs: 0,
        encryptedJobs: 0,
        firstSeen: v.createdAt,
        lastSeen: job.at,
      };
  t.jobs += 1;
  t.outcomes[v.state] = (t.outcomes[v.state] ?? 0) + 1;
  t.kinds[String(v.kind)] = (t.kinds[String(v.kind)] ?? 0) + 1;
  if (!v.payment) t.freeJobs += 1;
  else if (!v.payment.paid) t.unpaidJobs += 1;
  else if (v.state === 'completed') {
    t.paidJobs += 1;
    t.paidSats += sats(v.payment.amountMsats);
  } else t.refundedJobs += 1;
  if (isEncryptedRequest(v.request)) t.encryptedJobs += 1;
  t.firstSeen = Math.min(t.firstSeen, v.createdAt);
  t.lastSeen = Math.max(t.lastSeen, job.at);
  return t;
}

/** The semantic memory of a customer: what the desk knows of them, in one sentence or three. */
export function customerSummary(pubkey: string, name: string | undefined, t: CustomerTally): string {
  const outcomes = Object.entries(t.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  const kinds = Object.entries(t.kinds)
    .sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]))
    .map(([kind, n]) => `${kindName(kind)} ×${n}`)
    .join(', ');
  const pays: string[] = [];
  if (t.paidJobs > 0)
    pays.push(`pays by Lightning (${t.paidSats} sats over ${count(t.paidJobs, 'paid job')})`);
  if (t.refundedJobs > 0) pays.push(`${count(t.refundedJobs, 'payment')} refunded`);
  if (t.unpaidJobs > 0) pays.push(`${count(t.unpaidJobs, 'invoice')} left unpaid`);
  if (t.freeJobs > 0) pays.push(`${count(t.freeJobs, 'job')} without payment`);
  const encrypted = t.encryptedJobs > 0 ? ` ${count(t.encryptedJobs, 'request')} encrypted.` : '';
  return `Customer ${customerLabel(pubkey, name)}: ${count(t.jobs, 'job')} with this desk since ${day(t.firstSeen)} (${outcomes}); kinds ${kinds}; ${pays.join(', ')}; last seen ${day(t.lastSeen)}.${encrypted}`;
}

function tallyOf(meta: Record<string, unknown> | undefined): CustomerTally | undefined {
  const t = meta?.tally as CustomerTally | undefined;
  return t && typeof t === 'object' && typeof t.jobs === 'number' && typeof t.outcomes === 'object'
    ? t
    : undefined;
}

/** One customer's memories in the desk's namespace (the summary, or their jobs). */
export function customerFilter(agent: string, customer: string, kind: 'semantic' | 'episodic'): MemoryFilter {
  return { agent, kinds: [kind], meta: { customer } };
}

export interface CustomerMemoryOptions {
  memories: Memories;
  /** The desk's namespace: the coordinator's name in the persona file. */
  agent: string;
  /** An agent's name by pubkey (the roster's); a peer's agent otherwise. */
  agentName: (pubkey: string) => string | undefined;
  /** The customer's display name, when the desk can find it (their kind 0); never fails a memory. */
  nameOf?: (pubkey: string) => Promise<string | undefined>;
  logger: Logger;
  clock?: Clock;
}

/**
 * Fed by the job log's committed appends (`JobLog.onAppend`): each job that ends is remembered, one at a
 * time, after the commit; a memory that cannot be written is logged and the job is not affected.
 */
export class CustomerMemory {
  private readonly o: CustomerMemoryOptions;
  private readonly clock: Clock;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(options: CustomerMemoryOptions) {
    this.o = options;
    this.clock = options.clock ?? systemClock;
  }

  /** The listener for `JobLog.onAppend`: a transition into a terminal state is remembered. */
  readonly appended = (a: JobAppended): void => {
    if (this.stopped || a.from === undefined || isTerminal(a.from) || !isTerminal(a.view.state)) return;
    const view = a.view;
    const at = this.clock.now();
    this.chain = this.chain
      .then(() => this.remember(view, at))
      .catch((err: unknown) =>
        this.o.logger.warn({ job: view.id, err: errorMessage(err) }, 'the desk did not remember the job'),
      );
  };

  /** Remembers a finished job and updates its customer's summary (idempotent per job). */
  async remember(view: JobView, at = this.clock.now()): Promise<void> {
    const { memories, agent } = this.o;
    const episodes = customerFilter(agent, view.customer, 'episodic');
    if (memories.find({ ...episodes, meta: { customer: view.customer, job: view.id } }, 1).length > 0) return;
    const name = await this.o.nameOf?.(view.customer).catch(() => undefined);
    const worker =
      view.agent === undefined
        ? undefined
        : (this.o.agentName(view.agent) ?? `a peer's agent ${encodeNpub(view.agent).slice(0, 16)}…`);
    const job: CustomerJob = { view, at, ...(name ? { name } : {}), ...(worker ? { agent: worker } : {}) };
    const episode = jobEpisode(job);
    await memories.remember({ agent, kind: 'episodic', content: episode.content, meta: episode.meta });
    const match = customerFilter(agent, view.customer, 'semantic');
    const tally = addJob(tallyOf(memories.find(match, 1)[0]?.meta), job);
    await memories.replace(match, {
      agent,
      kind: 'semantic',
      content: customerSummary(view.customer, name, tally),
      importance: 0.8,
      meta: { customer: view.customer, tally },
    });
  }

  /** Stops taking jobs; resolves when those under way are remembered. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
  }
}
