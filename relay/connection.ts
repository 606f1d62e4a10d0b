import type { RawData, WebSocket } from 'ws';
import type { Clock } from '../core/clock.ts';
import { unixSeconds } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { EventStore } from '../core/event-store.ts';
import type { Logger } from '../core/logger.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import type { ReadAccess } from './access.ts';
import { type AuthVerifier, newChallenge } from './auth.ts';
import { checkEventRules } from './event-rules.ts';
import type { Ingest } from './ingest.ts';
import type { RelayLimits } from './limits.ts';
import { parseClientMessage, peekEventId, type Rejection, relayMessage, withPrefix } from './messages.ts';
import type { AuthMode } from './policies.ts';
import { TokenBucket } from './rate-limit.ts';
import type { Subscriber, SubscriptionIndex } from './subscriptions.ts';
import { verifyEvent } from './verify.ts';

/** What every connection shares: the relay's collaborators, settings and counters. */
export interface RelayContext {
  readonly store: EventStore;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly limits: RelayLimits;
  readonly auth: AuthMode;
  readonly access: ReadAccess;
  readonly ingest: Ingest;
  readonly verifyAuth: AuthVerifier;
  readonly live: SubscriptionIndex<Sub>;
  /** Bytes waiting to be sent to one client above which its live subscriptions are closed. */
  readonly maxBufferedBytes: number;
  readonly counters: { received: number; stored: number; rejected: number };
  closing(): boolean;
}

/** One REQ of one connection. Stored events go out first; live events arriving meanwhile wait in `backlog`. */
export class Sub implements Subscriber {
  state: 'querying' | 'live' | 'closed' = 'querying';
  backlog: NostrEvent[] = [];

  constructor(
    readonly conn: Connection,
    readonly id: string,
    readonly filters: readonly Filter[],
  ) {}
}

/** Waiting operations (events awaiting OK, queries) above which the socket stops being read. */
const PAUSE_AT = 1024;
const RESUME_AT = 512;
/** How many pubkeys one connection may authenticate (NIP-42 allows several). */
const MAX_AUTHED_PUBKEYS = 16;

/** While sending stored events, pause above this many buffered bytes (or maxBufferedBytes / 2) until read. */
const HIGH_WATER = 1024 * 1024;
/** A client that reads nothing of a query's answer for this long loses the subscription. */
const DRAIN_TIMEOUT_MS = 30_000;

/** One WebSocket client: its NIP-42 state, subscriptions, rate limit, and the NIP-01 message handlers. */
export class Connection {
  readonly challenge = newChallenge();
  readonly authed = new Set<string>();
  readonly subs = new Map<string, Sub>();
  /** Heartbeats since the last pong or message; see `heartbeat`. */
  private missed = 0;
  private readonly bucket: TokenBucket;
  private readonly log: Logger;
  private pendingOps = 0;
  private paused = false;
  private closed = false;

  constructor(
    private readonly ctx: RelayContext,
    private readonly ws: WebSocket,
    readonly ip: string,
    /** The URLs a NIP-42 `relay` tag may name on this connection. */
    readonly relayUrls: readonly string[],
    readonly id: number,
  ) {
    this.bucket = new TokenBucket(ctx.limits.eventsPerSecond, ctx.limits.eventsBurst, ctx.clock);
    this.log = ctx.logger.child({ conn: id, ip });
    this.send(relayMessage.auth(this.challenge));
  }

