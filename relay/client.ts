import { AbstractRelay } from 'nostr-tools/abstract-relay';
import WebSocket from 'ws';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';
import type { Publish, Subscribe, Subscription, SubscriptionHandlers } from '../core/transport.ts';
import { verifyEvent } from './verify.ts';

/**
 * `ws`'s WebSocket with a standing no-op 'error' listener. nostr-tools detaches its `onerror` when it gives
 * a connection up; `ws` then emits 'error' with no listener when that socket is closed while still
 * connecting (e.g. we stop during a reconnect), and an EventEmitter 'error' without listeners crashes the
 * process. nostr-tools still sees every error it listens for.
 */
class QuietWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    this.on('error', () => {});
  }
}

export interface RelayClientOptions {
  url: string;
  logger: Logger;
  /** Answers the relay's NIP-42 AUTH challenge when a write or read needs it. */
  authSigner?: Signer;
  connectTimeoutMs?: number;
  publishTimeoutMs?: number;
  /**
   * Queries (REQ until EOSE) this client keeps open at once; more wait their turn. A relay limits the
   * subscriptions of a connection (NIP-11 `max_subscriptions`; 32 on the embedded relay), and a burst of work
   * must queue rather than have its REQs refused. Default 8, which leaves room for live subscriptions.
   */
  maxConcurrentQueries?: number;
  /**
   * The relay at `url` is this process's own embedded relay, reached on loopback: it verified every event's
   * signature when it took it in (relay/ingest.ts, in worker threads), so events read from it are not verified
   * again (docs/security.md "Trusting the instance's own relay"). Ignored, with a warning, for a URL that is not
   * loopback: a relay across a network is always verified.
   */
  ownRelay?: boolean;
}

/** Whether a relay URL's host is this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackRelayUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * `Publish` and `Subscribe` over one relay URL (the embedded relay or strfry alike), on nostr-tools'
 * relay client with `ws`. Reconnects by itself (and resubscribes). With an auth signer, a publish refused
 * with `auth-required:` and a subscription or query closed with `auth-required:` are retried once after
 * NIP-42 AUTH. AUTH is done here on demand, not by nostr-tools on every challenge: its automatic AUTH
 * rethrows a failure (a connection closed while authenticating) as an unhandled rejection.
 */
export class RelayClient implements Publish, Subscribe {
  private readonly relay: AbstractRelay;
  private readonly log: Logger;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private queriesOpen = 0;
  private readonly queryQueue: (() => void)[] = [];
  /** The instance's own relay on loopback (`ownRelay`): trusted, and it exempts its own keys from rate limits. */
  private readonly trusted: boolean;
  private authenticating: Promise<boolean> | undefined;

  constructor(private readonly options: RelayClientOptions) {
    this.log = options.logger.child({ relay: options.url });
    const trusted = options.ownRelay === true && isLoopbackRelayUrl(options.url);
    this.trusted = trusted;
    if (options.ownRelay && !trusted)
      this.log.warn({}, 'ownRelay is only for a relay on loopback; events from this one are verified');
    this.relay = new AbstractRelay(options.url, {
      // bcrypto's native verification (relay/verify.ts), not nostr-tools' pure-JS one: ~15x cheaper; none for
      // the instance's own relay on loopback, which verified each event on the way in.
      verifyEvent: trusted ? () => true : (e) => verifyEvent(e) === 'ok',
      websocketImplementation: QuietWebSocket as unknown as typeof globalThis.WebSocket,
      enableReconnect: true,
    });
    this.relay.publishTimeout = options.publishTimeoutMs ?? 10_000;
    // nostr-tools waits 10 s before the first reconnect; a local relay that restarts is back much sooner.
    this.relay.resubscribeBackoff = [300, 1000, 2000, 5000, 10_000, 20_000, 30_000];
    this.relay.onnotice = (msg) => this.log.warn({ notice: msg }, 'relay notice');
  }

