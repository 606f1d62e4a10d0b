/**
 * The benchmark's client side, run in its own process (as real clients are) so that its JSON work does not
 * share the relay's event loop. Driven over IPC by bench/remote-client.ts; identical for both relays.
 */
import { readFile } from 'node:fs/promises';
import { errorMessage } from '../core/errors.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import { BenchClient } from './ws-client.ts';

export type ClientCommand =
  | { type: 'ingest'; url: string; eventsFile: string; clients: number; window: number }
  | { type: 'query'; url: string; filters: Filter[][]; warmup: number };

export type ClientReply =
  | { type: 'ingest'; seconds: number; ok: number; accepted: number }
  | { type: 'query'; times: number[] }
  | { type: 'error'; message: string };

async function ingest(c: Extract<ClientCommand, { type: 'ingest' }>): Promise<ClientReply> {
  const events = JSON.parse(await readFile(c.eventsFile, 'utf8')) as NostrEvent[];
  const conns = await Promise.all(Array.from({ length: c.clients }, () => BenchClient.connect(c.url)));
  const per = Math.ceil(events.length / c.clients);
  const t0 = performance.now();
  const results = await Promise.all(
    conns.map((conn, i) => conn.publishAll(events.slice(i * per, (i + 1) * per), c.window)),
  );
  const seconds = (performance.now() - t0) / 1000;
  for (const conn of conns) conn.close();
  return {
    type: 'ingest',
    seconds,
    ok: results.reduce((s, r) => s + r.ok, 0),
    accepted: results.reduce((s, r) => s + r.accepted, 0),
  };
}

async function query(c: Extract<ClientCommand, { type: 'query' }>): Promise<ClientReply> {
  const conn = await BenchClient.connect(c.url);
  const times: number[] = [];
  for (let i = 0; i < c.filters.length; i++) {
    const t = await conn.reqUntilEose(c.filters[i] as Filter[]);
    if (i >= c.warmup) times.push(t);
  }
  conn.close();
  return { type: 'query', times };
}

process.on('message', (msg: ClientCommand) => {
  const run = msg.type === 'ingest' ? ingest(msg) : query(msg);
  run.then(
    (reply) => process.send?.(reply),
    (err: unknown) => process.send?.({ type: 'error', message: errorMessage(err) }),
  );
});
