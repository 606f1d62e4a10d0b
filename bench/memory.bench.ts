/**
 * Semantic memory (memory/): search latency and recall at 10K, 100K and 1M memories, embedding throughput, and
 * footprint. Measured in one run:
 * - **Data**: synthetic 512-d unit vectors (USE lite's dimension), deterministic (seeded PRNG), with the
 *   structure of sentence embeddings: `normalize(0.59·g + 0.39·topic + 0.45·cluster + 0.55·noise)`, where g is
 *   one shared direction (sentence embeddings are anisotropic: 500 memory-like sentences embedded by USE lite
 *   have a mean pairwise cosine of 0.41), 1,000 clusters under 50 topics (cluster and topic centroids random
 *   unit vectors; each memory in a random cluster), and noise that is Gaussian with a power-law spectrum
 *   (variance ∝ 1/i over the 512 axes of a fixed random rotation: an effective dimension of about 30, as
 *   real embeddings vary along few directions, not isotropically). Random pairs have cosine ≈ 0.35, the same
 *   topic ≈ 0.5, the same cluster ≈ 0.7. The number of clusters is fixed, so a larger memory is a denser one:
 *   at 1M a query's 10 nearest are much nearer each other than at 10K, which is the hard case for the
 *   binary first pass. Queries are fresh points from the same generator (a new memory like past ones).
 * - **Store**: the real `VectorStore` (a file in a temporary directory, WAL), filled through `insert` in batches
 *   of 1,000 with their vectors (the path an import of the same model takes; there is no other bulk path), with
 *   10 agents, 3 kinds, times over a year and a ~70-character sentence as content (so FTS5 is filled too).
 * - **Search**: `knn(q, 10)`: the binary vec0 KNN of max(50, 5k) = 50 candidates over the mapped file, reranked
 *   by float cosine, interleaved query by query with the previous default (100 candidates, no mmap) and each
 *   change alone; also filtered by one agent of 10, the binary pass alone, and 400 candidates. Recall@10
 *   against the exact top 10.
 * - **Baseline, same run**: exact float brute force, a plain JS dot-product scan over one Float32Array holding
 *   every vector (also the ground truth for recall), and `VectorStore.exactKnn` (the same scan over SQLite's
 *   float blobs) on a few queries.
 * - **Embedding**: the real USE lite embedder (worker thread) on 500 short memory-like sentences, one at a time
 *   and in batches of 64, against `FakeEmbedder` (bag of words, no model) as the baseline of the pipeline's own
 *   overhead.
 * - **Footprint**: the file's bytes per memory (after a WAL checkpoint) and the process RSS after the load.
 * Sizes: 10K and 100K by default (about 5 minutes on this project's 2-core machine); MEMORY_BENCH_MAX=1000000
 * adds 1M (about 10 more minutes: a 3-minute build, a 4 GiB file, 2 GiB for the baseline's array; 100
 * queries instead of 500). MEMORY_BENCH_MAX=<n> below 10,000 runs that one size (quick: 10K only).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../core/logger.ts';
import type { Embedder } from '../memory/embedder.ts';
import { vectorBytes } from '../memory/embedder.ts';
import { FakeEmbedder } from '../memory/fake-embedder.ts';
import type { MemoryFilter, MemoryKind } from '../memory/types.ts';
import { UseLiteEmbedder } from '../memory/use-lite.ts';
import { defaultCandidates, type NewMemory, VectorStore } from '../memory/vector-store.ts';
import { prng, type SampleStats, sampleStats } from './events.ts';
import { table } from './markdown-table.ts';

const DIM = 512;
const K = 10;
const TOPICS = 50;
const CLUSTERS = 1000;
const AGENTS = 10;
const KINDS: readonly MemoryKind[] = ['episodic', 'semantic', 'procedural'];
const W_GLOBAL = Math.sqrt(0.35);
const W_TOPIC = Math.sqrt(0.15);
const W_CLUSTER = Math.sqrt(0.2);
const W_NOISE = Math.sqrt(0.3);
const BATCH = 1000;
const YEAR_MS = 365 * 86_400_000;
const T0 = 1_760_000_000_000;

const SUBJECTS = [
  'the customer',
  'a new customer',
  'the translator agent',
  'Alice',
  'a repeat buyer',
  'the summarizer',
  'Bob',
  'the coder agent',
];
const VERBS = ['asked for', 'paid for', 'rated', 'complained about', 'wanted', 'cancelled', 'praised'];
const OBJECTS = [
  'a German translation of a product page',
  'a summary of a long research paper',
  'a Python script that parses CSV files',
  'an image caption',
  'a haiku about autumn',
  'a bug fix in a TypeScript service',
  'a French translation of a legal contract',
  'a tweet thread about bitcoin fees',
  'a SQL query for monthly revenue',
  'a cover letter',
  'a recipe for vegan lasagna',
  'a review of a pull request',
];
const TAILS = [
  'and paid 200 sats',
  'over Lightning',
  'in under a minute',
  'twice this week',
  'with a tip',
  'but the answer was late',
  'and left five stars',
  '',
];

/** Short memory-like sentences (deterministic). */
export function sentences(count: number, seed = 7): string[] {
  const rand = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;
  return Array.from({ length: count }, () =>
    `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(TAILS)}`.trim(),
  );
}

