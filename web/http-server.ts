import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { AssetBundle } from './assets.ts';
import type { DashboardApi } from './dashboard-api.ts';
import { DASHBOARD_CSP, isAppRoute, renderHomePage } from './home-page.ts';
import type { InstanceView } from './instance-view.ts';
import type { L402Gate } from './l402.ts';
import { isMediaPath, serveMedia } from './media-route.ts';
import type { MediaStore } from './media-store.ts';
import {
  METRICS_PATH,
  type MetricsServing,
  READY_PATH,
  type ReadyCheck,
  serveMetrics,
  serveReady,
} from './ops-routes.ts';
import { RELAY_PATH, type RelayBridge } from './relay-bridge.ts';
import { VOICE_PATH, type VoiceSocket } from './voice-socket.ts';

export type { InstanceView } from './instance-view.ts';

export interface HttpServerOptions {
  logger: Logger;
  view: () => InstanceView;
  /** The NIP-05 document for `?name=` (or all names when undefined). */
  nostrJson: (name: string | undefined) => unknown;
  /**
   * Paid access (L402): every request for an existing page passes `l402.check` before its handler; a
   * priced page is served once the request carries a valid token. `/api/l402` (always free) lists the
   * priced routes. The gate limits new invoices per remote address (429 with `Retry-After`).
   */
  l402?: L402Gate;
  /** What one client may hold of the server (defaults in HTTP_LIMITS). */
  limits?: Partial<HttpLimits>;
  /** The dashboard (docs/dashboard.md): its page and app routes, assets, API and relay bridge. */
  dashboard?: DashboardServing;
  /** `/metrics` (docs/observability.md); absent when metrics.enabled is false (404). */
  metrics?: MetricsServing;
  /** `/readyz`: the readiness facts; absent: every request is answered ready once the server listens. */
  ready?: () => Promise<readonly ReadyCheck[]>;
  /** `/media/<sha256>.wav` (web/media-route.ts): the speech of text-to-speech jobs; absent: 404. */
  media?: MediaStore;
}

export interface DashboardServing {
  api: DashboardApi;
  assets: AssetBundle;
  bridge?: RelayBridge;
  /** The talk button's socket and status at /api/voice (web/voice-socket.ts). */
  voice?: VoiceSocket;
  /** http.publicUrl when set: this origin as others reach it (else the request's Host header). */
  publicUrl?: string;
}

export interface HttpLimits {
  /** Open connections from one address; more are answered 429 and closed. */
  maxConnectionsPerAddress: number;
  /** Open connections in all; more are refused by the server. */
  maxConnections: number;
  /** A request's headers must arrive within this (slow-header clients are dropped). */
  headersTimeoutMs: number;
  /** A connection with no traffic for this long is closed. */
  idleTimeoutMs: number;
}

export const HTTP_LIMITS: HttpLimits = {
  maxConnectionsPerAddress: 64,
  maxConnections: 1024,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
};

/** The discovery document: always free, so clients can learn the prices before they pay. */
export const L402_DISCOVERY_PATH = '/api/l402';

type Handler = (url: URL, res: ServerResponse) => void;

/**
 * The instance's HTTP server: the home page (the dashboard replaces it later), NIP-05
 * (`/.well-known/nostr.json`), `/api/status` (what `timmy status` reads), `/healthz`, `/readyz`, `/metrics`
 * (web/ops-routes.ts), and `/api/l402` (the
 * L402 price list). With an `l402` gate, the configured routes cost sats (see web/l402.ts).
 */
export class HttpServer {
  private server: Server | undefined;
  private address = '';
  private readonly log: Logger;
  /** Connections refused for their address's count: whatever they send is not answered. */
  private readonly refused = new WeakSet<Socket>();

  constructor(private readonly options: HttpServerOptions) {
    this.log = options.logger.child({ component: 'http' });
  }

