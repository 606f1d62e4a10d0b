import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import WebSocket from 'ws';
import type { EventTemplate, Filter, NostrEvent } from '../core/nostr.ts';

/**
 * A raw NIP-01 client for protocol tests: sends any text, keeps every message the relay sends, and waits
 * for conditions (never for fixed times).
 */
export type RelayMsg = [string, ...unknown[]];

export class RawClient {
  readonly messages: RelayMsg[] = [];
  private waiters: { match: (m: RelayMsg) => boolean; resolve: (m: RelayMsg) => void }[] = [];
  private closedWith: { code: number; reason: string } | undefined;
  private closeWaiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as RelayMsg;
      const i = this.waiters.findIndex((w) => w.match(msg));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        w?.resolve(msg);
      } else this.messages.push(msg);
    });
    ws.on('close', (code, reason) => {
      this.closedWith = { code, reason: reason.toString() };
      for (const w of this.closeWaiters.splice(0)) w();
    });
    ws.on('error', () => {});
  }

  static connect(url: string, options: WebSocket.ClientOptions = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const client = new RawClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The first message (already received or still to come) that `match` accepts; it is consumed. */
  next(match: (m: RelayMsg) => boolean, timeoutMs = 20_000): Promise<RelayMsg> {
    const i = this.messages.findIndex(match);
    if (i >= 0) return Promise.resolve(this.messages.splice(i, 1)[0] as RelayMsg);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: RelayMsg) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** NIP-42 challenge the relay sent on connect. */
  async challenge(): Promise<string> {
    const m = await this.next((m) => m[0] === 'AUTH');
    return m[1] as string;
  }

  /** Sends EVENT and resolves with [accepted, message] of its OK. */
  async publish(event: NostrEvent | Record<string, unknown>): Promise<[boolean, string]> {
    this.send(['EVENT', event]);
    const ok = await this.next((m) => m[0] === 'OK' && m[1] === event.id);
    return [ok[2] as boolean, ok[3] as string];
  }

  /** Sends REQ and collects the stored events until EOSE; rejects with the reason on CLOSED. */
  async req(subId: string, ...filters: Filter[]): Promise<NostrEvent[]> {
    this.send(['REQ', subId, ...filters]);
    const end = await this.next((m) => (m[0] === 'EOSE' || m[0] === 'CLOSED') && m[1] === subId);
    if (end[0] === 'CLOSED') throw new Error(end[2] as string);
    const events: NostrEvent[] = [];
    for (let i = 0; i < this.messages.length; ) {
      const m = this.messages[i] as RelayMsg;
      if (m[0] === 'EVENT' && m[1] === subId) {
        events.push(m[2] as NostrEvent);
        this.messages.splice(i, 1);
      } else i++;
    }
    return events;
  }

  /** `req`, then CLOSE: the stored events only. */
  async query(subId: string, ...filters: Filter[]): Promise<NostrEvent[]> {
    try {
      return await this.req(subId, ...filters);
    } finally {
      this.send(['CLOSE', subId]);
    }
  }

  /** Next live EVENT for `subId`. */
  async nextEvent(subId: string, timeoutMs?: number): Promise<NostrEvent> {
    const m = await this.next((m) => m[0] === 'EVENT' && m[1] === subId, timeoutMs);
    return m[2] as NostrEvent;
  }

  /** The CLOSED reason for `subId`. */
  async closed(subId: string): Promise<string> {
    const m = await this.next((m) => m[0] === 'CLOSED' && m[1] === subId);
    return m[2] as string;
  }

  async notice(): Promise<string> {
    const m = await this.next((m) => m[0] === 'NOTICE');
    return m[1] as string;
  }

  /** NIP-45 COUNT; rejects with the reason on CLOSED. */
  async count(subId: string, ...filters: Filter[]): Promise<number> {
    this.send(['COUNT', subId, ...filters]);
    const m = await this.next((m) => (m[0] === 'COUNT' || m[0] === 'CLOSED') && m[1] === subId);
    if (m[0] === 'CLOSED') throw new Error(m[2] as string);
    return (m[2] as { count: number }).count;
  }

  /** Resolves with the close code once the socket is closed. */
  whenClosed(): Promise<{ code: number; reason: string }> {
    if (this.closedWith) return Promise.resolve(this.closedWith);
    return new Promise((resolve) =>
      this.closeWaiters.push(() => resolve(this.closedWith ?? { code: 0, reason: '' })),
    );
  }

  close(): Promise<void> {
    const closed = this.whenClosed().then(() => {});
    this.ws.close();
    return closed;
  }
}

/** A key pair that signs event templates (nostr-tools), for tests. */
export class TestKey {
  readonly secret = generateSecretKey();
  readonly pubkey = getPublicKey(this.secret);
  private serial = 0;

  sign(template: Partial<EventTemplate> = {}): NostrEvent {
    return finalizeEvent(
      {
        kind: template.kind ?? 1,
        created_at: template.created_at ?? Math.floor(Date.now() / 1000),
        tags: template.tags ?? [],
        content: template.content ?? `note ${this.serial++} ${Math.random()}`,
      },
      this.secret,
    );
  }

  /** The NIP-42 answer to `challenge` for `relayUrl`. */
  auth(challenge: string, relayUrl: string, createdAt?: number): NostrEvent {
    return this.sign({
      kind: 22242,
      tags: [
        ['relay', relayUrl],
        ['challenge', challenge],
      ],
      content: '',
      ...(createdAt === undefined ? {} : { created_at: createdAt }),
    });
  }
}

/** Waits until `check` holds, polling; for conditions the relay exposes no event for (stats). */
export async function until(check: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
