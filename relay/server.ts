import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Clock } from '../core/clock.ts';
import { systemClock, unixSeconds } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { EventStore } from '../core/event-store.ts';
import type { Logger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import type { Tracing } from '../core/tracing.ts';
import { verifyAuthEvent } from '../identity/nip42.ts';
import { ReadAccess } from './access.ts';
import { ConnectionsByAddress } from './admission.ts';
import type { AuthVerifier } from './auth.ts';
import { Connection, type Sub } from './connection.ts';
import type { RelayContext, RelayCounters } from './context.ts';
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
   * The relay's public ws(s):// URL(s) (a `wss://` one when TLS is terminated in front of the relay). NIP-42
   * AUTH accepts a `relay` tag naming one of them or the listening address (its ws:// URL, and its loopback
   * forms when it listens on loopback or on every interface); never what the client says (its Host header).
   */
  publicUrl?: string | readonly string[];
  /**
   * NIP-11 `restricted_writes`: true when the policies refuse ordinary events (pubkey allow-lists, kind
   * restrictions). Size and time limits do not count; auth 'write' and 'all' imply it (default false).
   */
  restrictedWrites?: boolean;
  /** NIP-42 check of an AUTH event (default: identity/nip42.ts `verifyAuthEvent`). */
  verifyAuth?: AuthVerifier;
  /**
   * Keys whose connections are not rate-limited once they authenticated with NIP-42 (the instance's own:
   * its desk, agents and wallet service publish for everyone they serve over one connection each).
   */
  unlimited?: (pubkey: string) => boolean;
  /** Ping interval; a connection that answers two pings in a row with nothing is dropped (default 30 s). */
  heartbeatIntervalMs?: number;
  /** Signature-verification worker threads (default: cores − 1, between 1 and 2; 0 verifies inline). */
  verifyWorkers?: number;
  /**
   * How long a stored answer waits for a client that reads none of it before the subscription is closed
   * (`CLOSED error: slow reader`; default 30 s). The bytes queued per client are `limits.maxBufferedBytes`.
   */
  slowReaderTimeoutMs?: number;
  /** How often expired events (NIP-40) are deleted from the store (default 60 s; 0 never). */
  purgeIntervalMs?: number;
  /** Spans for job requests' ingest (docs/observability.md, "Traces"); none by default. */
  tracing?: Tracing;
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
  /** `eventsRejected` by the OK message's NIP-01 prefix (`other` for an unprefixed one). */
  rejectedByReason: Record<string, number>;
  /** Events waiting for verification, policies or the store. */
  eventsPending: number;
  /** REQs whose stored events are waiting to be sent or being sent (streamed, one at a time per connection). */
  answersPending: number;
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
  private readonly publicUrls: readonly string[];
  private readonly byAddress: ConnectionsByAddress;
  /** What a NIP-42 `relay` tag may name (see `publicUrl`), set by `listen`. */
  private authUrls: readonly string[] = [];
  private readonly heartbeatMs: number;
  private readonly counters: RelayCounters = { received: 0, stored: 0, rejected: 0, rejectedBy: new Map() };
  private http: Server | undefined;
  private listenUrl: string | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private nextConnId = 1;

  constructor(private readonly options: RelayServerOptions) {
    this.log = options.logger;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.publicUrls = [options.publicUrl ?? []].flat().filter((u) => u !== '');
    this.byAddress = new ConnectionsByAddress(this.limits.maxConnectionsPerIp);
    this.heartbeatMs = options.heartbeatIntervalMs ?? 30_000;
    const clock = options.clock ?? systemClock;
    this.verifier = new VerifyPool({
      workers: options.verifyWorkers ?? Math.max(1, Math.min(2, availableParallelism() - 1)),
      logger: this.log,
    });
    this.ingest = new Ingest({
      ...(options.tracing ? { tracing: options.tracing } : {}),
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
      unlimited: options.unlimited ?? (() => false),
      live: this.live,
      slowReaderTimeoutMs: options.slowReaderTimeoutMs ?? 30_000,
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
    this.authUrls = [...this.publicUrls, ...listeningUrls(host, address.port)];
    this.heartbeat = setInterval(() => {
      for (const conn of this.conns) conn.heartbeat();
    }, this.heartbeatMs);
    this.heartbeat.unref();
    const purgeMs = this.options.purgeIntervalMs ?? 60_000;
    if (purgeMs > 0) {
      this.purgeTimer = setInterval(() => void this.purgeExpired(), purgeMs);
      this.purgeTimer.unref();
    }
    this.log.debug({ url: this.listenUrl, publicUrl: this.publicUrls }, 'relay listening');
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
      rejectedByReason: Object.fromEntries(this.counters.rejectedBy),
      eventsPending: this.ingest.pending,
      answersPending: [...this.conns].reduce((n, c) => n + c.answersPending, 0),
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
    const address = req.socket.remoteAddress ?? '';
    if (this.closing || this.conns.size >= this.limits.maxConnections) {
      refuseUpgrade(socket, 503, this.closing ? 'the relay is shutting down' : 'too many connections');
      if (!this.closing)
        this.log.warn({ connections: this.conns.size }, 'connection refused: maxConnections reached');
      return;
    }
    if (this.byAddress.full(address)) {
      refuseUpgrade(socket, 429, 'too many connections from your address');
      this.log.warn({ ip: address }, 'connection refused: maxConnectionsPerIp reached');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, address, socket));
  }

  private accept(ws: WebSocket, address: string, socket: Duplex): void {
    const conn = new Connection(this.ctx, ws, address, this.authUrls, this.nextConnId++, socket);
    this.conns.add(conn);
    this.byAddress.add(address);
    ws.on('message', (data, isBinary) => conn.onMessage(data, isBinary));
    ws.on('pong', () => conn.onPong());
    ws.on('error', (err) => this.log.debug({ conn: conn.id, err: errorMessage(err) }, 'websocket error'));
    ws.on('close', () => {
      this.conns.delete(conn);
      this.byAddress.remove(address);
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

const STATUS_TEXT: Record<number, string> = { 429: 'Too Many Requests', 503: 'Service Unavailable' };

/** Answers a WebSocket upgrade with an HTTP error and a one-line reason, and closes the socket. */
function refuseUpgrade(socket: Duplex, status: 429 | 503, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
}

const WILDCARDS = new Set(['', '0.0.0.0', '::']);
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * The ws:// URLs of the listening address, for the NIP-42 `relay` tag: the address itself; its loopback
 * forms (127.0.0.1, localhost, [::1]) when it is a loopback or wildcard address; and, for a wildcard, this
 * machine's interface addresses. All of it from the relay's own configuration, none from the client.
 */
function listeningUrls(host: string, port: number): string[] {
  const hosts = new Set<string>();
  if (!WILDCARDS.has(host)) hosts.add(host);
  if (WILDCARDS.has(host) || LOOPBACK.test(host))
    for (const h of ['127.0.0.1', 'localhost', '::1']) hosts.add(h);
  if (WILDCARDS.has(host)) {
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) hosts.add(a.address.replace(/%.*$/, ''));
    }
  }
  return [...hosts].map((h) => `ws://${urlHost(h)}:${port}`);
}

/** The host part of the URL for a listening address; wildcard addresses are reached through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
