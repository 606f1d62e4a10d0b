import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { NostrEvent } from '../core/nostr.ts';
import { DEFAULT_SYNCHRONOUS, JobLog } from '../dvm/job-log.ts';
import { configureWriter, type Synchronous } from '../dvm/job-log-schema.ts';
import type { JobEntry } from '../dvm/job-state.ts';
import { percentile, prng } from './events.ts';
import { table } from './markdown-table.ts';

/**
 * Job log append latency (dvm/job-log.ts): realistic jobs (posted, assigned, started, an `effect` holding a
 * 1 KB LLM completion, an outbox result event, published, completed), eight in flight at a time and their
 * entries interleaved, each append timed on its own. The baseline, measured in the same run with the same
 * connection settings, is a bare single-row INSERT of the same JSON into a one-table database: the ratio is
 * the cost of the state machine itself (validation, catch-up read, fold, projection rows). Both are measured
 * with synchronous=NORMAL (the log's setting: a returned append survives a kill -9) and FULL (every commit
 * fsynced, the setting before decision 0014), and NORMAL with every append then awaited on the disk through
 * the group fsync (`durable()`, what the outbox waits for before publishing), against the bare FULL INSERT.
 */

export interface AppendLatency {
  name: string;
  synchronous: Synchronous;
  appends: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

const IN_FLIGHT = 8;
const ENTRIES_PER_JOB = 7;

function hex(rand: () => number, bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++)
    s += Math.floor(rand() * 256)
      .toString(16)
      .padStart(2, '0');
  return s;
}

function text(rand: () => number, length: number): string {
  const words = ['sovereign', 'agent', 'relay', 'lightning', 'summary', 'of', 'the', 'job', 'local', 'model'];
  let s = '';
  while (s.length < length) s += `${words[Math.floor(rand() * words.length)]} `;
  return s.slice(0, length);
}

/** Well-formed events (the log checks shapes, not signatures, so signing would only slow the setup). */
function fakeEvent(rand: () => number, kind: number, tags: string[][], content: string): NostrEvent {
  return {
    id: hex(rand, 32),
    pubkey: hex(rand, 32),
    created_at: 1_700_000_000 + Math.floor(rand() * 1_000_000),
    kind,
    tags,
    content,
    sig: hex(rand, 64),
  };
}

/** One realistic job's entries, in order. */
function makeJob(rand: () => number, n: number): { id: string; entries: JobEntry[] } {
  const request = fakeEvent(
    rand,
    5001,
    [
      ['i', text(rand, 200), 'text'],
      ['param', 'length', 'short'],
      ['output', 'text/plain'],
    ],
    '',
  );
  const agent = hex(rand, 32);
  const completion = text(rand, 1024);
  const result = fakeEvent(
    rand,
    6001,
    [
      ['request', JSON.stringify(request)],
      ['e', request.id],
      ['p', request.pubkey],
    ],
    completion,
  );
  return {
    id: request.id,
    entries: [
      { type: 'posted', request },
      { type: 'assigned', agent, attempt: 1 },
      { type: 'started', agent },
      {
        type: 'effect',
        key: 'llm:1:summary',
        value: { text: completion, model: 'local-8b', promptTokens: 180 + (n % 50), completionTokens: 256 },
      },
      { type: 'outbox', key: 'result', event: result },
      { type: 'published', key: 'result' },
      { type: 'completed', result, agent },
    ],
  };
}

/** `appends` entries of whole jobs, `IN_FLIGHT` jobs interleaved step by step, as [jobId, entry] pairs. */
export function makeWorkload(appends: number, seed = 7): [string, JobEntry][] {
  const rand = prng(seed);
  const jobs = Array.from({ length: Math.ceil(appends / ENTRIES_PER_JOB) }, (_, n) => makeJob(rand, n));
  const out: [string, JobEntry][] = [];
  for (let g = 0; g < jobs.length; g += IN_FLIGHT) {
    const group = jobs.slice(g, g + IN_FLIGHT);
    for (let step = 0; step < ENTRIES_PER_JOB; step++) {
      for (const job of group) out.push([job.id, job.entries[step] as JobEntry]);
    }
  }
  return out.slice(0, appends);
}

function summarise(name: string, synchronous: Synchronous, samples: number[]): AppendLatency {
  const sorted = samples.slice().sort((a, b) => a - b);
  return {
    name,
    synchronous,
    appends: samples.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
  };
}

/** The first appends warm the page cache and the JIT; they are run but not counted. */
function warmup(n: number): number {
  return Math.min(500, Math.floor(n / 10));
}