  /** NIP-42 AUTH with the auth signer on the current connection; false when there is none or it fails. */
  private async authenticate(): Promise<boolean> {
    const signer = this.options.authSigner;
    if (!signer) return false;
    try {
      await this.relay.auth((t) => signer.signEvent(t) as ReturnType<NonNullable<AbstractRelay['onauth']>>);
      return true;
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'NIP-42 AUTH failed');
      return false;
    }
  }

  /** Refused for the rate, by the instance's own relay, which exempts its own keys once authenticated. */
  private exemptOnAuth(reason: string): boolean {
    return reason.startsWith('rate-limited') && this.trusted && this.options.authSigner !== undefined;
  }

  /** One AUTH for the publishes, queries and subscriptions refused together. */
  private authenticateShared(): Promise<boolean> {
    this.authenticating ??= this.authenticate().finally(() => {
      this.authenticating = undefined;
    });
    return this.authenticating;
  }

  get url(): string {
    return this.options.url;
  }

  async connect(): Promise<void> {
    // Closed for good: never dial again (a dial to a dead relay would keep nostr-tools reconnecting forever).
    if (this.closed) throw new Error('the relay client is closed');
    if (this.relay.connected) return;
    this.connecting ??= this.relay.connect({ timeout: this.options.connectTimeoutMs ?? 5000 }).finally(() => {
      this.connecting = undefined;
    });
    await this.connecting;
  }

  async publish(event: NostrEvent): Promise<void> {
    await this.connect();
    try {
      await this.relay.publish(event);
    } catch (err) {
      const message = errorMessage(err);
      if (message.startsWith('auth-required') && (await this.authenticate())) {
        await this.relay.publish(event);
        return;
      }
      // The instance's own relay does not rate-limit the instance's own keys once they authenticated
      // (RelayServerOptions.unlimited): a desk or a wallet service publishes for everyone it serves.
      if (this.exemptOnAuth(message) && (await this.authenticateShared())) {
        await this.relay.publish(event);
        return;
      }
      throw err instanceof Error ? err : new Error(message);
    }
  }

  subscribe(filters: Filter[], handlers: SubscriptionHandlers): Subscription {
    let sub: ReturnType<AbstractRelay['subscribe']> | undefined;
    let closed = false;
    let retried = false;
    const open = (): void => {
      if (closed) return;
      sub = this.relay.subscribe(filters, {
        onevent: (e) => handlers.onEvent(e),
        oneose: () => handlers.onEose?.(),
        onclose: (reason) => {
          if (closed) return;
          // Refused until the client authenticates (auth-required:, or rate-limited: by the instance's own
          // relay): once, after NIP-42 AUTH, the subscription is opened again.
          const authenticate =
            reason.startsWith('auth-required') && this.options.authSigner
              ? () => this.authenticate()
              : this.exemptOnAuth(reason)
                ? () => this.authenticateShared()
                : undefined;
          if (authenticate && !retried) {
            retried = true;
            authenticate()
              .then((ok) => (ok ? open() : handlers.onClose?.(reason)))
              .catch((err: unknown) => handlers.onClose?.(`error: ${errorMessage(err)}`));
            return;
          }
          handlers.onClose?.(reason);
        },
      });
    };
    this.connect()
      .then(open)
      .catch((err: unknown) => handlers.onClose?.(`error: ${errorMessage(err)}`));
    return {
      close: () => {
        closed = true;
        sub?.close();
      },
    };
  }

  async query(filters: Filter[], options: { timeoutMs?: number } = {}): Promise<NostrEvent[]> {
    await this.querySlot();
    try {
      return await this.queryOnce(filters, options);
    } catch (err) {
      const reason = errorMessage(err);
      if (reason.startsWith('auth-required') && (await this.authenticate()))
        return this.queryOnce(filters, options);
      if (this.exemptOnAuth(reason) && (await this.authenticateShared()))
        return this.queryOnce(filters, options);
      throw err;
    } finally {
      this.queriesOpen--;
      this.queryQueue.shift()?.();
    }
  }

  /** Waits until fewer than `maxConcurrentQueries` queries are open, then counts this one. */
  private async querySlot(): Promise<void> {
    const max = this.options.maxConcurrentQueries ?? 8;
    while (this.queriesOpen >= max) await new Promise<void>((resolve) => this.queryQueue.push(resolve));
    this.queriesOpen++;
  }

  private async queryOnce(filters: Filter[], options: { timeoutMs?: number }): Promise<NostrEvent[]> {
    await this.connect();
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
      const sub = this.relay.subscribe(filters, {
        onevent: (e) => events.push(e),
        oneose: () => finish(),
        onclose: (reason) => (reason && !done ? finish(new Error(reason)) : finish()),
      });
    });
  }

  async count(filters: Filter[]): Promise<number> {
    await this.connect();
    return this.relay.count(filters, {});
  }

  close(): void {
    this.closed = true;
    // nostr-tools can hold a reconnect timer that close() does not clear (a second hard close replaces the
    // handle): with reconnection off, a late one cannot start dialing again.
    this.relay.enableReconnect = false;
    this.relay.close();
  }
}