/** The synthetic embedding space (see the header): shared direction, topics, clusters, structured noise. */
class VectorSpace {
  private rand: () => number;
  private spare: number | undefined;
  private readonly global: Float32Array;
  private readonly topics: Float32Array[];
  private readonly clusters: Float32Array[];
  private readonly clusterTopic: Uint16Array;
  private readonly signs: Float32Array;
  private readonly scale: Float32Array;

  /** Centroids from `seed`; the memories drawn from `drawSeed` (queries: another stream, the same space). */
  constructor(seed: number, drawSeed: number) {
    this.rand = prng(seed);
    this.global = this.unit();
    this.topics = Array.from({ length: TOPICS }, () => this.unit());
    this.clusters = Array.from({ length: CLUSTERS }, () => this.unit());
    this.clusterTopic = Uint16Array.from({ length: CLUSTERS }, () => Math.floor(this.rand() * TOPICS));
    this.signs = Float32Array.from({ length: DIM }, () => (this.rand() < 0.5 ? -1 : 1));
    // Noise variance ∝ 1/i on the rotated axes, total 1 (the rotation is orthonormal, so it stays 1).
    let total = 0;
    for (let i = 1; i <= DIM; i++) total += 1 / i;
    this.scale = Float32Array.from({ length: DIM }, (_, i) => Math.sqrt(1 / (i + 1) / total));
    this.rand = prng(drawSeed);
    this.spare = undefined;
  }

  private gauss(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.rand();
    const v = this.rand();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  private unit(): Float32Array {
    const v = Float32Array.from({ length: DIM }, () => this.gauss());
    let s = 0;
    for (const x of v) s += x * x;
    const n = Math.sqrt(s);
    for (let i = 0; i < DIM; i++) v[i] = (v[i] as number) / n;
    return v;
  }

  /** Writes a vector of a random cluster into `out` at `offset`; returns its cluster. */
  next(out: Float32Array, offset: number): number {
    const c = Math.floor(this.rand() * CLUSTERS);
    const cluster = this.clusters[c] as Float32Array;
    const topic = this.topics[this.clusterTopic[c] as number] as Float32Array;
    const noise = out.subarray(offset, offset + DIM);
    for (let i = 0; i < DIM; i++) noise[i] = this.gauss() * (this.scale[i] as number);
    // A fixed random rotation, cheaply: the normalized Walsh-Hadamard transform of the sign-flipped vector.
    for (let i = 0; i < DIM; i++) noise[i] = (noise[i] as number) * (this.signs[i] as number);
    for (let h = 1; h < DIM; h *= 2)
      for (let i = 0; i < DIM; i += 2 * h)
        for (let j = i; j < i + h; j++) {
          const a = noise[j] as number;
          const b = noise[j + h] as number;
          noise[j] = a + b;
          noise[j + h] = a - b;
        }
    const hn = 1 / Math.sqrt(DIM);
    let s = 0;
    for (let i = 0; i < DIM; i++) {
      const x =
        W_NOISE * (noise[i] as number) * hn +
        W_GLOBAL * (this.global[i] as number) +
        W_TOPIC * (topic[i] as number) +
        W_CLUSTER * (cluster[i] as number);
      noise[i] = x;
      s += x * x;
    }
    const n = 1 / Math.sqrt(s);
    for (let i = 0; i < DIM; i++) noise[i] = (noise[i] as number) * n;
    return c;
  }
}

/** The exact top k by dot product over every vector of `data` (or those of one agent): the baseline. */
function exactTop(
  data: Float32Array,
  n: number,
  q: Float32Array,
  k: number,
  agents?: Uint8Array,
  agent?: number,
): number[] {
  const ids = new Int32Array(k).fill(-1);
  const scores = new Float64Array(k).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < n; i++) {
    if (agents !== undefined && agents[i] !== agent) continue;
    const o = i * DIM;
    let s = 0;
    for (let d = 0; d < DIM; d++) s += (q[d] as number) * (data[o + d] as number);
    if (s <= (scores[k - 1] as number)) continue;
    let j = k - 1;
    while (j > 0 && (scores[j - 1] as number) < s) {
      scores[j] = scores[j - 1] as number;
      ids[j] = ids[j - 1] as number;
      j--;
    }
    scores[j] = s;
    ids[j] = i;
  }
  return Array.from(ids).filter((i) => i >= 0);
}

