import type { AddressInfo } from 'node:net';
import { NostrRelay } from '@nostr-relay/core';
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite';
import { WebSocketServer } from 'ws';
import type { NostrEvent } from '../core/nostr.ts';

/**
 * The benchmark baseline: a second relay implementation from npm, @nostr-relay/core with its SQLite
 * repository (better-sqlite3), served over `ws` the way its documentation shows. Its result caches are
 * turned off so every query reads the database, as ours does.
 */
export interface BaselineRelay {
  url: string;
  /** Loads events straight into the repository (for query benchmarks; not timed). */
  load(events: readonly NostrEvent[]): Promise<void>;
  close(): Promise<void>;
}

export async function startBaselineRelay(path: string): Promise<BaselineRelay> {
  const repo = new EventRepositorySqlite(path);
  await repo.init();
  const relay = new NostrRelay(repo, {
    filterResultCacheTtl: 0,
    eventHandlingResultCacheTtl: 0,
    logLevel: 3,
  });
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 1 << 20 });
  wss.on('connection', (ws) => {
    relay.handleConnection(ws);
    ws.on('message', (data) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(data));
      } catch {
        return;
      }
      relay.handleMessage(ws, msg as Parameters<NostrRelay['handleMessage']>[1]).catch(() => {});
    });
    ws.on('close', () => relay.handleDisconnect(ws));
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    load: async (events) => {
      // Loading is not timed: skip fsync while it runs, then restore the repository's own setting.
      const db = repo.getDatabase();
      const sync = db.pragma('synchronous', { simple: true });
      db.pragma('synchronous = OFF');
      for (const e of events) await repo.upsert(e);
      db.pragma(`synchronous = ${Number(sync)}`);
    },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await relay.destroy();
      await repo.destroy();
    },
  };
}
