import { unixSeconds } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import type { RelayContext } from './context.ts';
import { relayMessage } from './messages.ts';
import { openCursor, type StoredCursor, type StoredEvent } from './stored-cursor.ts';

/** While sending stored events, pause above this many queued bytes (or half the budget) until read. */
const HIGH_WATER = 1024 * 1024;
/** How often a paused answer looks whether the client has read. */
const POLL_MS = 10;

/** The subscription an answer belongs to, as far as sending its stored part goes. */
export interface AnsweredSub {
  readonly id: string;
  readonly state: 'querying' | 'live' | 'closed';
}

/** What the stored answers of one connection need from it. */
export interface AnswerHost {
  readonly authed: ReadonlySet<string>;
  /** The socket is closed or being dropped. */
  gone(): boolean;
  /** Bytes queued to the socket, not yet taken by the client. */
  buffered(): number;
  send(text: string): void;
  /** The stored part was sent (`sent`: its ids): EOSE, then live events. */
  stored(sub: AnsweredSub, sent: ReadonlySet<string>): void;
  /** A failure or a slow reader: `CLOSED` with this reason. */
  closeSub(sub: AnsweredSub, reason: string): void;
}

interface Job {
  sub: AnsweredSub;
  filters: readonly Filter[];
  done: () => void;
}

/**
 * The stored part of one connection's REQ answers (finding 3 of issue 12). Answers go one at a time, in
 * order: each is streamed from a cursor (relay/stored-cursor.ts), and while more than the high-water mark
 * waits in the socket it pauses until the client has read half of it. So one connection holds at most one
 * answer's keys and about its budget of queued bytes, however many REQs it sends and however slowly it
 * reads. A subscription closed or replaced meanwhile is dropped from the queue, or its cursor closed, at
 * once. An answer whose client reads nothing for `slowReaderTimeoutMs` is given up (`CLOSED error:`).
 */
export class StoredAnswers {
  private readonly queue = new Map<AnsweredSub, Job>();
  private current: { sub: AnsweredSub; cursor?: StoredCursor } | undefined;
  private running = false;

  constructor(
    private readonly ctx: RelayContext,
    private readonly host: AnswerHost,
    private readonly log: Logger,
  ) {}

  /** Answers queued or being sent. */
  get pending(): number {
    return this.queue.size + (this.current ? 1 : 0);
  }

  /** Queues the stored part of `sub`'s answer; resolves once it was sent, given up or cancelled. */
  answer(sub: AnsweredSub, filters: readonly Filter[]): Promise<void> {
    return new Promise((done) => {
      this.queue.set(sub, { sub, filters, done });
      if (!this.running) void this.run();
    });
  }

  /** `sub` was closed: forget its queued answer, or stop the one being sent. */
  cancel(sub: AnsweredSub): void {
    const job = this.queue.get(sub);
    if (job) {
      this.queue.delete(sub);
      job.done();
    }
    if (this.current?.sub === sub) this.current.cursor?.close();
  }

  /** The connection is gone: every queued answer is cancelled. */
  clear(): void {
    for (const sub of [...this.queue.keys()]) this.cancel(sub);
    this.current?.cursor?.close();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (let job = this.shift(); job; job = this.shift()) {
        this.current = { sub: job.sub };
        try {
          await this.send(job.sub, job.filters);
        } catch (err) {
          this.log.error({ err: errorMessage(err) }, 'query failed');
          if (job.sub.state !== 'closed') this.host.closeSub(job.sub, 'error: the query failed');
        } finally {
          this.current?.cursor?.close();
          this.current = undefined;
          job.done();
        }
      }
    } finally {
      this.running = false;
    }
  }

  private shift(): Job | undefined {
    const first = this.queue.values().next();
    if (first.done) return undefined;
    this.queue.delete(first.value.sub);
    return first.value;
  }

  private async send(sub: AnsweredSub, filters: readonly Filter[]): Promise<void> {
    if (this.over(sub)) return;
    const options = { maxLimit: this.ctx.limits.maxLimit, nowSeconds: unixSeconds(this.ctx.clock) };
    const cursor = filters.length === 0 ? undefined : await openCursor(this.ctx.store, filters, options);
    if (this.current) this.current.cursor = cursor;
    const sent = new Set<string>();
    for (;;) {
      if (this.over(sub)) return;
      if (this.host.buffered() > this.highWater) {
        const read = await this.drained(sub);
        if (read === 'gone') return;
        if (read === 'stalled') {
          this.log.warn(
            { sub: sub.id, buffered: this.host.buffered() },
            'slow reader: stored answer given up',
          );
          this.host.closeSub(sub, 'error: slow reader: the stored events were not read; subscription closed');
          return;
        }
      }
      const event = cursor?.next();
      if (!event) break;
      if (!this.visible(event)) continue;
      this.host.send(relayMessage.event(sub.id, event.json));
      sent.add(event.id);
    }
    if (!this.over(sub)) this.host.stored(sub, sent);
  }

  private over(sub: AnsweredSub): boolean {
    return sub.state === 'closed' || this.host.gone();
  }

  private visible(e: StoredEvent): boolean {
    if (!this.ctx.access.restricted.has(e.kind)) return true;
    return this.ctx.access.canSee(JSON.parse(e.json) as NostrEvent, this.host.authed);
  }

  private get highWater(): number {
    return Math.min(HIGH_WATER, this.ctx.limits.maxBufferedBytes / 2);
  }

  /** Waits until the client has read half the high-water mark; 'stalled' when it does not in time. */
  private async drained(sub: AnsweredSub): Promise<'read' | 'gone' | 'stalled'> {
    const deadline = Date.now() + this.ctx.slowReaderTimeoutMs;
    while (this.host.buffered() > this.highWater / 2) {
      if (this.over(sub)) return 'gone';
      if (Date.now() > deadline) return 'stalled';
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return this.over(sub) ? 'gone' : 'read';
  }
}