  get url(): string {
    return this.address;
  }

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    const limits = { ...HTTP_LIMITS, ...this.options.limits };
    const server = createServer(
      // Slow-header and idle clients are checked for at least every second, not every 30 s (Node's default).
      { connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs) },
      (req, res) => this.handle(req, res),
    );
    server.on('upgrade', (req, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    server.headersTimeout = limits.headersTimeoutMs;
    server.requestTimeout = limits.headersTimeoutMs * 3;
    server.keepAliveTimeout = Math.min(5000, limits.idleTimeoutMs);
    server.timeout = limits.idleTimeoutMs;
    server.maxConnections = limits.maxConnections;
    const perAddress = new Map<string, number>();
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? '';
      const open = (perAddress.get(address) ?? 0) + 1;
      perAddress.set(address, open);
      socket.once('close', () => {
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left <= 0) perAddress.delete(address);
        else perAddress.set(address, left);
      });
      if (open > limits.maxConnectionsPerAddress) {
        this.log.warn({ address, open }, 'too many connections from one address; refusing');
        this.refused.add(socket);
        const body = 'too many connections from your address\n';
        socket.end(
          `HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
        socket.destroySoon();
      }
    });
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    const shownHost =
      host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    this.address = `http://${shownHost}:${addr.port}`;
    return this.address;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.options.dashboard?.bridge?.close();
    this.options.dashboard?.voice?.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.refused.has(req.socket)) return;
    this.route(req, res).catch((err: unknown) => {
      this.log.error({ err: errorMessage(err), url: req.url }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  }

  /** A WebSocket upgrade: `/relay` is bridged to the instance's relay; anything else is refused. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const bridge = this.options.dashboard?.bridge;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (this.refused.has(req.socket)) return;
    const voice = this.options.dashboard?.voice;
    if (voice && path === VOICE_PATH) {
      voice.upgrade(req, socket, head, this.originOf(req));
      return;
    }
    if (!bridge || path !== RELAY_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    bridge.upgrade(req, socket, head);
  }

  /** This server's origin as the browser sees it: http.publicUrl, else the Host header (when well formed). */
  private originOf(req: IncomingMessage): string {
    const pub = this.options.dashboard?.publicUrl;
    if (pub) return new URL(pub).origin;
    const host = req.headers.host;
    if (host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host))
      return `http://${host}`;
    return this.address;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, corsHeaders());
      res.end();
      return;
    }
    const dashboard = this.options.dashboard;
    if (dashboard && (method === 'GET' || method === 'HEAD') && url.pathname.startsWith('/assets/')) {
      await dashboard.assets.serve(req, res, url.pathname);
      return;
    }
    if (dashboard?.voice && (method === 'GET' || method === 'HEAD') && url.pathname === VOICE_PATH) {
      dashboard.voice.serveStatus(res);
      return;
    }
    if (dashboard?.api.routes(method, url.pathname)) {
      if (!(await this.paid(req, res, url, method))) return;
      await dashboard.api.handle(req, res, url, this.originOf(req));
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      sendJson(res, 405, { error: `method ${method} not allowed` }, { Allow: 'GET, HEAD, OPTIONS' });
      return;
    }
    if (url.pathname === METRICS_PATH && this.options.metrics) {
      await serveMetrics(this.options.metrics, req, res, `${this.originOf(req)}${url.pathname}${url.search}`);
      return;
    }
    if (this.options.media && isMediaPath(url.pathname)) {
      await serveMedia(this.options.media, req, res, url.pathname);
      return;
    }
    if (url.pathname === READY_PATH) {
      await serveReady(this.options.ready ?? (async () => []), res);
      return;
    }
    const handler = this.handlerFor(url.pathname);
    if (!handler) {
      sendJson(res, 404, { error: `no such page: ${url.pathname}` });
      return;
    }
    if (!(await this.paid(req, res, url, method))) return;
    handler(url, res);
  }

  /** The L402 gate's word on a request for an existing page: false when it answered (402, 429…). */
  private async paid(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<boolean> {
    const gate = this.options.l402;
    if (gate && url.pathname !== L402_DISCOVERY_PATH) {
      const decision = await gate.check(method, url.pathname, req.headers.authorization, {
        client: req.socket.remoteAddress,
      });
      if (!decision.allowed) {
        if (!res.writableEnded) sendJson(res, decision.status, decision.body, decision.headers);
        return false;
      }
    }
    return true;
  }

  /** The handler of an existing page; undefined for a 404 (which is never charged for). */
  private handlerFor(pathname: string): Handler | undefined {
    if (this.options.dashboard && isAppRoute(pathname))
      return (_url, res) => sendHtml(res, renderHomePage(this.options.view(), { app: true }), DASHBOARD_CSP);
    switch (pathname) {
      case '/':
        return (_url, res) => sendHtml(res, renderHomePage(this.options.view()));
      case '/.well-known/nostr.json':
        return (url, res) =>
          sendJson(res, 200, this.options.nostrJson(url.searchParams.get('name') ?? undefined));
      case '/api/status':
        return (_url, res) => sendJson(res, 200, this.options.view());
      case '/healthz':
        return (_url, res) => sendJson(res, 200, { ok: true });
      case L402_DISCOVERY_PATH:
        return (_url, res) => sendJson(res, 200, this.l402Document());
      default:
        return undefined;
    }
  }

  private l402Document(): unknown {
    const gate = this.options.l402;
    if (!gate) return { enabled: false, routes: [] };
    return {
      enabled: true,
      scheme: 'L402',
      authorization: 'L402 <base64 macaroon>:<hex preimage>',
      tokenTtlSeconds: gate.tokenTtlSeconds,
      routes: gate.describe(),
    };
  }
}

function corsHeaders(): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    'Access-Control-Expose-Headers': 'WWW-Authenticate, Retry-After',
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...corsHeaders(),
    ...extra,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function sendHtml(
  res: ServerResponse,
  html: string,
  csp = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:",
): void {
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  });
  res.end(res.req.method === 'HEAD' ? undefined : html);
}
