/**
 * The relay's curves (bench/curves.bench.ts): ingest against concurrent clients, query latency against stored
 * events, each point a fresh instance process (bench/curves-instance.ts, mode relay) driven by the benchmark's
 * client process (bench/client-process.ts).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dataFile } from '../core/data-dir.ts';
import { silentLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { SqliteEventStore } from '../relay/sqlite-store.ts';
import { InstanceProcess, type Usage } from './curves-process.ts';
import { type Author, makeAuthors, prng, queryFilters, sampleStats, signEvent } from './events.ts';
import type { RemoteClient } from './remote-client.ts';

const env = process.env;
export const list = (name: string, fallback: number[]): number[] =>
  env[name] ? (env[name] as string).split(',').map((v) => Number(v.trim())) : fallback;

export interface RelayCurveOptions {
  quick: boolean;
  log: (line: string) => void;
}

/** `count` events like the relay benchmark's (kinds 1/7/6/30023, p and t tags), numbered from `offset`. */
function makeChunk(offset: number, count: number, authors: Author[], now: number): NostrEvent[] {
  const rnd = prng(offset + 17);
  const kinds = [1, 1, 1, 1, 7, 7, 6, 30023];
  return Array.from({ length: count }, (_, j) => {
    const i = offset + j;
    const author = authors[Math.floor(rnd() * authors.length)] as Author;
    const kind = kinds[Math.floor(rnd() * kinds.length)] as number;
    const other = authors[Math.floor(rnd() * authors.length)] as Author;
    const tags = [
      ['p', other.pubkey],
      ['t', `topic${Math.floor(rnd() * 50)}`],
    ];
    if (kind === 30023) tags.push(['d', `article-${i}`]);
    const content = `curve note ${i} `.padEnd(40 + Math.floor(rnd() * 200), 'lorem ipsum dolor sit amet ');
    return signEvent(author, { kind, created_at: now - Math.floor(rnd() * 86_400 * 30), tags, content });
  });
}

export interface IngestPoint {
  clients: number;
  eventsPerSecond: number;
  accepted: number;
  usage: Usage;
}

export async function ingestCurve(
  o: RelayCurveOptions,
  work: string,
  client: RemoteClient,
): Promise<IngestPoint[]> {
  const n = Number(env.BENCH_CURVES_INGEST_EVENTS ?? (o.quick ? 2000 : 20_000));
  const authors = makeAuthors(500);
  const eventsFile = join(work, 'ingest.json');
  await writeFile(eventsFile, JSON.stringify(makeChunk(0, n, authors, Math.floor(Date.now() / 1000))));
  const out: IngestPoint[] = [];
  for (const clients of list('BENCH_CURVES_CLIENTS', [1, 10, 50, 200])) {
    const dir = await mkdtemp(join(work, 'ingest-'));
    const inst = await InstanceProcess.start({ mode: 'relay', dir });
    try {
      const window = Math.max(5, Math.ceil(1000 / clients));
      const { result, usage } = await inst.measure(() =>
        client.run({ type: 'ingest', url: inst.ready.relayUrl, eventsFile, clients, window }),
      );
      const p = {
        clients,
        eventsPerSecond: result.accepted / result.seconds,
        accepted: result.accepted,
        usage,
      };
      o.log(
        `  ingest, ${clients} clients: ${p.eventsPerSecond.toFixed(0)} events/s (${result.accepted}/${n})`,
      );
      out.push(p);
    } finally {
      await inst.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return out;
}

export interface QueryPoint {
  stored: number;
  p50: number;
  p99: number;
  loadSeconds: number;
  usage: Usage;
}

export async function queryCurve(
  o: RelayCurveOptions,
  work: string,
  client: RemoteClient,
): Promise<QueryPoint[]> {
  const max = Number(env.BENCH_CURVES_MAX_EVENTS ?? Number.POSITIVE_INFINITY);
  const sizes = list('BENCH_CURVES_SIZES', o.quick ? [2000, 20_000] : [10_000, 100_000, 1_000_000])
    .filter((s) => s <= max)
    .sort((a, b) => a - b);
  const queries = Number(env.BENCH_CURVES_QUERIES ?? (o.quick ? 100 : 500));
  const authors = makeAuthors(500);
  const now = Math.floor(Date.now() / 1000);
  const dir = join(work, 'query');
  await mkdir(join(dir, 'relay'), { recursive: true, mode: 0o700 });
  const out: QueryPoint[] = [];
  let loaded = 0;
  for (const size of sizes) {
    const t0 = performance.now();
    const store = new SqliteEventStore({ path: dataFile(join(dir, 'relay'), 'relay'), logger: silentLogger });
    for (; loaded < size; loaded += Math.min(5000, size - loaded))
      await store.save(makeChunk(loaded, Math.min(5000, size - loaded), authors, now));
    await store.close();
    const loadSeconds = (performance.now() - t0) / 1000;
    o.log(`  query: store filled to ${size} events in ${loadSeconds.toFixed(0)} s (signing included)`);
    const inst = await InstanceProcess.start({ mode: 'relay', dir });
    try {
      const filters = queryFilters(authors, now, queries + 20);
      const { result, usage } = await inst.measure(() =>
        client.run({ type: 'query', url: inst.ready.relayUrl, filters, warmup: 20 }),
      );
      const s = sampleStats(result.times);
      out.push({ stored: size, p50: s.p50, p99: s.p99, loadSeconds, usage });
      o.log(`  query over ${size} events: p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms`);
    } finally {
      await inst.stop();
    }
  }
  return out;
}
