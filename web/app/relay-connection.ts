/**
 * A browser NIP-01 client over one WebSocket: the dashboard's `Publish & Subscribe` (core/transport.ts) for
 * its own relay (this origin's /relay) and for the relays the monitor watches. It verifies every event's
 * signature and that it matches the subscription's filters, reconnects with backoff and sends every open
 * subscription again, resends publishes not yet answered, and answers NIP-42 AUTH on demand (a publish or a
 * subscription refused with `auth-required:`) when a signer is present.
 */
import { matchFilters } from 'nostr-tools/filter';
import { verifyEvent } from 'nostr-tools/pure';
import type { EventTemplate, Filter, NostrEvent } from '../../core/nostr.ts';
import type { Publish, Subscribe, Subscription, SubscriptionHandlers } from '../../core/transport.ts';

export type ConnectionStatus = 'connecting' | 'open' | 'closed';

export interface RelayConnectionOptions {
  url: string;
  /** Signs NIP-42 AUTH when the relay requires it (the NIP-07 signer); undefined: no AUTH. */
  authSigner?: () => { signEvent(t: EventTemplate): Promise<NostrEvent> } | undefined;
  /** Waits between reconnection attempts (ms), the last repeated. */
  backoffMs?: number[];
  publishTimeoutMs?: number;
}

interface OpenSub {
  id: string;
  filters: Filter[];
  handlers: SubscriptionHandlers;
  authRetried: boolean;
}

interface PendingPublish {
  event: NostrEvent;
  resolve(): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
  authRetried: boolean;
}

const DEFAULT_BACKOFF = [250, 500, 1000, 2000, 5000, 10_000, 30_000];

export class BrowserRelayConnection extends EventTarget implements Publish, Subscribe {
  private socket: WebSocket | undefined;
  private readonly subs = new Map<string, OpenSub>();
  private readonly publishes = new Map<string, PendingPublish>();
  private nextSub = 0;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private challenge: string | undefined;
  private closedForGood = false;
  status: ConnectionStatus = 'closed';
  /** The last connection error or NOTICE, for the status line (text). */
  lastNotice = '';

  constructor(private readonly options: RelayConnectionOptions) {
    super();
    this.connect();
  }

  get url(): string {
    return this.options.url;
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.dispatchEvent(new Event('status'));
  }

