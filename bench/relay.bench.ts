import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { RelayServer } from '../relay/server.ts';
import { SqliteEventStore, writerThreadFor } from '../relay/sqlite-store.ts';
import { startBaselineRelay } from './baseline-relay.ts';
import { type Author, makeAuthors, makeEvents, percentile, queryFilters } from './events.ts';
import { RemoteClient } from './remote-client.ts';

/**
 * Relay ingest (signed events/s, 1 and 50 concurrent clients) and query latency (p50/p99 of a
 * `{kinds, authors, since, limit:100}` REQ until EOSE over 100,000 stored events), for the embedded relay
 * and for the npm baseline, in the same run, with the same pre-signed events and the same client code, which
 * runs in a separate process as real clients do.
 */

export interface RelayUnderTest {
  name: string;
  url: string;
  load(events: readonly NostrEvent[]): Promise<void>;
  close(): Promise<void>;
}

const NO_LIMITS = {
  maxMessageBytes: 1 << 20,
  maxSubscriptions: 64,
  maxFilters: 16,
  maxLimit: 5000,
  maxEventTags: 2500,
  maxContentBytes: 1 << 19,
  eventsPerSecond: 1_000_000,
  eventsBurst: 1_000_000,
  createdAtFutureSeconds: 900,
  createdAtPastSeconds: 0,
  maxConnections: 4096,
};

/** The embedded relay as `timmy start` runs it (`relay.writerThread: auto`). */
export function startOurs(dir: string): Promise<RelayUnderTest> {
  return startOursWith(dir, writerThreadFor('auto'));
}

/** The other choice of `relay.writerThread` than `timmy start` makes on this machine, for the same-run A/B. */
export function startOursOtherWriter(dir: string): Promise<RelayUnderTest> {
  return startOursWith(dir, !writerThreadFor('auto'));
}

async function startOursWith(dir: string, writerThread: boolean): Promise<RelayUnderTest> {
  const store = new SqliteEventStore({ path: join(dir, 'timmy.sqlite'), logger: silentLogger, writerThread });
  await store.ready();
  const server = new RelayServer({
    store,
    logger: silentLogger,
    info: { name: 'bench', description: 'bench' },
    limits: NO_LIMITS,
    auth: 'none',
    restrictedReadKinds: [],
  });
  const url = await server.listen(0);
  return {
    name:
      writerThread === writerThreadFor('auto')
        ? 'timmy (embedded)'
        : `timmy, writer thread ${writerThread ? 'on' : 'off'}`,
    url,
    load: async (events) => {
      for (let i = 0; i < events.length; i += 1000) await store.save(events.slice(i, i + 1000));
    },
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}

export async function startBaseline(dir: string): Promise<RelayUnderTest> {
  const b = await startBaselineRelay(join(dir, 'baseline.sqlite'));
  return { name: '@nostr-relay/core + sqlite', ...b };
}

export interface IngestResult {
  relay: string;
  clients: number;
  events: number;
  accepted: number;
  seconds: number;
  eventsPerSecond: number;
}

/** Starts a relay in a fresh temporary directory, runs `fn` against it, then closes it and removes the directory. */
async function withRelay<T>(
  start: (dir: string) => Promise<RelayUnderTest>,
  fn: (relay: RelayUnderTest) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-relay-'));
  const relay = await start(dir);
  try {
    return await fn(relay);
  } finally {
    await relay.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function ingest(
  start: (dir: string) => Promise<RelayUnderTest>,
  eventsFile: string,
  events: number,
  clients: number,
  client: RemoteClient,
): Promise<IngestResult> {
  return withRelay(start, async (relay) => {
    const window = clients === 1 ? 1000 : 50;
    const r = await client.run({ type: 'ingest', url: relay.url, eventsFile, clients, window });
    return {
      relay: relay.name,
      clients,
      events,
      accepted: r.accepted,
      seconds: r.seconds,
      eventsPerSecond: r.accepted / r.seconds,
    };
  });
}

export interface QueryResult {
  relay: string;
  stored: number;
  queries: number;
  p50: number;
  p99: number;
  mean: number;
}

export async function queryLatency(
  start: (dir: string) => Promise<RelayUnderTest>,
  events: readonly NostrEvent[],
  authors: Author[],
  now: number,
  queries: number,
  client: RemoteClient,
): Promise<QueryResult> {
  return withRelay(start, async (relay) => {
    await relay.load(events);
    const warmup = 20;
    const filters = queryFilters(authors, now, queries + warmup);
    const { times } = await client.run({ type: 'query', url: relay.url, filters, warmup });
    times.sort((a, b) => a - b);
    return {
      relay: relay.name,
      stored: events.length,
      queries,
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      mean: times.reduce((s, t) => s + t, 0) / times.length,
    };
  });
}

export interface RelayBenchOptions {
  ingestEvents: number;
  storedEvents: number;
  queries: number;
  /** Run only one part: 'ingest' or 'query' (for profiling); both when undefined. */
  only?: 'ingest' | 'query';
  log: (line: string) => void;
}

export async function relayBench(
  o: RelayBenchOptions,
): Promise<{ ingest: IngestResult[]; query: QueryResult[] }> {
  const now = Math.floor(Date.now() / 1000);
  o.log(`signing ${o.ingestEvents + o.storedEvents} events (not timed)...`);
  const authors = makeAuthors(500);
  const ingestEvents = makeEvents(o.ingestEvents, authors, { now, spanSeconds: 86_400 * 30, seed: 1 });
  const stored = makeEvents(o.storedEvents, authors, { now, spanSeconds: 86_400 * 30, seed: 2 });
  const work = await mkdtemp(join(tmpdir(), 'bench-events-'));
  const eventsFile = join(work, 'ingest.json');
  await writeFile(eventsFile, JSON.stringify(ingestEvents));
  const client = RemoteClient.start();
  try {
    const ingestResults: IngestResult[] = [];
    for (const clients of o.only === 'query' ? [] : [1, 50]) {
      for (const start of [startOurs, startOursOtherWriter, startBaseline]) {
        const r = await ingest(start, eventsFile, ingestEvents.length, clients, client);
        o.log(
          `  ingest ${r.relay}, ${clients} client(s): ${r.eventsPerSecond.toFixed(0)} events/s (${r.accepted}/${r.events})`,
        );
        ingestResults.push(r);
      }
    }
    const queryResults: QueryResult[] = [];
    for (const start of o.only === 'ingest' ? [] : [startOurs, startBaseline]) {
      const r = await queryLatency(start, stored, authors, now, o.queries, client);
      o.log(`  query ${r.relay}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`);
      queryResults.push(r);
    }
    return { ingest: ingestResults, query: queryResults };
  } finally {
    client.stop();
    await rm(work, { recursive: true, force: true });
  }
}