export async function measureJobLog(
  workload: readonly [string, JobEntry][],
  synchronous: Synchronous,
): Promise<AppendLatency> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-job-log-'));
  // One commit per append (the log's behaviour before group commit): each append timed with its commit.
  const log = JobLog.open({ path: join(dir, 'jobs.sqlite'), synchronous, groupCommit: false });
  try {
    const skip = warmup(workload.length);
    const samples: number[] = [];
    for (let i = 0; i < workload.length; i++) {
      const [jobId, entry] = workload[i]!;
      const t0 = performance.now();
      log.append(jobId, entry);
      const t1 = performance.now();
      if (i >= skip) samples.push(t1 - t0);
    }
    return summarise(`job log, a commit per append (synchronous=${synchronous})`, synchronous, samples);
  } finally {
    log.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Append, then wait for `durable()` (on the disk past a power cut, as the outbox waits before it publishes):
 * the entries of one step of the IN_FLIGHT jobs are appended in one event-loop turn and share one group
 * fsync. Each sample is one append's time from its start to its `durable()` resolving.
 */
export async function measureGroup(
  workload: readonly [string, JobEntry][],
  wait: 'committed' | 'durable',
): Promise<AppendLatency> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-job-log-group-'));
  const log = JobLog.open({ path: join(dir, 'jobs.sqlite'), synchronous: 'NORMAL' });
  try {
    const skip = warmup(workload.length);
    const samples: number[] = [];
    for (let i = 0; i < workload.length; i += IN_FLIGHT) {
      const starts: number[] = [];
      const waits: Promise<void>[] = [];
      for (let j = i; j < Math.min(i + IN_FLIGHT, workload.length); j++) {
        const [jobId, entry] = workload[j]!;
        starts.push(performance.now());
        log.append(jobId, entry);
        waits.push(wait === 'durable' ? log.durable() : log.committed());
      }
      await Promise.all(waits);
      const t1 = performance.now();
      starts.forEach((t0, k) => {
        if (i + k >= skip) samples.push(t1 - t0);
      });
    }
    return summarise(
      wait === 'durable'
        ? 'job log, group commit + durable() (NORMAL, group fsync)'
        : 'job log, group commit, until committed() (NORMAL) (default)',
      'NORMAL',
      samples,
    );
  } finally {
    log.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function measureBareInsert(
  workload: readonly [string, JobEntry][],
  synchronous: Synchronous,
): Promise<AppendLatency> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-job-log-base-'));
  const db = new Database(join(dir, 'bare.sqlite'));
  try {
    configureWriter(db, synchronous);
    db.exec(
      'CREATE TABLE log (seq INTEGER PRIMARY KEY, job_id TEXT NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL) STRICT',
    );
    const insert = db.prepare<[string, number, string, string]>(
      'INSERT INTO log (job_id, at, type, data) VALUES (?, ?, ?, ?)',
    );
    const rows = workload.map(([jobId, entry]) => [jobId, entry.type, JSON.stringify(entry)] as const);
    const skip = warmup(rows.length);
    const samples: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const [jobId, type, data] = rows[i]!;
      const t0 = performance.now();
      insert.run(jobId, Date.now(), type, data);
      const t1 = performance.now();
      if (i >= skip) samples.push(t1 - t0);
    }
    return summarise(`bare INSERT (synchronous=${synchronous})`, synchronous, samples);
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the benchmark and returns its markdown table. */
export async function benchJobLog(options: { quick: boolean }): Promise<string> {
  const appends = options.quick ? 2000 : 20_000;
  const loadBefore = loadavg()[0] ?? 0;
  const workload = makeWorkload(appends);
  const rows: string[][] = [];
  const modes: Synchronous[] = DEFAULT_SYNCHRONOUS === 'FULL' ? ['FULL', 'NORMAL'] : ['NORMAL', 'FULL'];
  for (const synchronous of modes) {
    const base = await measureBareInsert(workload, synchronous);
    const ours = await measureJobLog(workload, synchronous);
    for (const r of [ours, base]) {
      const isOurs = r === ours;
      rows.push([
        r.name,
        String(r.appends),
        r.p50.toFixed(3),
        r.p99.toFixed(3),
        r.max.toFixed(2),
        r.mean.toFixed(3),
        isOurs ? `${(ours.mean / base.mean).toFixed(1)}x` : '1.0x',
        isOurs ? `${(ours.p99 / base.p99).toFixed(1)}x` : '1.0x',
        '-',
      ]);
    }
  }
  // Group commit (the default): the entries of one step of the 8 jobs appended in one event-loop turn,
  // each timed from its append to its turn's commit, then to the turn's fsync too; against the bare INSERT
  // with synchronous=FULL (the only bare row that is on the disk when it returns).
  const fullBase = await measureBareInsert(workload, 'FULL');
  for (const wait of ['committed', 'durable'] as const) {
    const group = await measureGroup(workload, wait);
    rows.push([
      group.name,
      String(group.appends),
      group.p50.toFixed(3),
      group.p99.toFixed(3),
      group.max.toFixed(2),
      group.mean.toFixed(3),
      `${(group.mean / fullBase.mean).toFixed(1)}x`,
      `${(group.p99 / fullBase.p99).toFixed(1)}x`,
      wait === 'committed' ? (group.p99 <= 2 ? 'yes' : 'NO') : '- (vs bare FULL)',
    ]);
  }
  const title = `## Job log append latency: ${appends} appends of realistic jobs (${IN_FLIGHT} in flight), ms per append\n\n`;
  return (
    title +
    table(
      [
        'variant',
        'timed appends',
        'p50 ms',
        'p99 ms',
        'max ms',
        'mean ms',
        'mean ratio (log/bare)',
        'p99 ratio (log/bare)',
        'target p99 <= 2 ms met',
      ],
      rows,
    ) +
    // Tail latencies are mostly scheduling: on a loaded machine, p99 is the time slice of another process.
    `\n\n1-min load average ${loadBefore.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end (${cpus().length} cores)`
  );
}
