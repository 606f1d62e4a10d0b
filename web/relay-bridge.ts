import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

/**
 * The relay at this origin: a WebSocket upgrade at `/relay` on the HTTP server is bridged to the instance's
 * relay (embedded or external), text frames both ways, so the dashboard speaks NIP-01 (and NIP-42 AUTH, which
 * passes through untouched) to its own origin and the page's CSP can stay `connect-src 'self'`. Either side
 * closing closes the other. Buffering is bounded: frames from the browser wait (up to a limit) while the relay
 * connection opens, and a browser that does not read what the relay sends is closed.
 */

export const RELAY_PATH = '/relay';

export interface RelayBridgeOptions {
  /** Where this process reaches the instance's relay (its local URL). */
  relayUrl: string;
  logger: Logger;
  /** Most bytes waiting for either side before the browser is closed (default 4 MiB). */
  maxBufferedBytes?: number;
  /** Largest frame accepted from the browser (default 256 KiB, the relay's default message limit). */
  maxMessageBytes?: number;
}

export class RelayBridge {
  private readonly wss: WebSocketServer;
  private readonly log: Logger;
  private readonly open = new Set<WebSocket>();
  private readonly maxBuffered: number;

  constructor(private readonly options: RelayBridgeOptions) {
    this.log = options.logger.child({ component: 'relay-bridge' });
    this.maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes ?? 262_144 });
  }

  /** How many browsers are bridged now. */
  get size(): number {
    return this.open.size;
  }

  /** Takes an HTTP upgrade to RELAY_PATH (the HTTP server checks the path and its per-address limits). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (browser) => this.bridge(browser, req.socket.remoteAddress));
  }

  /** Closes every bridged connection. */
  close(): void {
    for (const ws of this.open) ws.terminate();
    this.open.clear();
    this.wss.close();
  }

  private bridge(browser: WebSocket, address: string | undefined): void {
    this.open.add(browser);
    const relay = new WebSocket(this.options.relayUrl, { maxPayload: 16 * 1024 * 1024 });
    const waiting: string[] = [];
    let waitingBytes = 0;
    let closed = false;
    const closeBoth = (code: number, reason: string): void => {
      if (closed) return;
      closed = true;
      this.open.delete(browser);
      const safe = code === 1005 || code === 1006 || code < 1000 || code >= 5000 ? 1000 : code;
      for (const ws of [browser, relay]) {
        if (ws.readyState === WebSocket.OPEN) ws.close(safe, reason.slice(0, 120));
        else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      }
    };

    browser.on('message', (data, isBinary) => {
      if (isBinary) return closeBoth(1003, 'text frames only');
      const text = data.toString();
      if (relay.readyState === WebSocket.OPEN) {
        if (relay.bufferedAmount > this.maxBuffered) return closeBoth(1013, 'the relay is not keeping up');
        relay.send(text);
        return;
      }
      waitingBytes += Buffer.byteLength(text);
      if (waitingBytes > this.maxBuffered) return closeBoth(1013, 'too much sent before the relay answered');
      waiting.push(text);
    });
    relay.on('open', () => {
      for (const text of waiting.splice(0)) relay.send(text);
      waitingBytes = 0;
    });
    relay.on('message', (data, isBinary) => {
      if (isBinary) return;
      if (browser.bufferedAmount > this.maxBuffered) {
        this.log.warn({ address }, 'closing a dashboard relay connection that does not read');
        return closeBoth(1008, 'too slow: read what the relay sends');
      }
      browser.send(data.toString());
    });
    browser.on('close', (code, reason) => closeBoth(code, reason.toString()));
    relay.on('close', (code, reason) => closeBoth(code, reason.toString() || 'the relay closed'));
    browser.on('error', (err) => {
      this.log.debug({ err: errorMessage(err) }, 'dashboard relay connection failed');
      closeBoth(1011, 'error');
    });
    relay.on('error', (err) => {
      this.log.warn({ err: errorMessage(err), relay: this.options.relayUrl }, 'the bridged relay failed');
      closeBoth(1011, 'the relay is unreachable');
    });
  }
}
