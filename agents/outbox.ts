import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';
import type { Publish } from '../core/transport.ts';
import type { JobLog } from '../dvm/job-log.ts';

/** Refusals that retrying cannot change (NIP-01 prefixes). */
const PERMANENT = ['blocked:', 'invalid:', 'restricted:', 'pow:'];

export interface PendingEvent {
  jobId: string;
  key: string;
  event: NostrEvent;
}

/** How a publish ended: taken by the relay, refused by it for good (why), or still to be retried. */
export type PublishOutcome = 'published' | 'pending' | { refused: string };

/**
 * Where an outbox keeps its events, durably: the desk's job log (`jobLogStore`), or an agent's own work
 * record (agents/runtime/work-log.ts). Keys are per job.
 */
export interface OutboxStore {
  /** The event recorded under the key, whether the relay took it, and why it refused it for good. */
  outboxItem(
    jobId: string,
    key: string,
  ): { event: NostrEvent; published: boolean; refused?: string } | undefined;
  /** Records a signed event before it is published (a second event under one key is refused). */
  recordOutbox(jobId: string, key: string, event: NostrEvent): void;
  markPublished(jobId: string, key: string): void;
  /** The relay refused the event for good: it is not published, and not sent again. */
  markRefused(jobId: string, key: string, reason: string): void;
  /** Recorded events the relay has not taken yet, oldest first. */
  pendingOutbox(): PendingEvent[];
  /** A line for a person reading the job's record. */
  note(jobId: string, text: string): void;
  /**
   * Resolves once everything recorded so far is on the disk, past a power cut too (a returned record is
   * already safe from a kill -9): the outbox awaits it before it publishes (docs/decisions/0014).
   */
  durable(): Promise<void>;
}

/** The desk's job log as an outbox store (`outbox` and `published` entries, refusals as `note`s). */
export function jobLogStore(log: JobLog): OutboxStore {
  return {
    outboxItem: (jobId, key) => log.get(jobId)?.outbox.find((o) => o.key === key),
    recordOutbox: (jobId, key, event) => {
      log.append(jobId, { type: 'outbox', key, event });
    },
    markPublished: (jobId, key) => {
      const item = log.get(jobId)?.outbox.find((o) => o.key === key);
      if (item?.published || item?.refused !== undefined) return;
      log.append(jobId, { type: 'published', key });
    },
    markRefused: (jobId, key, reason) => {
      const item = log.get(jobId)?.outbox.find((o) => o.key === key);
      if (item?.published || item?.refused !== undefined) return;
      log.append(jobId, { type: 'published', key, refused: reason });
    },
    pendingOutbox: () => log.pendingOutbox(),
    durable: () => log.durable(),
    note: (jobId, text) => {
      log.append(jobId, { type: 'note', text });
    },
  };
}

export interface OutboxOptions {
  store: OutboxStore;
  /** The connection of the author whose events this outbox sends (NIP-42 AUTH is per author). */
  relay: Publish;
  logger: Logger;
  /** First retry delay for events the relay did not take; doubles up to 10 s. */
  retryMs?: number;
  /** Adds to a job's event before it is signed (the desk's `traceparent` tag: agents/desk/job-traces.ts). */
  decorate?: (jobId: string, template: EventTemplate) => EventTemplate;
}

/**
 * Every event a job causes goes through here (the transactional-outbox pattern): the signed event is
 * recorded in its store under a key *before* it is published, and marked published after the relay's
 * `OK`. A resumed job that sends the same key again gets the same signed event (same id), so a crash
 * between signing and publishing can never produce a second, different event; the relay answers a
 * republished one with `duplicate:`, which counts as sent.
 */
export class Outbox {
  private readonly log: Logger;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  private stopped = false;
  private readonly inFlight = new Map<string, Promise<PublishOutcome>>();

  constructor(private readonly options: OutboxOptions) {
    this.log = options.logger.child({ component: 'outbox' });
    this.retryDelay = options.retryMs ?? 500;
  }

