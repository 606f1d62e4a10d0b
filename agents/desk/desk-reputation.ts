import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { Signer } from '../../core/signer.ts';
import type { Publish, Subscribe, Subscription } from '../../core/transport.ts';
import type { JobLog } from '../../dvm/job-log.ts';
import type { JobView } from '../../dvm/job-state.ts';
import type { Escrow } from '../../payments/treasury.ts';
import { buildAssertion } from '../../reputation/assertions.ts';
import type { ReputationBook } from '../../reputation/book.ts';
import { LABEL_KIND, LABEL_NAMESPACE } from '../../reputation/labels.ts';
import { type JobOutcome, type LabelPayment, labelForOutcome } from '../../reputation/outcomes.ts';
import { DELETION_KIND } from '../../reputation/revocation.ts';
import type { ReputationScore } from '../../reputation/score.ts';
import type { Outbox } from '../outbox.ts';

export interface DeskReputationOptions {
  book: ReputationBook;
  /** The desk's own relay: labels and deletions are read there; labels and assertions published there. */
  relay: Publish & Subscribe;
  signer: Signer;
  log: JobLog;
  /** The desk's outbox: a job's labels are recorded with the job, then published (once, even after a crash). */
  outbox: Outbox;
  /** The job's escrow, for the payment evidence (its invoice; the preimage once settled). */
  escrow?: (jobId: string) => Escrow | undefined;
  /** Publish labels when jobs end (reputation.labels). */
  labels: boolean;
  /** Seconds between NIP-85 assertions about the roster's agents (reputation.assertionsIntervalSeconds; 0: off). */
  assertionsIntervalSeconds: number;
  /** Whose scores are asserted: the agents on the roster now. */
  subjects: () => readonly string[];
  clock: Clock;
  logger: Logger;
}

/**
 * The desk's side of reputation (docs/reputation.md): it reads every ai.wot label and deletion on its relay
 * into the book (scores for tie-breaks, invitations and the roster), labels the work it brokered when a job
 * ends (kind 1985: completed and paid, failed, missed deadlines, bad auction bids), and publishes its scores
 * as NIP-85 assertions (kind 30382) now and then.
 */
export class DeskReputation {
  private readonly log: Logger;
  private sub: Subscription | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly rejected = new Map<string, { id: string; reason: string }[]>();

  constructor(private readonly options: DeskReputationOptions) {
    this.log = options.logger.child({ component: 'reputation' });
  }

  start(): void {
    const { relay, book, assertionsIntervalSeconds } = this.options;
    this.sub = relay.subscribe(
      [
        { kinds: [LABEL_KIND], '#L': [LABEL_NAMESPACE] },
        { kinds: [DELETION_KIND], '#k': [String(LABEL_KIND)] },
      ],
      {
        onEvent: (e) => this.add(e),
        onClose: (reason) => this.log.warn({ reason }, 'label subscription closed by the relay'),
      },
    );
    // Trust is recomputed off the lookup path, so lookups stay cheap.
    const refresh = setInterval(() => {
      try {
        book.refresh();
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'reputation refresh failed');
      }
    }, 60_000);
    refresh.unref();
    this.timers.push(refresh);
    if (assertionsIntervalSeconds > 0) {
      const t = setInterval(() => void this.assert(), assertionsIntervalSeconds * 1000);
      t.unref();
      this.timers.push(t);
    }
  }

  stop(): void {
    this.sub?.close();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** A label or deletion from the relay (or handed in): into the book; a refused label's reason is kept. */
  add(event: NostrEvent): void {
    const r = this.options.book.add(event);
    if (r.status === 'rejected' && r.rejection.subject) {
      const list = this.rejected.get(r.rejection.subject) ?? [];
      list.push({ id: event.id, reason: r.rejection.reason });
      if (list.length > 20) list.shift();
      this.rejected.set(r.rejection.subject, list);
    }
  }

  /** The score (0-100) of `pubkey` for `kind` (overall when undefined). */
  score(pubkey: string, kind?: number): ReputationScore {
    return this.options.book.score(pubkey, kind);
  }

  /** Labels about `pubkey` the book refused, with the reasons (the last 20). */
  rejections(pubkey: string): readonly { id: string; reason: string }[] {
    return this.rejected.get(pubkey) ?? [];
  }

  /**
   * A job ended: label the agents it involved, from the job log (once per label, through the job's outbox).
   * Completed → work-completed with the payment as evidence; failed at the agent → warning (dispute when it
   * was paid); an agent lost mid-job → missed-deadline; an invalid or unrevealed auction bid → warning.
   */
  async jobEnded(view: JobView): Promise<void> {
    if (!this.options.labels) return;
    const at = Math.floor(this.options.clock.now() / 1000);
    const ref = { jobKind: view.kind, request: view.id, at };
    const payment = this.paymentOf(view.id);
    const outcomes: [string, JobOutcome][] = [];
    if (view.state === 'completed' && view.agent && view.result)
      outcomes.push([
        'label:completed',
        { ...ref, worker: view.agent, outcome: 'completed', result: view.result.id, payment },
      ]);
    if (view.state === 'failed' && view.agent)
      outcomes.push([
        'label:failed',
        { ...ref, worker: view.agent, outcome: 'failed', reason: view.reason, payment },
      ]);
    let lost = 0;
    for (const e of this.options.log.entries(view.id)) {
      if (e.entry.type === 'agent-lost')
        outcomes.push([
          `label:lost:${++lost}`,
          { ...ref, worker: e.entry.agent, outcome: 'missed-deadline' },
        ]);
    }
    for (const [key, value] of Object.entries(view.effects)) {
      if (!key.startsWith('penalties:') || !Array.isArray(value)) continue;
      for (const p of value as { bidder?: unknown; reason?: unknown }[]) {
        if (typeof p.bidder !== 'string' || typeof p.reason !== 'string') continue;
        outcomes.push([
          `label:${key}:${p.bidder.slice(0, 16)}`,
          { ...ref, worker: p.bidder, outcome: 'bad-bid', reason: p.reason },
        ]);
      }
    }
    for (const [key, outcome] of outcomes) {
      try {
        const { event } = await this.options.outbox.send(
          view.id,
          key,
          this.options.signer,
          labelForOutcome(outcome),
        );
        this.add(event);
      } catch (err) {
        this.log.warn({ job: view.id, key, err: errorMessage(err) }, 'labelling a job failed');
      }
    }
  }

  private paymentOf(jobId: string): LabelPayment | undefined {
    const e = this.options.escrow?.(jobId);
    if (!e?.invoice) return undefined;
    // A hold invoice's preimage is the desk's, and proves the payment once settled; a plain invoice's is the
    // wallet's (the label names the invoice: unproven).
    return e.state === 'settled' && e.preimage
      ? { invoice: e.invoice, preimage: e.preimage }
      : { invoice: e.invoice };
  }

  /** NIP-85: one kind 30382 per agent on the roster, its overall and per-kind ranks. */
  async assert(): Promise<void> {
    const at = Math.floor(this.options.clock.now() / 1000);
    for (const subject of this.options.subjects()) {
      try {
        const event = await this.options.signer.signEvent(
          buildAssertion(this.options.book.scores(subject), at),
        );
        await this.options.relay.publish(event);
      } catch (err) {
        this.log.warn({ subject, err: errorMessage(err) }, 'publishing an assertion failed');
      }
    }
  }
}