function recallAt(found: readonly number[], truth: readonly number[]): number {
  if (truth.length === 0) return 1;
  const t = new Set(truth);
  return found.filter((id) => t.has(id)).length / truth.length;
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(3));
const count = (n: number): string =>
  n >= 1_000_000 && n % 1_000_000 === 0
    ? `${n / 1_000_000}M`
    : n >= 1000 && n % 1000 === 0
      ? `${n / 1000}K`
      : n.toLocaleString('en');
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;

interface SizeResult {
  n: number;
  buildMs: number;
  insertMs: number;
  fileBytes: number;
  rssAfterLoad: number;
  baselineArrayBytes: number;
  rows: string[][];
  line: string;
}

async function benchSize(
  n: number,
  queries: number,
  log: (line: string) => void,
  dir: string,
): Promise<SizeResult> {
  const path = join(dir, `memory-${n}.sqlite`);
  const store = VectorStore.open({ path, logger: silentLogger });
  store.useModel({ model: 'bench/512', dimension: DIM });
  const space = new VectorSpace(42, 1);
  const data = new Float32Array(n * DIM);
  const agents = new Uint8Array(n);
  const texts = sentences(997, 11);
  const rand = prng(5);
  const t0 = performance.now();
  let lastLog = t0;
  let genMs = 0;
  // Ids are 1..n in insertion order (a fresh table): memory id = index + 1.
  for (let start = 0; start < n; start += BATCH) {
    const end = Math.min(n, start + BATCH);
    const batch: NewMemory[] = [];
    const g = performance.now();
    for (let i = start; i < end; i++) space.next(data, i * DIM);
    genMs += performance.now() - g;
    for (let i = start; i < end; i++) {
      const agent = Math.floor(rand() * AGENTS);
      agents[i] = agent;
      batch.push({
        agent: `agent-${agent}`,
        kind: KINDS[Math.floor(rand() * KINDS.length)] as MemoryKind,
        content: `${texts[i % texts.length] as string} (#${i})`,
        importance: rand(),
        createdAt: T0 - Math.floor(rand() * YEAR_MS),
        embedding: data.subarray(i * DIM, (i + 1) * DIM),
      });
    }
    store.insert(batch);
    const now = performance.now();
    if (now - lastLog > 15_000) {
      lastLog = now;
      log(`  ${count(n)}: ${end.toLocaleString('en')} inserted, ${((now - t0) / 1000).toFixed(0)} s`);
    }
  }
  const buildMs = performance.now() - t0;
  const insertMs = buildMs - genMs;
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const fileBytes = statSync(path).size;
  log(
    `  ${count(n)}: built in ${(buildMs / 1000).toFixed(1)} s (of which generating the vectors ${(genMs / 1000).toFixed(1)} s; ${((n / insertMs) * 1000).toFixed(0)} inserts/s), ${(fileBytes / n).toFixed(0)} bytes per memory`,
  );

  const qs: Float32Array[] = [];
  // The same space (same centroids), another stream: queries are new points of the same clusters.
  const qspace = new VectorSpace(42, 2);
  for (let i = 0; i < queries + 20; i++) {
    const q = new Float32Array(DIM);
    qspace.next(q, 0);
    qs.push(q);
  }
  const qagent = (i: number): number => i % AGENTS;

  // Ground truth and the baseline's latency: exact float scan in JS.
  const exact: number[][] = [];
  const exactF: number[][] = [];
  const tExact: number[] = [];
  const tExactF: number[] = [];
  for (let i = 0; i < qs.length; i++) {
    const q = qs[i] as Float32Array;
    let t = performance.now();
    const top = exactTop(data, n, q, K).map((x) => x + 1);
    if (i >= 20) tExact.push(performance.now() - t);
    exact.push(top);
    t = performance.now();
    const topF = exactTop(data, n, q, K, agents, qagent(i)).map((x) => x + 1);
    if (i >= 20) tExactF.push(performance.now() - t);
    exactF.push(topF);
  }

  const measure = (
    f: (q: Float32Array, i: number) => number[],
    truth: number[][],
  ): { s: SampleStats; recall: number } => {
    const times: number[] = [];
    let recall = 0;
    for (let i = 0; i < qs.length; i++) {
      const q = qs[i] as Float32Array;
      const t = performance.now();
      const found = f(q, i);
      const dt = performance.now() - t;
      if (i >= 20) {
        times.push(dt);
        recall += recallAt(found, truth[i] as number[]);
      }
    }
    return { s: sampleStats(times), recall: recall / queries };
  };
  type Measured = { s: SampleStats; recall: number };
  const measureTogether = (
    fs: ((q: Float32Array, i: number) => number[])[],
    truth: number[][],
  ): Measured[] => {
    const times = fs.map((): number[] => []);
    const recall = fs.map(() => 0);
    for (let i = 0; i < qs.length; i++) {
      const q = qs[i] as Float32Array;
      fs.forEach((f, v) => {
        const t = performance.now();
        const found = f(q, i);
        const dt = performance.now() - t;
        if (i >= 20) {
          (times[v] as number[]).push(dt);
          recall[v] = (recall[v] as number) + recallAt(found, truth[i] as number[]);
        }
      });
    }
    return fs.map((_, v) => ({
      s: sampleStats(times[v] as number[]),
      recall: (recall[v] as number) / queries,
    }));
  };
  const filterOf = (i: number): MemoryFilter => ({ agent: `agent-${qagent(i)}` });
  const bitOnly = store.db.prepare(
    'SELECT rowid AS id FROM memory_vec WHERE embedding MATCH vec_quantize_binary(vec_f32(?)) AND k = ?',
  );
  // Same run, interleaved query by query (a shared machine's load falls on all alike): the default
  // (max(50, 5k) candidates, the file mapped) against the previous one (100 candidates, read through
  // SQLite's page cache: a second connection with mmap off), and each change alone.
  const unmapped = VectorStore.open({ path, logger: silentLogger });
  unmapped.db.pragma('mmap_size = 0');
  const [main, before, mappedOnly, fewerOnly] = measureTogether(
    [
      (q) => store.knn(q, K).map((h) => h.id),
      (q) => unmapped.knn(q, K, {}, 100).map((h) => h.id),
      (q) => store.knn(q, K, {}, 100).map((h) => h.id),
      (q) => unmapped.knn(q, K).map((h) => h.id),
    ],
    exact,
  ) as [Measured, Measured, Measured, Measured];
  unmapped.close();
  // The search table as it was before agent became its partition key (schema 2), filled from the same
  // vectors in the same file, against the partitioned one: the binary pass alone, interleaved.
  store.db.exec(
    `CREATE VIRTUAL TABLE memory_vec_flat USING vec0 (embedding bit[${DIM}], agent text, kind text, created_at integer)`,
  );
  store.db.exec(
    'INSERT INTO memory_vec_flat (rowid, embedding, agent, kind, created_at) SELECT id, vec_quantize_binary(vec_f32(embedding)), agent, kind, created_at FROM memories ORDER BY id',
  );
  const bitsOf = (table: string, filtered: boolean) => {
    const stmt = store.db.prepare(
      `SELECT rowid AS id FROM ${table} WHERE embedding MATCH vec_quantize_binary(vec_f32(?)) AND k = ?${filtered ? ' AND agent = ?' : ''}`,
    );
    return (q: Float32Array, i: number): number[] =>
      (
        (filtered
          ? stmt.all(vectorBytes(q), 100, `agent-${qagent(i)}`)
          : stmt.all(vectorBytes(q), defaultCandidates(K))) as { id: number | bigint }[]
      ).map((r) => Number(r.id));
  };
  const [partAgent, flatAgent] = measureTogether(
    [bitsOf('memory_vec', true), bitsOf('memory_vec_flat', true)],
    exactF,
  ) as [Measured, Measured];
  const [partAll, flatAll] = measureTogether(
    [bitsOf('memory_vec', false), bitsOf('memory_vec_flat', false)],
    exact,
  ) as [Measured, Measured];
  store.db.exec('DROP TABLE memory_vec_flat');
  const filtered = measure((q, i) => store.knn(q, K, filterOf(i)).map((h) => h.id), exactF);
  const bits = measure(
    (q) => (bitOnly.all(vectorBytes(q), K) as { id: number | bigint }[]).map((r) => Number(r.id)),
    exact,
  );
  const pool = measure(
    (q) =>
      (bitOnly.all(vectorBytes(q), defaultCandidates(K)) as { id: number | bigint }[]).map((r) =>
        Number(r.id),
      ),
    exact,
  );
  const wide = measure((q) => store.knn(q, K, {}, 400).map((h) => h.id), exact);
  const rssAfterLoad = process.memoryUsage().rss;

  // VectorStore.exactKnn (SQLite float blobs, JS dot) on a few queries: context for the JS scan.
  const few = n >= 1_000_000 ? 2 : 20;
  const tSql: number[] = [];
  for (let i = 20; i < 20 + few; i++) {
    const t = performance.now();
    store.exactKnn(qs[i] as Float32Array, K);
    tSql.push(performance.now() - t);
  }
  store.close();
  rmSync(path, { force: true });
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });

  const base = sampleStats(tExact);
  const baseF = sampleStats(tExactF);
  const sql = sampleStats(tSql);
  const target = n === 100_000;
  const row = (
    name: string,
    r: { s: SampleStats; recall: number },
    against: SampleStats,
    meets: boolean,
  ): string[] => [
    name,
    String(r.s.n),
    ms(r.s.p50),
    ms(r.s.p99),
    r.recall.toFixed(3),
    `${(against.p50 / r.s.p50).toFixed(1)}x`,
    `${(against.p99 / r.s.p99).toFixed(1)}x`,
    meets
      ? `${r.s.p99 < 20 ? 'p99 < 20 ms: met' : 'p99 < 20 ms: MISSED'}, ${r.recall >= 0.95 ? 'recall ≥ 0.95: met' : 'recall ≥ 0.95: MISSED'}`
      : '-',
  ];
  const baseRow = (name: string, s: SampleStats): string[] => [
    name,
    String(s.n),
    ms(s.p50),
    ms(s.p99),
    '1.000',
    '1.0x',
    '1.0x',
    '-',
  ];
  const rows = [
    row('binary KNN (50 candidates) + float rerank, file mapped: `knn(q, 10)`', main, base, target),
    row('before (same run, interleaved): 100 candidates, no mmap', before, base, false),
    row('  mmap alone: 100 candidates, file mapped', mappedOnly, base, false),
    row('  fewer candidates alone: 50, no mmap', fewerOnly, base, false),
    row('the same, filtered by agent (1 of 10): 100 candidates, file mapped', filtered, baseF, false),
    row('binary pass alone, 100 of one agent: agent the partition key', partAgent, baseF, false),
    row('  before (same run, interleaved): agent a metadata column', flatAgent, baseF, false),
    row('binary pass alone, 50 of all: agent the partition key', partAll, base, false),
    row('  before (same run, interleaved): agent a metadata column', flatAll, base, false),
    row('binary KNN alone, top 10 by Hamming (no rerank)', bits, base, false),
    row(
      "binary KNN alone, 50 by Hamming (knn's first pass; recall: of the top 10 in them)",
      pool,
      base,
      false,
    ),
    row('binary KNN (400 candidates) + float rerank', wide, base, false),
    baseRow('baseline: exact float scan in JS over a Float32Array', base),
    baseRow('baseline: the same scan, one agent', baseF),
    [
      'context: `VectorStore.exactKnn` (float blobs read from SQLite)',
      String(sql.n),
      ms(sql.p50),
      `${ms(sql.p99)} (max)`,
      '1.000',
      `${(base.p50 / sql.p50).toFixed(1)}x`,
      '-',
      '-',
    ],
  ];
  return {
    n,
    buildMs,
    insertMs,
    fileBytes,
    rssAfterLoad,
    baselineArrayBytes: data.byteLength,
    rows,
    line: `${count(n)}: build ${(buildMs / 1000).toFixed(1)} s, p99 ${ms(main.s.p99)} ms, recall ${main.recall.toFixed(3)}`,
  };
}

