import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';
import type { Publish } from '../core/transport.ts';
import type { JobLog } from '../dvm/job-log.ts';

/** Refusals that retrying cannot change (NIP-01 prefixes). */
const PERMANENT = ['blocked:', 'invalid:', 'restricted:', 'pow:'];

export interface OutboxOptions {
  log: JobLog;
  /** The connection of the agent whose events this outbox sends (NIP-42 AUTH is per author). */
  relay: Publish;
  /** Pubkey of that agent: `flush` republishes only its events. */
  author: string;
  logger: Logger;
  /** First retry delay for events the relay did not take; doubles up to 10 s. */
  retryMs?: number;
}

/**
 * Every event a job causes goes through here (the transactional-outbox pattern): the signed event is
 * appended to the job log under a key *before* it is published, and marked published after the relay's
 * `OK`. A resumed job that sends the same key again gets the same signed event (same id), so a crash
 * between signing and publishing can never produce a second, different event; the relay answers a
 * republished one with `duplicate:`, which counts as sent.
 */
export class Outbox {
  private readonly log: Logger;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  private stopped = false;
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(private readonly options: OutboxOptions) {
    this.log = options.logger.child({ component: 'outbox' });
    this.retryDelay = options.retryMs ?? 500;
  }

  /**
   * Signs (once per job and key) and publishes. Resolves with the event once it is durably recorded;
   * `published` resolves when the relay took it (failures are retried in the background).
   */
  async send(
    jobId: string,
    key: string,
    signer: Signer,
    template: EventTemplate,
  ): Promise<{ event: NostrEvent; published: Promise<boolean> }> {
    const view = this.options.log.get(jobId);
    const existing = view?.outbox.find((o) => o.key === key);
    let event: NostrEvent;
    if (existing) {
      event = existing.event;
      if (existing.published) return { event, published: Promise.resolve(true) };
    } else {
      event = await signer.signEvent(template);
      this.options.log.append(jobId, { type: 'outbox', key, event });
    }
    return { event, published: this.publish(jobId, key, event) };
  }

  /**
   * Records and publishes an event signed elsewhere (a NIP-59 gift wrap is signed by a throwaway key). Its
   * key must end with `:<author>` so this outbox's `flush` republishes it after a crash.
   */
  async sendSigned(
    jobId: string,
    key: string,
    event: NostrEvent,
  ): Promise<{ event: NostrEvent; published: Promise<boolean> }> {
    if (!key.endsWith(`:${this.options.author}`))
      throw new Error(`outbox key ${key} of a foreign-signed event must end with :${this.options.author}`);
    const existing = this.options.log.get(jobId)?.outbox.find((o) => o.key === key);
    if (existing) {
      if (existing.published) return { event: existing.event, published: Promise.resolve(true) };
      return { event: existing.event, published: this.publish(jobId, key, existing.event) };
    }
    this.options.log.append(jobId, { type: 'outbox', key, event });
    return { event, published: this.publish(jobId, key, event) };
  }

  /** Publishes every recorded event not yet marked published (at start, and on a timer after failures). */
  async flush(): Promise<void> {
    const mine = (p: { key: string; event: NostrEvent }): boolean =>
      p.event.pubkey === this.options.author || p.key.endsWith(`:${this.options.author}`);
    const pending = this.options.log.pendingOutbox().filter(mine);
    const results = await Promise.all(pending.map((p) => this.publish(p.jobId, p.key, p.event)));
    if (results.some((ok) => !ok)) throw new Error('some job events are not published yet');
  }

  private publish(jobId: string, key: string, event: NostrEvent): Promise<boolean> {
    const id = `${jobId}/${key}`;
    const running = this.inFlight.get(id);
    if (running) return running;
    const p: Promise<boolean> = this.tryPublish(jobId, key, event).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }

  private async tryPublish(jobId: string, key: string, event: NostrEvent): Promise<boolean> {
    if (this.stopped) return false;
    try {
      await this.options.relay.publish(event);
      this.markPublished(jobId, key);
      return true;
    } catch (err) {
      const reason = errorMessage(err);
      if (reason.startsWith('duplicate:')) {
        this.markPublished(jobId, key);
        return true;
      }
      if (PERMANENT.some((p) => reason.startsWith(p))) {
        this.log.error(
          { job: jobId, key, kind: event.kind, reason },
          'the relay refuses a job event; giving up on it',
        );
        this.options.log.append(jobId, { type: 'note', text: `relay refused ${key}: ${reason}` });
        this.markPublished(jobId, key);
        return true;
      }
      if (this.stopped) return false;
      this.log.warn(
        { job: jobId, key, kind: event.kind, reason },
        'could not publish a job event; will retry',
      );
      this.scheduleRetry();
      return false;
    }
  }

  private markPublished(jobId: string, key: string): void {
    const view = this.options.log.get(jobId);
    if (view?.outbox.find((o) => o.key === key)?.published) return;
    this.options.log.append(jobId, { type: 'published', key });
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
