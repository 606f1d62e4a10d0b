import type { RawData, WebSocket } from 'ws';
import { unixSeconds } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import { checkAuth, newChallenge } from './auth.ts';
import { countRejected, type RelayContext } from './context.ts';
import { checkEventRules } from './event-rules.ts';
import { filterListViolation, filterValueCount } from './filters.ts';
import { parseClientMessage, peekEventId, type Rejection, relayMessage } from './messages.ts';
import { TokenBucket } from './rate-limit.ts';
import { type AnswerHost, StoredAnswers } from './stored-answers.ts';
import type { Subscriber } from './subscriptions.ts';

/** One REQ of one connection. Stored events go out first; live events arriving meanwhile wait in `backlog`. */
export class Sub implements Subscriber {
  state: 'querying' | 'live' | 'closed' = 'querying';
  backlog: NostrEvent[] = [];

  constructor(
    readonly conn: Connection,
    readonly id: string,
    readonly filters: readonly Filter[],
    /** Values in the filters' lists, counted against `maxConnectionFilterValues`. */
    readonly values: number,
  ) {}
}

/** Waiting operations (events awaiting OK, queries) above which the socket stops being read. */
const PAUSE_AT = 1024;
const RESUME_AT = 512;

/** How long a client dropped as a slow reader has to take the close frame before its socket is destroyed. */
const DROP_GRACE_MS = 1000;

/** What `Connection` needs of its socket to batch its writes (a `net.Socket`). */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** One WebSocket client: its NIP-42 state, subscriptions, rate limit, and the NIP-01 message handlers. */

export class Connection implements AnswerHost {
  readonly challenge = newChallenge();
  /** AUTH messages still heard when the rate limit's bucket is empty. */
  private freeAuths = 4;
  readonly authed = new Set<string>();
  readonly subs = new Map<string, Sub>();
  /** Heartbeats since the last pong or message; see `heartbeat`. */
  private missed = 0;
  private readonly bucket: TokenBucket;
  private readonly log: Logger;
  private readonly answers: StoredAnswers;
  /** Values in the lists of the open subscriptions' filters (`maxConnectionFilterValues`). */
  private filterValues = 0;
  private pendingOps = 0;
  private paused = false;
  private closed = false;
  private corked = false;

  constructor(
    private readonly ctx: RelayContext,
    private readonly ws: WebSocket,
    readonly ip: string,
    /** The URLs a NIP-42 `relay` tag may name on this connection. */
    readonly relayUrls: readonly string[],
    readonly id: number,
    /**
     * The connection's TCP socket, when the caller has it: what is sent within one turn of the event loop
     * (a batch of OKs, a stored answer's events) is then written with one system call instead of one per
     * message.
     */
    private readonly socket?: Corkable,
  ) {
    this.bucket = new TokenBucket(ctx.limits.eventsPerSecond, ctx.limits.eventsBurst, ctx.clock);
    this.log = ctx.logger.child({ conn: id, ip });
    this.answers = new StoredAnswers(ctx, this, this.log);
    this.send(relayMessage.auth(this.challenge));
  }

  onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    this.missed = 0;
    try {
      this.dispatch(data, isBinary);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'message handler failed');
      this.send(relayMessage.notice('error: internal error'));
    }
  }

  /** The socket closed: forget the live subscriptions and the answers waiting to be sent. */
  onClose(): void {
    this.closed = true;
    for (const sub of this.subs.values()) this.dropSub(sub);
    this.subs.clear();
    this.answers.clear();
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
   * Sends a text frame if the socket is open. A client that lets more than twice its budget
   * (`maxBufferedBytes`) pile up unread (flooding without reading the answers, say) is dropped instead.
   */
  send(text: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.ctx.limits.maxBufferedBytes * 2) {
      this.dropSlowReader(buffered);
      return;
    }
    if (this.socket && !this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.ws.send(text);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };

  /** REQs whose stored events wait to be sent or are being sent. */
  get answersPending(): number {
    return this.answers.pending;
  }

  gone(): boolean {
    return this.closed;
  }

  buffered(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Drops a client that does not read: its subscriptions go at once (no more matching, no more queueing),
   * it is told why (a NOTICE, then close code 1008), and its socket is destroyed if it does not take the
   * close frame within DROP_GRACE_MS, which frees what is queued for it.
   */
  private dropSlowReader(buffered: number): void {
    this.log.warn({ buffered }, 'client is not reading; dropping the connection');
    const reason = 'error: slow reader: too much unread data; disconnecting';
    this.ws.send(relayMessage.notice(reason));
    this.onClose();
    this.ws.pause();
    this.ws.close(1008, 'slow reader');
    setTimeout(() => this.ws.terminate(), DROP_GRACE_MS).unref();
  }

  /** A live event matched one of this connection's subscriptions. */
  deliver(sub: Sub, event: NostrEvent, eventJson: () => string): void {
    if (sub.state === 'closed' || !this.ctx.access.canSee(event, this.authed)) return;
    if (sub.state === 'querying') {
      sub.backlog.push(event);
      if (sub.backlog.length > this.ctx.limits.maxLimit * 10) this.slowReader(sub);
      return;
    }
    if (this.ws.bufferedAmount > this.ctx.limits.maxBufferedBytes) {
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
      countRejected(this.ctx.counters, r.message);
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
        else if (a.outcome === 'rejected') countRejected(this.ctx.counters, a.message);
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
    if (!this.bucket.take() && !this.unlimited()) {
      return `rate-limited: slow down: at most ${this.ctx.limits.eventsPerSecond} events a second`;
    }
    return checkEventRules(event, this.ctx.limits, unixSeconds(this.ctx.clock));
  }

  /**
   * NIP-42. Verified here, synchronously (AUTH is rare and rate-limited), so that an EVENT or REQ the client
   * sends right after its AUTH is already judged as authenticated.
   */
  private onAuth(event: NostrEvent): void {
    // The first few AUTHs of a connection are heard even with its bucket empty: an own key that was
    // rate-limited authenticates to be exempt (RelayServerOptions.unlimited).
    const heard = this.bucket.take() || this.freeAuths-- > 0;
    const r = heard
      ? checkAuth(event, {
          challenge: this.challenge,
          relayUrls: this.relayUrls,
          authed: this.authed,
          verifyAuth: this.ctx.verifyAuth,
          nowSeconds: unixSeconds(this.ctx.clock),
        })
      : {
          ok: false as const,
          message: `rate-limited: slow down: at most ${this.ctx.limits.eventsPerSecond} messages a second`,
        };
    if (r.ok) {
      this.authed.add(r.pubkey);
      this.log.debug({ pubkey: r.pubkey }, 'authenticated');
    }
    this.send(relayMessage.ok(event.id, r.ok, r.ok ? '' : r.message));
  }

  /** Authenticated (NIP-42) as one of the keys the relay does not rate-limit. */
  private unlimited(): boolean {
    for (const pubkey of this.authed) if (this.ctx.unlimited(pubkey)) return true;
    return false;
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
    const tooLong = filterListViolation(filters, this.ctx.limits.maxFilterValues);
    if (tooLong !== undefined) return tooLong;
    // Queries run on the main thread: they share the connection's token bucket with events.
    if (!this.bucket.take() && !this.unlimited()) {
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
    const values = filters.reduce((n, f) => n + filterValueCount(f), 0);
    const refusal = this.readRefusal(filters) ?? this.subscriptionRefusal(old, values);
    if (refusal !== undefined) {
      this.closeSubId(subId, refusal);
      return;
    }
    if (old) this.dropSub(old);
    const sub = new Sub(this, subId, filters, values);
    this.subs.set(subId, sub);
    this.filterValues += values;
    this.ctx.live.add(sub);
    this.track(this.answers.answer(sub, this.ctx.access.scope(filters, this.authed)));
  }

  /** The limits on one connection's subscriptions, for a REQ that would replace `old` (if any). */
  private subscriptionRefusal(old: Sub | undefined, values: number): string | undefined {
    const { maxSubscriptions, maxConnectionFilterValues } = this.ctx.limits;
    if (!old && this.subs.size >= maxSubscriptions) {
      return `blocked: too many subscriptions (at most ${maxSubscriptions})`;
    }
    const total = this.filterValues - (old?.values ?? 0) + values;
    if (total > maxConnectionFilterValues) {
      return `blocked: too many filter values on this connection (${total}, at most ${maxConnectionFilterValues}); close some subscriptions`;
    }
    return undefined;
  }

  /** AnswerHost: the stored part of `sub`'s answer was sent; EOSE, then the live events that came meanwhile. */
  stored(sub: Sub, sent: ReadonlySet<string>): void {
    this.send(relayMessage.eose(sub.id));
    sub.state = 'live';
    const backlog = sub.backlog;
    sub.backlog = [];
    for (const event of backlog) {
      if (!sent.has(event.id)) this.deliver(sub, event, () => JSON.stringify(event));
    }
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

  closeSub(sub: Sub, reason: string): void {
    if (sub.state === 'closed') return;
    this.dropSub(sub);
    this.send(relayMessage.closed(sub.id, reason));
  }

  private dropSub(sub: Sub): void {
    if (sub.state !== 'closed') this.filterValues -= sub.values;
    sub.state = 'closed';
    sub.backlog = [];
    if (this.subs.get(sub.id) === sub) this.subs.delete(sub.id);
    this.ctx.live.remove(sub);
    this.answers.cancel(sub);
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
      if (this.paused && this.pendingOps <= RESUME_AT && !this.closed) {
        this.paused = false;
        this.ws.resume();
      }
    });
  }
}
