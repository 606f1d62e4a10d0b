import { AbstractRelay } from 'nostr-tools/abstract-relay';
import WebSocket from 'ws';
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
}

/**
 * `Publish` and `Subscribe` over one relay URL (the embedded relay or strfry alike), on nostr-tools'
 * relay client with `ws`. Reconnects by itself; a publish refused with `auth-required:` is retried once
 * after NIP-42 AUTH when an auth signer was given.
 */
export class RelayClient implements Publish, Subscribe {
  private readonly relay: AbstractRelay;
  private readonly log: Logger;
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: RelayClientOptions) {
    this.log = options.logger.child({ relay: options.url });
    this.relay = new AbstractRelay(options.url, {
      // bcrypto's native verification (relay/verify.ts), not nostr-tools' pure-JS one: ~15x cheaper.
      verifyEvent: (e) => verifyEvent(e) === 'ok',
      websocketImplementation: QuietWebSocket as unknown as typeof globalThis.WebSocket,
      enableReconnect: true,
    });
    this.relay.publishTimeout = options.publishTimeoutMs ?? 10_000;
    // nostr-tools waits 10 s before the first reconnect; a local relay that restarts is back much sooner.
    this.relay.resubscribeBackoff = [300, 1000, 2000, 5000, 10_000, 20_000, 30_000];
    this.relay.onnotice = (msg) => this.log.warn({ notice: msg }, 'relay notice');
    const signer = options.authSigner;
    if (signer)
      this.relay.onauth = (template) =>
        signer.signEvent(template) as ReturnType<NonNullable<AbstractRelay['onauth']>>;
  }

  get url(): string {
    return this.options.url;
  }

  async connect(): Promise<void> {
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
      const message = err instanceof Error ? err.message : String(err);
      if (message.startsWith('auth-required') && this.options.authSigner) {
        const signer = this.options.authSigner;
        await this.relay.auth((t) => signer.signEvent(t) as ReturnType<NonNullable<AbstractRelay['onauth']>>);
        await this.relay.publish(event);
        return;
      }
      throw err instanceof Error ? err : new Error(message);
    }
  }

  subscribe(filters: Filter[], handlers: SubscriptionHandlers): Subscription {
    let sub: ReturnType<AbstractRelay['subscribe']> | undefined;
    let closed = false;
    this.connect()
      .then(() => {
        if (closed) return;
        sub = this.relay.subscribe(filters, {
          onevent: (e) => handlers.onEvent(e),
          oneose: () => handlers.onEose?.(),
          onclose: (reason) => handlers.onClose?.(reason),
        });
      })
      .catch((err: unknown) =>
        handlers.onClose?.(`error: ${err instanceof Error ? err.message : String(err)}`),
      );
    return {
      close: () => {
        closed = true;
        sub?.close();
      },
    };
  }

  async query(filters: Filter[], options: { timeoutMs?: number } = {}): Promise<NostrEvent[]> {
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
    this.relay.close();
  }
}
