import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Clock } from '../core/clock.ts';
import { systemClock, unixSeconds } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { EventStore } from '../core/event-store.ts';
import type { Logger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { verifyAuthEvent } from '../identity/nip42.ts';
import { ReadAccess } from './access.ts';
import type { AuthVerifier } from './auth.ts';
import { Connection, type RelayContext, type Sub } from './connection.ts';
import { Ingest } from './ingest.ts';
import { DEFAULT_LIMITS, type RelayLimits, wsMaxPayload } from './limits.ts';
import { handleHttpRequest, infoDocument, type RelayInfo } from './nip11.ts';
import type { AuthMode } from './policies.ts';
import type { Policy } from './policy.ts';
import { SubscriptionIndex } from './subscriptions.ts';
import { VerifyPool } from './verify-pool.ts';

export { DEFAULT_LIMITS, type RelayLimits } from './limits.ts';
export type { RelayInfo } from './nip11.ts';

export interface RelayServerOptions {
  store: EventStore;
  logger: Logger;
  clock?: Clock;
  /** Write policies (relay/policy.ts), run after verification and before storing. */
  policies?: Policy[];
  info: RelayInfo;
  /** Missing fields take DEFAULT_LIMITS (the defaults of `relay.limits` in core/config.ts). */
  limits?: Partial<RelayLimits>;
  /** NIP-42: 'write' refuses unauthenticated EVENTs, 'all' unauthenticated REQ and COUNT too (default 'none'). */
  auth?: AuthMode;
  /** Kinds readable only by their author and `p`-tagged recipients, after NIP-42 (default [4, 1059]). */
  restrictedReadKinds?: number[];
  /**
   * The relay's public ws(s):// URL, the only `relay` tag NIP-42 AUTH accepts besides the listening URL.
   * Without it, the URL the client connected to (its Host header) is accepted too.
   */
  publicUrl?: string;
  /**
   * NIP-11 `restricted_writes`: true when the policies refuse ordinary events (pubkey allow-lists, kind
   * restrictions). Size and time limits do not count; auth 'write' and 'all' imply it (default false).
   */
  restrictedWrites?: boolean;
  /** NIP-42 check of an AUTH event (default: identity/nip42.ts `verifyAuthEvent`). */
  verifyAuth?: AuthVerifier;
  /** Ping interval; a connection that answers two pings in a row with nothing is dropped (default 30 s). */
  heartbeatIntervalMs?: number;
  /** Signature-verification worker threads (default: cores − 1, between 1 and 2; 0 verifies inline). */
  verifyWorkers?: number;
  /** Bytes queued for one client above which its live subscriptions are closed (default 8 MiB). */
  maxBufferedBytes?: number;
  /** How often expired events (NIP-40) are deleted from the store (default 60 s; 0 never). */
  purgeIntervalMs?: number;
}

export interface RelayStats {
  connections: number;
  subscriptions: number;
  /** EVENT messages with a readable event id. */
  eventsReceived: number;
  /** Events saved by the store (not duplicates, not ephemeral). */
  eventsStored: number;
  /** EVENTs answered `OK false`. */
  eventsRejected: number;
  /** Events waiting for verification, policies or the store. */
  eventsPending: number;
}

/** Accepted-event listener: `saved` events are durable; `ephemeral` ones were only broadcast. */
export type EventListener = (event: NostrEvent, outcome: 'saved' | 'ephemeral') => void;

/**
 * The embedded Nostr relay: NIP-01 over WebSocket (`ws`), NIP-09 (by the store), NIP-11 on the same port,
 * NIP-40, NIP-42, NIP-45 and ephemeral events. Message handling lives in relay/connection.ts, the write
 * path in relay/ingest.ts; this class owns the HTTP server, admission, heartbeat and shutdown.
 */
export class RelayServer {
  private readonly log: Logger;
  private readonly limits: RelayLimits;
  private readonly ctx: RelayContext;
  private readonly verifier: VerifyPool;
  private readonly ingest: Ingest;
  private readonly live = new SubscriptionIndex<Sub>();
  private readonly conns = new Set<Connection>();
  private readonly listeners = new Set<EventListener>();
  private readonly wss: WebSocketServer;
  private readonly publicUrl: string | undefined;
  private readonly heartbeatMs: number;
  private readonly counters = { received: 0, stored: 0, rejected: 0 };
  private http: Server | undefined;
  private listenUrl: string | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private nextConnId = 1;

  constructor(private readonly options: RelayServerOptions) {
    this.log = options.logger;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.publicUrl = options.publicUrl || undefined;
    this.heartbeatMs = options.heartbeatIntervalMs ?? 30_000;
    const clock = options.clock ?? systemClock;
    this.verifier = new VerifyPool({
      workers: options.verifyWorkers ?? Math.max(1, Math.min(2, availableParallelism() - 1)),
      logger: this.log,
    });
    this.ingest = new Ingest({
      store: options.store,
      verifier: this.verifier,
      policies: options.policies ?? [],
      logger: this.log,
      clock,
      onAccepted: (event, outcome) => this.broadcast(event, outcome),
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: wsMaxPayload(this.limits),
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.ctx = {
      store: options.store,
      logger: this.log,
      clock,
      limits: this.limits,
      auth: options.auth ?? 'none',
      access: new ReadAccess(options.restrictedReadKinds ?? [4, 1059]),
      ingest: this.ingest,
      verifyAuth: options.verifyAuth ?? verifyAuthEvent,
      live: this.live,
      maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
      counters: this.counters,
      closing: () => this.closing !== undefined,
    };
  }

  /** Starts serving; port 0 picks a free port. Resolves with the ws:// URL clients connect to. */
  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    if (this.http) throw new Error('the relay is already listening');
    if (this.closing) throw new Error('the relay is closed');
    const http = createServer((req, res) =>
      handleHttpRequest(
        req,
        res,
        () => this.infoDocument(),
        () => this.url,
      ),
    );
    http.headersTimeout = 15_000;
    http.requestTimeout = 30_000;
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
    this.http = http;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      this.http = undefined;
      throw err;
    });
    http.on('error', (err) => this.log.error({ err: errorMessage(err) }, 'relay server error'));
    const address = http.address() as AddressInfo;
    this.listenUrl = `ws://${urlHost(host)}:${address.port}`;
    this.heartbeat = setInterval(() => {
      for (const conn of this.conns) conn.heartbeat();
    }, this.heartbeatMs);
    this.heartbeat.unref();
    const purgeMs = this.options.purgeIntervalMs ?? 60_000;
    if (purgeMs > 0) {
      this.purgeTimer = setInterval(() => void this.purgeExpired(), purgeMs);
      this.purgeTimer.unref();
    }
    this.log.info({ url: this.listenUrl, publicUrl: this.publicUrl }, 'relay listening');
    return this.listenUrl;
  }

  /** The ws:// URL the relay listens on. */
  get url(): string {
    if (!this.listenUrl) throw new Error('the relay is not listening');
    return this.listenUrl;
  }

  stats(): RelayStats {
    return {
      connections: this.conns.size,
      subscriptions: this.live.size,
      eventsReceived: this.counters.received,
      eventsStored: this.counters.stored,
      eventsRejected: this.counters.rejected,
      eventsPending: this.ingest.pending,
    };
  }

  /** Listens to accepted events (stored or ephemeral); returns the function that stops listening. */
  on(name: 'event', listener: EventListener): () => void {
    if (name !== 'event') throw new Error(`unknown relay event ${String(name)}`);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Stops accepting connections, answers every event already received (after the store saved it), then
   * closes the sockets and the verification workers. The store stays open: its owner closes it.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Deletes the events whose NIP-40 expiration has passed (queries already hide them); returns how many. */
  async purgeExpired(): Promise<number> {
    try {
      const n = await this.options.store.purgeExpired(unixSeconds(this.ctx.clock));
      if (n > 0) this.log.info({ count: n }, 'expired events purged');
      return n;
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'purging expired events failed');
      return 0;
    }
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.purgeTimer);
    const http = this.http;
    const httpClosed = http ? new Promise<void>((resolve) => http.close(() => resolve())) : Promise.resolve();
    http?.closeIdleConnections();
    await this.ingest.flush();
    const sockets = [...this.conns].map((c) => c.close());
    await Promise.all(sockets);
    await this.verifier.close();
    http?.closeAllConnections();
    await httpClosed;
    this.log.info({ url: this.listenUrl }, 'relay closed');
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.log.debug({ err: errorMessage(err) }, 'socket error during upgrade'));
    if (this.closing || this.conns.size >= this.limits.maxConnections) {
      const body = this.closing ? 'the relay is shutting down\n' : 'too many connections\n';
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      if (!this.closing)
        this.log.warn({ connections: this.conns.size }, 'connection refused: maxConnections reached');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const urls = [
      this.publicUrl ?? (req.headers.host ? `ws://${req.headers.host}` : undefined),
      this.listenUrl,
    ];
    const conn = new Connection(
      this.ctx,
      ws,
      req.socket.remoteAddress ?? '',
      urls.filter((u): u is string => u !== undefined),
      this.nextConnId++,
    );
    this.conns.add(conn);
    ws.on('message', (data, isBinary) => conn.onMessage(data, isBinary));
    ws.on('pong', () => conn.onPong());
    ws.on('error', (err) => this.log.debug({ conn: conn.id, err: errorMessage(err) }, 'websocket error'));
    ws.on('close', () => {
      this.conns.delete(conn);
      conn.onClose();
    });
  }

  private broadcast(event: NostrEvent, outcome: 'saved' | 'ephemeral'): void {
    let json: string | undefined;
    const eventJson = (): string => {
      json ??= JSON.stringify(event);
      return json;
    };
    for (const sub of this.live.match(event)) sub.conn.deliver(sub, event, eventJson);
    for (const listener of this.listeners) {
      try {
        listener(event, outcome);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'event listener failed');
      }
    }
  }

  private infoDocument(): Record<string, unknown> {
    return infoDocument({
      info: this.options.info,
      limits: this.limits,
      auth: this.ctx.auth,
      restrictedWrites: this.options.restrictedWrites ?? false,
    });
  }
}

/** The host part of the URL for a listening address; wildcard addresses are reached through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