interface Throughput {
  name: string;
  batch: number;
  textsPerSecond: number;
  msPerCall: SampleStats;
}

async function throughput(
  name: string,
  e: Embedder,
  texts: readonly string[],
  batch: number,
): Promise<Throughput> {
  await e.embed(texts.slice(0, batch)); // warm
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < texts.length; i += batch) {
    const t = performance.now();
    await e.embed(texts.slice(i, i + batch));
    times.push(performance.now() - t);
  }
  const total = performance.now() - t0;
  return { name, batch, textsPerSecond: (texts.length / total) * 1000, msPerCall: sampleStats(times) };
}

async function benchEmbedding(log: (line: string) => void): Promise<string> {
  log('memory benchmark: embedding throughput, USE lite against the fake embedder');
  const texts = sentences(500);
  const use = new UseLiteEmbedder();
  const tLoad = performance.now();
  await use.ready();
  const loadMs = performance.now() - tLoad;
  const fake = new FakeEmbedder({ dimension: DIM });
  const emb: Throughput[] = [];
  for (const batch of [1, 64]) {
    emb.push(await throughput('fake (bag of words, baseline)', fake, texts, batch));
    emb.push(await throughput('USE lite (worker thread)', use, texts, batch));
    log(`  batch ${batch}: ${(emb[emb.length - 1] as Throughput).textsPerSecond.toFixed(0)} texts/s`);
  }
  await use.close();
  return [
    `## Memory: embedding throughput, ${texts.length} short sentences (USE lite loaded in ${ms(loadMs)} ms)\n\n`,
    table(
      ['embedder', 'batch', 'texts/s', 'ms per call p50', 'ms per call p99', 'ratio (fake / this)'],
      emb.map((e) => {
        const baseline = emb.find((b) => b.batch === e.batch && b.name.startsWith('fake')) as Throughput;
        return [
          e.name,
          String(e.batch),
          e.textsPerSecond.toFixed(0),
          ms(e.msPerCall.p50),
          ms(e.msPerCall.p99),
          `${(baseline.textsPerSecond / e.textsPerSecond).toFixed(0)}x`,
        ];
      }),
    ),
  ].join('');
}

