import WebSocket from 'ws';
import type { Filter, NostrEvent } from '../core/nostr.ts';

/** A minimal raw WebSocket Nostr client for benchmarks: the same code drives both relays. */
export class BenchClient {
  private readonly waiters = new Map<string, (msg: unknown[]) => void>();
  private okCount = 0;
  private okTrue = 0;
  private onOk: (() => void) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as unknown[];
      if (msg[0] === 'OK') {
        this.okCount++;
        if (msg[2] === true) this.okTrue++;
        this.onOk?.();
      } else if (msg[0] === 'EOSE' || msg[0] === 'CLOSED' || msg[0] === 'COUNT') {
        const w = this.waiters.get(String(msg[1]));
        if (w) {
          this.waiters.delete(String(msg[1]));
          w(msg);
        }
      }
    });
  }

  static async connect(url: string): Promise<BenchClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new BenchClient(ws);
  }

  /** Sends `events` keeping at most `window` unanswered; resolves when every OK arrived. */
  async publishAll(events: readonly NostrEvent[], window: number): Promise<{ ok: number; accepted: number }> {
    const startOk = this.okCount;
    const startTrue = this.okTrue;
    let sent = 0;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (sent < events.length && sent - (this.okCount - startOk) < window) {
          this.ws.send(JSON.stringify(['EVENT', events[sent]]));
          sent++;
        }
        if (this.okCount - startOk >= events.length) {
          this.onOk = undefined;
          resolve();
        }
      };
      this.onOk = pump;
      pump();
    });
    return { ok: this.okCount - startOk, accepted: this.okTrue - startTrue };
  }

  private serial = 0;

  /** REQ until EOSE; resolves with the elapsed milliseconds. */
  async reqUntilEose(filters: Filter[]): Promise<number> {
    const id = `q${this.serial++}`;
    const t0 = performance.now();
    await new Promise<unknown[]>((resolve) => {
      this.waiters.set(id, resolve);
      this.ws.send(JSON.stringify(['REQ', id, ...filters]));
    });
    const elapsed = performance.now() - t0;
    this.ws.send(JSON.stringify(['CLOSE', id]));
    return elapsed;
  }

  close(): void {
    this.ws.terminate();
  }
}