  private connect(): void {
    if (this.closedForGood) return;
    this.setStatus('connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.options.url);
    } catch (err) {
      this.lastNotice = err instanceof Error ? err.message : String(err);
      this.scheduleReconnect();
      return;
    }
    this.socket = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.challenge = undefined;
      this.setStatus('open');
      for (const sub of this.subs.values()) this.send(['REQ', sub.id, ...sub.filters]);
      for (const p of this.publishes.values()) this.send(['EVENT', p.event]);
    };
    ws.onmessage = (m) => this.onMessage(typeof m.data === 'string' ? m.data : '');
    ws.onclose = () => {
      if (this.socket !== ws) return;
      this.socket = undefined;
      this.setStatus('closed');
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      this.lastNotice = `cannot reach ${this.options.url}`;
    };
  }

  private scheduleReconnect(): void {
    if (this.closedForGood || this.retryTimer) return;
    const backoff = this.options.backoffMs ?? DEFAULT_BACKOFF;
    const wait = backoff[Math.min(this.attempt, backoff.length - 1)] ?? 1000;
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, wait);
  }

  private send(message: unknown[]): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private onMessage(data: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (!Array.isArray(msg)) return;
    const [type, a, b, c] = msg as [unknown, unknown, unknown, unknown];
    if (type === 'EVENT' && typeof a === 'string') {
      const sub = this.subs.get(a);
      const event = b as NostrEvent;
      if (!sub || !isEventShape(event)) return;
      if (!matchFilters(sub.filters, event) || !verifyEvent(event)) return;
      sub.handlers.onEvent(event);
    } else if (type === 'EOSE' && typeof a === 'string') {
      this.subs.get(a)?.handlers.onEose?.();
    } else if (type === 'CLOSED' && typeof a === 'string') {
      this.onClosed(a, typeof b === 'string' ? b : '');
    } else if (type === 'OK' && typeof a === 'string') {
      this.onOk(a, b === true, typeof c === 'string' ? c : '');
    } else if (type === 'AUTH' && typeof a === 'string') {
      this.challenge = a;
    } else if (type === 'NOTICE' && typeof a === 'string') {
      this.lastNotice = a;
      this.dispatchEvent(new Event('notice'));
    }
  }

  private onClosed(id: string, reason: string): void {
    const sub = this.subs.get(id);
    if (!sub) return;
    if (reason.startsWith('auth-required') && !sub.authRetried) {
      sub.authRetried = true;
      void this.authenticate().then((ok) => {
        if (ok && this.subs.has(id)) this.send(['REQ', sub.id, ...sub.filters]);
        else this.dropSub(id, reason);
      });
      return;
    }
    this.dropSub(id, reason);
  }

  private dropSub(id: string, reason: string): void {
    const sub = this.subs.get(id);
    if (!sub) return;
    this.subs.delete(id);
    sub.handlers.onClose?.(reason);
  }

  private onOk(id: string, ok: boolean, reason: string): void {
    const p = this.publishes.get(id);
    if (!p) return;
    if (!ok && reason.startsWith('auth-required') && !p.authRetried) {
      p.authRetried = true;
      void this.authenticate().then((authed) => {
        if (authed) this.send(['EVENT', p.event]);
        else this.settlePublish(id, new Error(reason));
      });
      return;
    }
    this.settlePublish(id, ok ? undefined : new Error(reason || 'the relay refused the event'));
  }

  private settlePublish(id: string, err?: Error): void {
    const p = this.publishes.get(id);
    if (!p) return;
    this.publishes.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve();
  }

  /** NIP-42: signs the relay's last challenge and waits for its OK; false without a signer or challenge. */
  private async authenticate(): Promise<boolean> {
    const signer = this.options.authSigner?.();
    const challenge = this.challenge;
    if (!signer || !challenge) return false;
    try {
      const relayUrl = new URL(this.options.url, location.href).href.replace(/^http/, 'ws');
      const auth = await signer.signEvent({
        kind: 22242,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['relay', relayUrl],
          ['challenge', challenge],
        ],
        content: '',
      });
      return await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          this.publishes.delete(auth.id);
          resolve(false);
        }, this.options.publishTimeoutMs ?? 10_000);
        this.publishes.set(auth.id, {
          event: auth,
          resolve: () => resolve(true),
          reject: () => resolve(false),
          timer,
          authRetried: true,
        });
        this.send(['AUTH', auth]);
      });
    } catch {
      return false;
    }
  }

  publish(event: NostrEvent): Promise<void> {
    const existing = this.publishes.get(event.id);
    if (existing) this.settlePublish(event.id, new Error('published again'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => this.settlePublish(event.id, new Error(`no answer from ${this.options.url} in time`)),
        this.options.publishTimeoutMs ?? 10_000,
      );
      this.publishes.set(event.id, { event, resolve, reject, timer, authRetried: false });
      this.send(['EVENT', event]);
    });
  }

  subscribe(filters: Filter[], handlers: SubscriptionHandlers): Subscription {
    const id = `s${++this.nextSub}`;
    this.subs.set(id, { id, filters, handlers, authRetried: false });
    this.send(['REQ', id, ...filters]);
    return {
      close: () => {
        if (!this.subs.delete(id)) return;
        this.send(['CLOSE', id]);
      },
    };
  }

  query(filters: Filter[], options: { timeoutMs?: number } = {}): Promise<NostrEvent[]> {
    return new Promise<NostrEvent[]>((resolve, reject) => {
      const events: NostrEvent[] = [];
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sub.close();
        if (err) reject(err);
        else resolve(events);
      };
      const timer = setTimeout(() => finish(), options.timeoutMs ?? 10_000);
      const sub = this.subscribe(filters, {
        onEvent: (e) => events.push(e),
        onEose: () => finish(),
        onClose: (reason) => finish(new Error(reason || 'the relay closed the query')),
      });
    });
  }

  /** Closes for good: no reconnection; pending publishes are refused. */
  close(): void {
    this.closedForGood = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const id of [...this.publishes.keys()])
      this.settlePublish(id, new Error('the connection is closed'));
    this.subs.clear();
    const ws = this.socket;
    this.socket = undefined;
    ws?.close();
    this.setStatus('closed');
  }
}

function isEventShape(e: unknown): e is NostrEvent {
  if (!e || typeof e !== 'object') return false;
  const o = e as Record<string, unknown>;
  return (
    typeof o.id === 'string' &&
    typeof o.pubkey === 'string' &&
    typeof o.sig === 'string' &&
    typeof o.kind === 'number' &&
    typeof o.created_at === 'number' &&
    typeof o.content === 'string' &&
    Array.isArray(o.tags)
  );
}

/** ws(s)://<this origin>/relay. */
export function ownRelayUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/relay`;
}