/** Runs the benchmark and returns its markdown tables. */
export async function benchMemory(options: {
  quick: boolean;
  log: (line: string) => void;
  /** Default true; false skips the embedders (search and footprint only). */
  embedding?: boolean;
}): Promise<string> {
  const max = Number(process.env.MEMORY_BENCH_MAX ?? (options.quick ? 10_000 : 100_000));
  if (!Number.isInteger(max) || max < 1000) throw new Error('MEMORY_BENCH_MAX: an integer ≥ 1000');
  const sizes = [10_000, 100_000, 1_000_000].filter((s) => s <= max);
  if (sizes.length === 0) sizes.push(max);
  const out: string[] = [];
  const load0 = loadavg()[0] ?? 0;

  // Embedding throughput first (before the big arrays make the garbage collector slow).
  if (options.embedding !== false) out.push(await benchEmbedding(options.log));

  const dir = mkdtempSync(join(tmpdir(), 'timmy-memory-bench-'));
  const results: SizeResult[] = [];
  try {
    for (const n of sizes) {
      const queries = n >= 1_000_000 ? 100 : 500;
      options.log(`memory benchmark: ${count(n)} memories, ${queries} queries`);
      const r = await benchSize(n, queries, options.log, dir);
      options.log(`  ${r.line}`);
      results.push(r);
      out.push(
        `\n\n## Memory search: ${count(n)} memories, 512-d, k = 10 (build ${(r.buildMs / 1000).toFixed(1)} s)\n\n`,
        table(
          [
            'search',
            'queries',
            'p50 ms',
            'p99 ms',
            'recall@10',
            'p50 ratio (baseline/this)',
            'p99 ratio (baseline/this)',
            'target (100K)',
          ],
          r.rows,
        ),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  out.push(
    '\n\n## Memory footprint\n\n',
    table(
      [
        'memories',
        'build s (with generation)',
        'VectorStore.insert memories/s',
        'file MiB',
        'file bytes per memory',
        'process RSS after load',
        'of which the baseline Float32Array',
      ],
      results.map((r) => [
        count(r.n),
        (r.buildMs / 1000).toFixed(1),
        ((r.n / r.insertMs) * 1000).toFixed(0),
        (r.fileBytes / 2 ** 20).toFixed(0),
        (r.fileBytes / r.n).toFixed(0),
        mib(r.rssAfterLoad),
        mib(r.baselineArrayBytes),
      ]),
    ),
    `\n\nsizes run: ${sizes.map(count).join(', ')}${process.env.MEMORY_BENCH_MAX ? ` (MEMORY_BENCH_MAX=${max})` : ''}; 1-min load average ${load0.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end (${cpus().length} cores)`,
  );
  return out.join('');
}
