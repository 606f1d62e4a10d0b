import { AUCTION_OPEN_KIND, AUCTION_RECORD_KIND } from '../../auction/kinds.ts';
import type { EventTemplate } from '../../core/nostr.ts';
import { type SpanHandle, type Tracing, traceparentOf, withTraceTag } from '../../core/tracing.ts';
import type { JobAppended, JobLog } from '../../dvm/job-log.ts';
import type { JobStateName, JobView } from '../../dvm/job-state.ts';
import { ASSIGNMENT_KIND, FEEDBACK_KIND, FORWARD_KIND } from '../../dvm/kinds.ts';

/**
 * The desk's side of a job's trace (docs/observability.md, "Traces"), read from the job log's committed
 * appends: the job's root span (named by its request id, so the relay's ingest span and the agents' spans
 * join it), one span per state the job went through (the auction, the payment, the wait for the agent, the
 * execution as the desk saw it), and the root's end with the job's outcome. The events the desk publishes
 * for the job carry the root as a `traceparent` tag, so bidders, the winner and a peer desk continue it.
 */

/** The span of each state, recorded when the job leaves it. */
const PHASES: Partial<Record<JobStateName, string>> = {
  posted: 'desk.intake',
  'awaiting-approval': 'desk.approval',
  bidding: 'desk.auction',
  'awaiting-payment': 'desk.payment',
  assigned: 'desk.assigned',
  executing: 'desk.execution',
};

const TERMINAL: ReadonlySet<JobStateName> = new Set(['completed', 'failed', 'cancelled', 'forwarded']);

/** The desk's events for a job that carry its `traceparent` (not its labels: those are reputation, kept clean). */
const TAGGED_KINDS: ReadonlySet<number> = new Set([
  FEEDBACK_KIND,
  ASSIGNMENT_KIND,
  AUCTION_OPEN_KIND,
  AUCTION_RECORD_KIND,
  FORWARD_KIND,
]);

/** Open roots kept at most; the oldest is ended (marked evicted) past it, so a stuck job never leaks. */
const MAX_OPEN = 10_000;

export interface JobTracesOptions {
  tracing: Tracing;
  log: JobLog;
  /** The persona of an agent (a bounded name, or `peer`), for the spans' attributes. */
  personaOf: (pubkey: string | undefined) => string;
}

export class JobTraces {
  readonly #o: JobTracesOptions;
  readonly #roots = new Map<string, SpanHandle>();
  #unlisten: (() => void) | undefined;

  constructor(options: JobTracesOptions) {
    this.#o = options;
  }

  /** Follows the job log (nothing at all when tracing is off). */
  start(): void {
    if (!this.#o.tracing.enabled || this.#unlisten) return;
    this.#unlisten = this.#o.log.onAppend((a) => this.#appended(a));
  }

  stop(): void {
    this.#unlisten?.();
    this.#unlisten = undefined;
  }

  /** The outbox's `decorate`: the job's root as a `traceparent` tag on the events agents and peers read. */
  decorate = (jobId: string, template: EventTemplate): EventTemplate => {
    if (!this.#o.tracing.enabled || !TAGGED_KINDS.has(template.kind)) return template;
    let root = this.#roots.get(jobId);
    if (!root) {
      const view = this.#o.log.get(jobId);
      if (!view) return template;
      root = this.#root(view);
    }
    return { ...template, tags: withTraceTag(template.tags, root) };
  };

  /** The log fields of a job's root (for the desk's log lines about it); empty when not traced. */
  logFields(jobId: string): Readonly<Record<string, string>> {
    return this.#roots.get(jobId)?.logFields ?? {};
  }

  /**
   * The job's root: made when first needed, starting when the job was posted. A job a peer forwarded here
   * continues the forwarding desk's span (the forward's tag); any other continues the customer's
   * `traceparent` if the request has one.
   */
  #root(view: JobView): SpanHandle {
    const open = this.#roots.get(view.id);
    if (open) return open;
    const attributes = { 'timmy.job.kind': view.kind, 'timmy.job.id': view.id };
    const forwardedBy = forwardTraceparent(view);
    const root = forwardedBy
      ? this.#o.tracing.start('job', {
          parent: { traceparent: forwardedBy },
          attributes: { ...attributes, 'timmy.job.forwarded_in': true },
          startMs: view.createdAt,
        })
      : this.#o.tracing.jobRoot(view.id, {
          parent: { traceparent: traceparentOf(view.request) },
          attributes,
          startMs: view.createdAt,
        });
    this.#roots.set(view.id, root);
    if (this.#roots.size > MAX_OPEN) {
      const [oldest, span] = this.#roots.entries().next().value as [string, SpanHandle];
      span.set({ 'timmy.trace.evicted': true });
      span.end();
      this.#roots.delete(oldest);
    }
    return root;
  }

  #appended({ type, from, view }: JobAppended): void {
    const to = view.state;
    if (from === to || from === undefined) return;
    const root = this.#root(view);
    const entered = [...view.history].reverse().find((h, i) => i > 0 && h.state === from);
    // A paid job goes back to the state it was in when payment was asked: that stretch is the payment's
    // aftermath (the assignment), not a second auction.
    const name = entered?.entry === 'paid' ? 'desk.after-payment' : PHASES[from];
    if (name) {
      const span = this.#o.tracing.start(name, {
        parent: { span: root },
        attributes: this.#phaseAttributes(from, view, type),
        ...(entered ? { startMs: entered.at } : {}),
      });
      span.end(to === 'failed' || to === 'cancelled' ? (view.reason ?? to) : undefined, view.updatedAt);
    }
    if (TERMINAL.has(to)) {
      root.set({ 'timmy.job.outcome': to, 'timmy.job.attempts': view.attempt });
      if (view.agent) root.set({ 'timmy.agent': this.#o.personaOf(view.agent) });
      root.end(to === 'failed' || to === 'cancelled' ? (view.reason ?? to) : undefined, view.updatedAt);
      this.#roots.delete(view.id);
    }
  }

  #phaseAttributes(state: JobStateName, view: JobView, type: string): Record<string, string | number> {
    const out: Record<string, string | number> = { 'timmy.job.next': type };
    if (state === 'bidding' || state === 'assigned' || state === 'executing')
      out['timmy.job.attempt'] = view.attempt;
    if ((state === 'assigned' || state === 'executing') && view.agent)
      out['timmy.agent'] = this.#o.personaOf(view.agent);
    if (state === 'awaiting-payment' && view.payment)
      out['timmy.payment.sats'] = Math.floor(view.payment.amountMsats / 1000);
    return out;
  }
}

/** The `traceparent` of the forward that brought a job here (recorded as the `forwarded-from` effect). */
function forwardTraceparent(view: JobView): string | undefined {
  const origin = view.effects['forwarded-from'];
  if (typeof origin !== 'object' || origin === null) return undefined;
  const tp = (origin as { traceparent?: unknown }).traceparent;
  return typeof tp === 'string' ? tp : undefined;
}
