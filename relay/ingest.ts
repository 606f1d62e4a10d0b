import type { Clock } from '../core/clock.ts';
import { unixSeconds } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { EventStore, SaveOutcome } from '../core/event-store.ts';
import type { Logger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { isEphemeralKind } from '../core/nostr.ts';
import { noTracing, type Tracing, traceparentOf } from '../core/tracing.ts';
import { type Policy, type PolicyDecision, runPolicies } from './policy.ts';
import type { Verifier } from './verify-pool.ts';

/**
 * The write path shared by all connections: verification (batched, in workers), the policy chain, then
 * group commit — the events that are ready when the store is free go to it in one `save` call. Answers
 * resolve only after `save` resolved, so an `OK true` means the event is durable. Events are decided and
 * stored in the order they were submitted, so a deletion never overtakes the event it deletes.
 */
export type IngestOutcome = 'saved' | 'duplicate' | 'ephemeral' | 'shadowed' | 'rejected';

export interface IngestAnswer {
  accepted: boolean;
  /** The NIP-01 OK message (prefixed, or empty). */
  message: string;
  outcome: IngestOutcome;
}

export interface IngestSource {
  authedPubkeys: ReadonlySet<string>;
  ip: string;
  source: string;
}

export interface IngestOptions {
  store: EventStore;
  verifier: Verifier;
  policies: readonly Policy[];
  logger: Logger;
  clock: Clock;
  /** Called for each stored event (after its save resolved) and each ephemeral event, in order. */
  onAccepted: (event: NostrEvent, outcome: 'saved' | 'ephemeral') => void;
  /** Most events per `save` call (default 1000). */
  maxBatch?: number;
  /** A span for each job request (kinds 5000-5999) from its arrival to its OK, in the job's trace. */
  tracing?: Tracing;
}

function isJobRequest(kind: number): boolean {
  return kind >= 5000 && kind <= 5999;
}

/** Longest a decided event waits for the events still being verified to join its commit. */
const MAX_COMMIT_WAIT_MS = 20;
/**
 * A second `save` may start while the first waits for its fsync (a store that commits on the event loop and
 * syncs on the thread pool, or a writer thread that takes the next batch while the disk finishes the last):
 * stores answer in call order, so events are still stored and answered in the order they were submitted.
 */
const MAX_SAVES_IN_FLIGHT = 2;

interface Item {
  event: NostrEvent;
  decision: Promise<PolicyDecision>;
  answer: (a: IngestAnswer) => void;
}

export class Ingest {
  private readonly o: IngestOptions;
  private readonly maxBatch: number;
  private readonly tracing: Tracing;
  private order: (Item | undefined)[] = [];
  private head = 0;
  private pumping = false;
  private writes: Item[] = [];
  private writeScheduled = false;
  private firstWriteAt = 0;
  private waitTimer: NodeJS.Timeout | undefined;
  /** `save` calls not resolved yet (at most MAX_SAVES_IN_FLIGHT), and the events they hold. */
  private saves = 0;
  private inSave = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: IngestOptions) {
    this.o = options;
    this.maxBatch = options.maxBatch ?? 1000;
    this.tracing = options.tracing ?? noTracing;
  }

  /** Events submitted and not answered yet. */
  get pending(): number {
    return this.order.length - this.head + this.writes.length + this.inSave;
  }

  /** `event` has a valid shape and passed the relay's cheap checks; resolves with the OK answer. */
  submit(event: NostrEvent, from: IngestSource): Promise<IngestAnswer> {
    const receivedAt = unixSeconds(this.o.clock);
    const decision = this.o.verifier
      .verify(event)
      .then((status): PolicyDecision | Promise<PolicyDecision> => {
        if (status === 'bad-id') return reject('invalid: event id does not match the event');
        if (status === 'bad-sig') return reject('invalid: bad signature');
        if (this.o.policies.length === 0) return { action: 'accept' };
        return runPolicies(this.o.policies, { event, ...from, receivedAt });
      });
    return new Promise((resolve) => {
      this.order.push({
        event,
        decision: decision.catch((err) => reject(`error: ${errorMessage(err)}`)),
        answer: this.tracing.enabled && isJobRequest(event.kind) ? this.traced(event, resolve) : resolve,
      });
      void this.pump();
    });
  }

  /** The answer, ending the request's `relay.ingest` span (verification, policies, commit) with its outcome. */
  private traced(event: NostrEvent, answer: (a: IngestAnswer) => void): (a: IngestAnswer) => void {
    const span = this.tracing.start('relay.ingest', {
      parent: { traceparent: traceparentOf(event), job: event.id },
      attributes: { 'nostr.kind': event.kind, 'nostr.event_id': event.id },
    });
    return (a) => {
      span.set({ 'timmy.relay.outcome': a.outcome });
      span.end(a.accepted ? undefined : a.message);
      answer(a);
    };
  }

  /** Resolves once everything submitted so far has been answered. */
  flush(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.head < this.order.length) {
        const item = this.order[this.head] as Item;
        const decision = await item.decision;
        this.order[this.head++] = undefined;
        if (this.head === this.order.length || this.head >= 4096) {
          this.order = this.order.slice(this.head);
          this.head = 0;
        }
        this.decide(item, decision);
      }
    } finally {
      this.pumping = false;
    }
    this.maybeWrite();
    this.checkIdle();
  }

  private decide(item: Item, decision: PolicyDecision): void {
    if (decision.action === 'reject') {
      item.answer({ accepted: false, message: decision.message, outcome: 'rejected' });
    } else if (decision.action === 'shadowReject') {
      item.answer({ accepted: true, message: '', outcome: 'shadowed' });
    } else if (isEphemeralKind(item.event.kind)) {
      this.accepted(item.event, 'ephemeral');
      item.answer({ accepted: true, message: '', outcome: 'ephemeral' });
    } else {
      if (this.writes.length === 0) this.firstWriteAt = performance.now();
      this.writes.push(item);
      if (this.writes.length >= this.maxBatch) this.write();
      else if (!this.writeScheduled) {
        this.writeScheduled = true;
        setImmediate(() => {
          this.writeScheduled = false;
          this.maybeWrite();
        });
      }
    }
  }

  /**
   * Group commit: while events are still being verified (they will be decided in a moment), the queued
   * writes wait for them, up to MAX_COMMIT_WAIT_MS, so one `save` (one fsync) covers them all. With nothing
   * else under way a lone event is saved at once.
   */
  private maybeWrite(): void {
    if (this.saves >= MAX_SAVES_IN_FLIGHT || this.writes.length === 0) return;
    const waited = performance.now() - this.firstWriteAt;
    if (this.order.length > this.head && waited < MAX_COMMIT_WAIT_MS) {
      this.waitTimer ??= setTimeout(() => {
        this.waitTimer = undefined;
        this.maybeWrite();
      }, MAX_COMMIT_WAIT_MS - waited);
      return;
    }
    this.write();
  }

  private write(): void {
    clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    if (this.saves >= MAX_SAVES_IN_FLIGHT || this.writes.length === 0) return;
    const batch = this.writes.splice(0, this.maxBatch);
    this.saves++;
    this.inSave += batch.length;
    Promise.resolve()
      .then(() => this.o.store.save(batch.map((i) => i.event)))
      .then(
        (outcomes) => {
          for (let i = 0; i < batch.length; i++) this.settle(batch[i] as Item, outcomes[i]);
        },
        (err) => {
          this.o.logger.error({ err: errorMessage(err), events: batch.length }, 'event store save failed');
          for (const item of batch) {
            item.answer({ accepted: false, message: 'error: could not save the event', outcome: 'rejected' });
          }
        },
      )
      .finally(() => {
        this.saves--;
        this.inSave -= batch.length;
        this.maybeWrite();
        this.checkIdle();
      });
  }

  private settle(item: Item, outcome: SaveOutcome | undefined): void {
    if (outcome?.status === 'saved') {
      this.accepted(item.event, 'saved');
      item.answer({ accepted: true, message: '', outcome: 'saved' });
    } else if (outcome?.status === 'duplicate') {
      item.answer({ accepted: true, message: 'duplicate: already have this event', outcome: 'duplicate' });
    } else {
      const message = outcome?.reason ?? 'error: the store gave no answer for this event';
      item.answer({ accepted: false, message, outcome: 'rejected' });
    }
  }

  private accepted(event: NostrEvent, outcome: 'saved' | 'ephemeral'): void {
    try {
      this.o.onAccepted(event, outcome);
    } catch (err) {
      this.o.logger.error({ err: errorMessage(err), id: event.id }, 'accepted-event handler failed');
    }
  }

  private checkIdle(): void {
    if (this.pending > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }
}

function reject(message: string): PolicyDecision {
  return { action: 'reject', message };
}