  /**
   * Signs (once per job and key) and publishes. Resolves with the event once it is durably recorded;
   * `published` resolves with how the relay answered: taken, refused for good (never sent again: the caller
   * says what failed), or still pending (retried in the background).
   */
  async send(
    jobId: string,
    key: string,
    signer: Signer,
    template: EventTemplate,
  ): Promise<{ event: NostrEvent; published: Promise<PublishOutcome> }> {
    const existing = this.options.store.outboxItem(jobId, key);
    let event: NostrEvent;
    if (existing) {
      event = existing.event;
      const settled = settledOutcome(existing);
      if (settled) return { event, published: Promise.resolve(settled) };
    } else {
      const decorate = this.options.decorate;
      event = await signer.signEvent(decorate ? decorate(jobId, template) : template);
      this.options.store.recordOutbox(jobId, key, event);
    }
    return { event, published: this.publish(jobId, key, event) };
  }

  /** Records and publishes an event signed elsewhere (a NIP-59 gift wrap is signed by a throwaway key). */
  async sendSigned(
    jobId: string,
    key: string,
    event: NostrEvent,
  ): Promise<{ event: NostrEvent; published: Promise<PublishOutcome> }> {
    const existing = this.options.store.outboxItem(jobId, key);
    if (existing) {
      const settled = settledOutcome(existing);
      if (settled) return { event: existing.event, published: Promise.resolve(settled) };
      return { event: existing.event, published: this.publish(jobId, key, existing.event) };
    }
    this.options.store.recordOutbox(jobId, key, event);
    return { event, published: this.publish(jobId, key, event) };
  }

  /** Publishes every recorded event not yet marked published (at start, and on a timer after failures). */
  async flush(): Promise<void> {
    const pending = this.options.store.pendingOutbox();
    const results = await Promise.all(pending.map((p) => this.publish(p.jobId, p.key, p.event)));
    if (results.some((r) => r === 'pending')) throw new Error('some job events are not published yet');
  }

  private publish(jobId: string, key: string, event: NostrEvent): Promise<PublishOutcome> {
    const id = `${jobId}/${key}`;
    const running = this.inFlight.get(id);
    if (running) return running;
    const p = this.tryPublish(jobId, key, event).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }

  private async tryPublish(jobId: string, key: string, event: NostrEvent): Promise<PublishOutcome> {
    if (this.stopped) return 'pending';
    try {
      // The record on the disk before the event leaves: a power cut cannot lose what the relay has seen.
      await this.options.store.durable();
      await this.options.relay.publish(event);
      this.options.store.markPublished(jobId, key);
      return 'published';
    } catch (err) {
      const reason = errorMessage(err);
      if (reason.startsWith('duplicate:')) {
        this.options.store.markPublished(jobId, key);
        return 'published';
      }
      if (PERMANENT.some((p) => reason.startsWith(p))) {
        this.log.error(
          { job: jobId, key, kind: event.kind, reason },
          'the relay refuses a job event; giving up on it',
        );
        // Not published: recorded as refused, so nothing counts on it and the job can say what failed.
        this.options.store.markRefused(jobId, key, reason);
        return { refused: reason };
      }
      if (this.stopped) return 'pending';
      this.log.warn(
        { job: jobId, key, kind: event.kind, reason },
        'could not publish a job event; will retry',
      );
      this.scheduleRetry();
      return 'pending';
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, 10_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.flush().then(
        () => {
          this.retryDelay = this.options.retryMs ?? 500;
        },
        () => {},
      );
    }, delay);
    this.retryTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

/** The outcome of an item the relay already answered for good; undefined while it is to be sent. */
function settledOutcome(item: { published: boolean; refused?: string }): PublishOutcome | undefined {
  if (item.published) return 'published';
  if (item.refused !== undefined) return { refused: item.refused };
  return undefined;
}