  onMessage(data: RawData, isBinary: boolean): void {
    this.missed = 0;
    try {
      this.dispatch(data, isBinary);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'message handler failed');
      this.send(relayMessage.notice('error: internal error'));
    }
  }

  /** The socket closed: forget the live subscriptions. */
  onClose(): void {
    this.closed = true;
    for (const sub of this.subs.values()) this.dropSub(sub);
    this.subs.clear();
  }

  /**
   * Called every heartbeat interval: pings, and drops the connection when two pings in a row got no pong
   * (nor any message), so a dead or half-open socket goes within three intervals while a live client
   * survives one stalled interval.
   */
  heartbeat(): void {
    if (this.missed >= 2) {
      this.log.info('no pong for two heartbeat intervals; dropping the connection');
      this.ws.terminate();
      return;
    }
    this.missed++;
    if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
  }

  /** The client answered a ping. */
  onPong(): void {
    this.missed = 0;
  }

  /** Closes the socket (1001 going away), forcing it after a second if the client does not answer. */
  close(): Promise<void> {
    if (this.ws.readyState === this.ws.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => this.ws.terminate(), 1000);
      this.ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      this.ws.close(1001, 'relay shutting down');
    });
  }

  /**
   * Sends a text frame if the socket is open. A client that lets more than twice maxBufferedBytes pile up
   * unread (flooding without reading the answers, say) is disconnected instead.
   */
  send(text: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.ctx.maxBufferedBytes * 2) {
      this.log.warn({ buffered }, 'client is not reading; dropping the connection');
      this.closed = true;
      this.ws.terminate();
      return;
    }
    this.ws.send(text);
  }

  /** A live event matched one of this connection's subscriptions. */
  deliver(sub: Sub, event: NostrEvent, eventJson: () => string): void {
    if (sub.state === 'closed' || !this.ctx.access.canSee(event, this.authed)) return;
    if (sub.state === 'querying') {
      sub.backlog.push(event);
      if (sub.backlog.length > this.ctx.limits.maxLimit * 10) this.slowReader(sub);
      return;
    }
    if (this.ws.bufferedAmount > this.ctx.maxBufferedBytes) {
      this.slowReader(sub);
      return;
    }
    this.send(relayMessage.event(sub.id, eventJson()));
  }

  private dispatch(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.send(relayMessage.notice('invalid: binary messages are not supported; send JSON text'));
      return;
    }
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (buf.length > this.ctx.limits.maxMessageBytes) {
      this.tooLarge(buf);
      return;
    }
    const parsed = parseClientMessage(buf.toString());
    if (!parsed.ok) {
      this.refuse(parsed.rejection);
      return;
    }
    const m = parsed.message;
    if (m.type === 'EVENT') this.onEvent(m.event);
    else if (m.type === 'AUTH') this.onAuth(m.event);
    else if (m.type === 'REQ') this.onReq(m.subId, m.filters);
    else if (m.type === 'COUNT') this.onCount(m.subId, m.filters);
    else {
      const sub = this.subs.get(m.subId);
      if (sub) this.dropSub(sub);
    }
  }

  /** A message over maxMessageBytes: OK false when it is an EVENT whose id can be read, else NOTICE. */
  private tooLarge(buf: Buffer): void {
    const message = `invalid: message is larger than ${this.ctx.limits.maxMessageBytes} bytes`;
    const id = peekEventId(buf.toString());
    if (id === undefined) this.send(relayMessage.notice(message));
    else this.refuse({ reply: 'OK', id, message });
  }

  private refuse(r: Rejection): void {
    if (r.reply === 'NOTICE') this.send(relayMessage.notice(r.message));
    else if (r.reply === 'CLOSED') this.closeSubId(r.subId, r.message);
    else {
      this.ctx.counters.received++;
      this.ctx.counters.rejected++;
      this.send(relayMessage.ok(r.id, false, r.message));
    }
  }

  private onEvent(event: NostrEvent): void {
    const refusal = this.writeRefusal(event);
    if (refusal !== undefined) {
      this.refuse({ reply: 'OK', id: event.id, message: refusal });
      return;
    }
    this.ctx.counters.received++;
    this.track(
      this.ctx.ingest.submit(event, { authedPubkeys: this.authed, ip: this.ip, source: 'ws' }).then((a) => {
        if (a.outcome === 'saved') this.ctx.counters.stored++;
        else if (a.outcome === 'rejected') this.ctx.counters.rejected++;
        this.send(relayMessage.ok(event.id, a.accepted, a.message));
      }),
    );
  }

  /** The cheap checks before an event is verified; returns the OK false message when it is refused. */
  private writeRefusal(event: NostrEvent): string | undefined {
    if (this.ctx.closing()) return 'error: the relay is shutting down';
    if (this.ctx.auth !== 'none' && this.authed.size === 0) {
      return 'auth-required: this relay accepts events only from authenticated clients (NIP-42)';
    }
    if (!this.bucket.take()) {
      return `rate-limited: slow down: at most ${this.ctx.limits.eventsPerSecond} events a second`;
    }
    return checkEventRules(event, this.ctx.limits, unixSeconds(this.ctx.clock));
  }

  /**
   * NIP-42. Verified here, synchronously (AUTH is rare and rate-limited), so that an EVENT or REQ the client
   * sends right after its AUTH is already judged as authenticated.
   */
  private onAuth(event: NostrEvent): void {
    const answer = (ok: boolean, message: string): void => {
      this.send(relayMessage.ok(event.id, ok, message));
    };
    if (!this.bucket.take()) {
      answer(false, `rate-limited: slow down: at most ${this.ctx.limits.eventsPerSecond} messages a second`);
      return;
    }
    const status = verifyEvent(event);
    if (status !== 'ok') {
      answer(false, `invalid: ${status === 'bad-id' ? 'bad event id' : 'bad signature'}`);
      return;
    }
    const nowSeconds = unixSeconds(this.ctx.clock);
    const r = this.ctx.verifyAuth(event, { challenge: this.challenge, relayUrl: this.relayUrls, nowSeconds });
    if (r.ok && !this.authed.has(r.pubkey) && this.authed.size >= MAX_AUTHED_PUBKEYS) {
      answer(false, `restricted: at most ${MAX_AUTHED_PUBKEYS} authenticated pubkeys per connection`);
    } else if (r.ok) {
      this.authed.add(r.pubkey);
      this.log.debug({ pubkey: r.pubkey }, 'authenticated');
      answer(true, '');
    } else answer(false, withPrefix(r.reason, 'invalid'));
  }

  /** Checks shared by REQ and COUNT; returns the CLOSED reason when the request is refused. */
  private readRefusal(filters: readonly Filter[]): string | undefined {
    if (this.ctx.closing()) return 'error: the relay is shutting down';
    if (this.ctx.auth === 'all' && this.authed.size === 0) {
      return 'auth-required: this relay serves only authenticated clients (NIP-42)';
    }
    if (filters.length > this.ctx.limits.maxFilters) {
      return `invalid: too many filters (${filters.length}, at most ${this.ctx.limits.maxFilters})`;
    }
    // Queries run on the main thread: they share the connection's token bucket with events.
    if (!this.bucket.take()) {
      return `rate-limited: slow down: at most ${this.ctx.limits.eventsPerSecond} messages a second`;
    }
    if (this.authed.size === 0 && this.ctx.access.asksRestricted(filters)) {
      const kinds = [...this.ctx.access.restricted].join(', ');
      return `auth-required: kinds ${kinds} are only for their authors and recipients`;
    }
    return undefined;
  }

  private onReq(subId: string, filters: Filter[]): void {
    const old = this.subs.get(subId);
    const refusal =
      this.readRefusal(filters) ??
      (!old && this.subs.size >= this.ctx.limits.maxSubscriptions
        ? `blocked: too many subscriptions (at most ${this.ctx.limits.maxSubscriptions})`
        : undefined);
    if (refusal !== undefined) {
      this.closeSubId(subId, refusal);
      return;
    }
    if (old) this.dropSub(old);
    const sub = new Sub(this, subId, filters);
    this.subs.set(subId, sub);
    this.ctx.live.add(sub);
    const scoped = this.ctx.access.scope(filters, this.authed);
    const options = { maxLimit: this.ctx.limits.maxLimit, nowSeconds: unixSeconds(this.ctx.clock) };
    const query = Promise.resolve().then(() =>
      scoped.length === 0 ? [] : this.ctx.store.query(scoped, options),
    );
    this.track(
      query.then(
        (events) => this.sendStored(sub, events),
        (err) => {
          this.log.error({ err: errorMessage(err) }, 'query failed');
          this.closeSub(sub, 'error: the query failed');
        },
      ),
    );
  }

  private async sendStored(sub: Sub, events: NostrEvent[]): Promise<void> {
    const sent = new Set<string>();
    for (const event of events) {
      if (!this.ctx.access.canSee(event, this.authed)) continue;
      if (this.ws.bufferedAmount > this.highWater && !(await this.drained())) {
        this.slowReader(sub);
        return;
      }
      if (sub.state === 'closed') return;
      this.send(relayMessage.event(sub.id, JSON.stringify(event)));
      sent.add(event.id);
    }
    if (sub.state === 'closed') return;
    this.send(relayMessage.eose(sub.id));
    sub.state = 'live';
    const backlog = sub.backlog;
    sub.backlog = [];
    for (const event of backlog) {
      if (!sent.has(event.id)) this.deliver(sub, event, () => JSON.stringify(event));
    }
  }

  private get highWater(): number {
    return Math.min(HIGH_WATER, this.ctx.maxBufferedBytes / 2);
  }

  /** Waits until the client has read most of what is buffered; false if it does not within the timeout. */
  private async drained(): Promise<boolean> {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (this.ws.bufferedAmount > this.highWater / 2) {
      if (this.closed || Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return !this.closed;
  }

  private onCount(subId: string, filters: Filter[]): void {
    const refusal = this.readRefusal(filters);
    if (refusal !== undefined) {
      this.closeSubId(subId, refusal);
      return;
    }
    this.track(
      this.ctx.access.count(this.ctx.store, filters, this.authed).then(
        (n) => this.send(relayMessage.count(subId, n)),
        (err) => {
          this.log.error({ err: errorMessage(err) }, 'count failed');
          this.send(relayMessage.closed(subId, 'error: the count failed'));
        },
      ),
    );
  }

  private slowReader(sub: Sub): void {
    this.log.warn({ sub: sub.id, buffered: this.ws.bufferedAmount }, 'slow reader: closing subscription');
    this.closeSub(sub, 'error: slow reader: too much data waiting to be sent; subscription closed');
  }

  /**
   * Answers `CLOSED` for a subscription id, and drops the live subscription of that id if there is one:
   * after `CLOSED` the client expects no more events under it.
   */
  private closeSubId(subId: string, reason: string): void {
    const live = this.subs.get(subId);
    if (live) this.dropSub(live);
    this.send(relayMessage.closed(subId, reason));
  }

  private closeSub(sub: Sub, reason: string): void {
    if (sub.state === 'closed') return;
    this.dropSub(sub);
    this.send(relayMessage.closed(sub.id, reason));
  }

  private dropSub(sub: Sub): void {
    sub.state = 'closed';
    sub.backlog = [];
    if (this.subs.get(sub.id) === sub) this.subs.delete(sub.id);
    this.ctx.live.remove(sub);
  }

  /**
   * Counts an operation under way; past PAUSE_AT the socket is no longer read (TCP pushes back on the
   * client) until enough have finished.
   */
  private track(op: Promise<void>): void {
    this.pendingOps++;
    if (this.pendingOps >= PAUSE_AT && !this.paused) {
      this.paused = true;
      this.ws.pause();
    }
    op.catch((err) => this.log.error({ err: errorMessage(err) }, 'operation failed')).finally(() => {
      this.pendingOps--;
      if (this.paused && this.pendingOps <= RESUME_AT) {
        this.paused = false;
        this.ws.resume();
      }
    });
  }
}
