/**
 * DVM job round trip: from a customer publishing a NIP-90 echo request (kind 5700) to that customer receiving
 * the result (kind 6700), over the embedded relay as `timmy start` runs it (cli/compose.ts `startRelay`:
 * SqliteEventStore in a temporary directory, the standard write policies, loopback, port 0) and the DVM
 * network as `timmy start` wires it (Timmy the coordinator plus one echo agent, each on its own connection,
 * with the job log in the same temporary directory), with 1 and 100 concurrent customers.
 *
 * Baseline, same relay, same run, same customer code: a bare round trip. The customer publishes a kind 1
 * addressed (`p`) to a responder; the responder (a RelayClient in the relay's process, like the agents)
 * signs a kind 1 reply referencing it (`e`, `p`) on the fly with the same LocalSigner the agents use, and
 * publishes it; the clock stops when the customer receives the reply. That is the least a request → result
 * exchange costs over this relay: one hop each way, one signature. The DVM path is request → Timmy →
 * assignment (kind 7600) → echo agent → processing feedback (kind 7000) + result, each job event recorded
 * in the job log before it is published.
 *
 * Customers run in a separate process (as real clients do), each with its own key and its own RelayClient
 * connection, each doing its jobs one after another: subscribe to replies of the request (`#e`, as
 * tests/dvm/harness.ts `Customer` does), publish it, wait. Requests are signed before the clock starts.
 * When run as a script with `--dvm-customers`, this file is that customer process.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startRelay } from '../cli/compose.ts';
import { configSchema } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import type { Subscription } from '../core/transport.ts';
import { ECHO_KIND, FEEDBACK_KIND, resultKindFor } from '../dvm/kinds.ts';
import { buildJobRequest } from '../dvm/request.ts';
import { RelayClient } from '../relay/client.ts';
import { personas, startTestNetwork } from '../testkit/network.ts';
import { makeAuthors, percentile, signEvent } from './events.ts';
import { table } from './markdown-table.ts';
import { startResponder } from './responder.ts';

const CUSTOMER_FLAG = '--dvm-customers';
/** Realistic liveness settings (the config defaults), not the harness's short test values. */
const DVM = { heartbeatIntervalMs: 10_000, agentTimeoutMs: 35_000 };
const JOB_TIMEOUT_MS = 30_000;

type Mode = 'dvm' | 'bare';

interface RoundTripCommand {
  type: 'round-trip';
  mode: Mode;
  url: string;
  customers: number;
  jobsPerCustomer: number;
  warmupPerCustomer: number;
  /** Bare mode: the responder's pubkey the requests are addressed to. */
  responder: string;
  seed: number;
}

type CustomerReply =
  | { type: 'round-trip'; times: number[]; seconds: number; failed: number; errors: string[] }
  | { type: 'error'; message: string };

export interface RoundTripResult {
  mode: Mode;
  customers: number;
  jobs: number;
  failed: number;
  seconds: number;
  jobsPerSecond: number;
  p50: number;
  p99: number;
  mean: number;
  /** DVM mode: job log entries appended per job (all agents together). */
  appendsPerJob?: number;
}

// ---------------------------------------------------------------- customer process

/** One request → reply exchange: subscribe to what references the request, publish it, wait. */
function roundTrip(
  client: RelayClient,
  request: NostrEvent,
  mode: Mode,
): Promise<{ ms: number } | { error: string }> {
  const kinds = mode === 'dvm' ? [FEEDBACK_KIND, resultKindFor(request.kind)] : [1];
  return new Promise((resolve) => {
    let sub: Subscription | undefined;
    let done = false;
    const finish = (r: { ms: number } | { error: string }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sub?.close();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ error: 'timed out' }), JOB_TIMEOUT_MS);
    const t0 = performance.now();
    sub = client.subscribe([{ kinds, '#e': [request.id] }], {
      onEvent: (e) => {
        if (e.kind === FEEDBACK_KIND) {
          const status = e.tags.find((t) => t[0] === 'status');
          if (status?.[1] === 'error') finish({ error: `error feedback: ${status[2] ?? ''}` });
          return;
        }
        finish({ ms: performance.now() - t0 });
      },
      onClose: (reason) => finish({ error: `subscription closed: ${reason}` }),
    });
    client.publish(request).catch((err: unknown) => finish({ error: `publish: ${String(err)}` }));
  });
}

async function runCustomers(c: RoundTripCommand): Promise<CustomerReply> {
  const authors = makeAuthors(c.customers, c.seed);
  const nonce = `${process.pid}-${Date.now()}`;
  const now = Math.floor(Date.now() / 1000);
  const per = c.warmupPerCustomer + c.jobsPerCustomer;
  const requests = authors.map((author, n) =>
    Array.from({ length: per }, (_, i) => {
      const data = `bench ${nonce} customer ${n} job ${i}`;
      const template: EventTemplate =
        c.mode === 'dvm'
          ? buildJobRequest({ kind: ECHO_KIND, inputs: [{ data, type: 'text' }], createdAt: now })
          : { kind: 1, created_at: now, tags: [['p', c.responder]], content: data };
      return signEvent(author, template);
    }),
  );
  const clients = authors.map(() => new RelayClient({ url: c.url, logger: silentLogger }));
  try {
    await Promise.all(clients.map((cl) => cl.connect()));
    const times: number[] = [];
    const errors: string[] = [];
    const loop = async (n: number, from: number, to: number, record: boolean): Promise<void> => {
      const client = clients[n] as RelayClient;
      const mine = requests[n] as NostrEvent[];
      for (let i = from; i < to; i++) {
        const r = await roundTrip(client, mine[i] as NostrEvent, c.mode);
        if (!record) continue;
        if ('ms' in r) times.push(r.ms);
        else errors.push(r.error);
      }
    };
    await Promise.all(authors.map((_, n) => loop(n, 0, c.warmupPerCustomer, false)));
    const t0 = performance.now();
    await Promise.all(authors.map((_, n) => loop(n, c.warmupPerCustomer, per, true)));
    const seconds = (performance.now() - t0) / 1000;
    return { type: 'round-trip', times, seconds, failed: errors.length, errors: [...new Set(errors)] };
  } finally {
    for (const cl of clients) cl.close();
  }
}

if (process.argv.includes(CUSTOMER_FLAG)) {
  process.on('message', (msg: RoundTripCommand) => {
    runCustomers(msg).then(
      (reply) => process.send?.(reply),
      (err: unknown) => process.send?.({ type: 'error', message: errorMessage(err) }),
    );
  });
}

// ---------------------------------------------------------------- relay process

class CustomerProcess {
  private readonly child: ChildProcess;

  constructor() {
    const script = fileURLToPath(import.meta.url);
    this.child = fork(script, [CUSTOMER_FLAG], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }

  run(command: RoundTripCommand): Promise<Extract<CustomerReply, { type: 'round-trip' }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`customer process exited ${code}`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply: CustomerReply) => {
        this.child.off('exit', onExit);
        if (reply.type === 'error') reject(new Error(reply.message));
        else resolve(reply);
      });
      this.child.send(command);
    });
  }

  stop(): void {
    this.child.kill();
  }
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface DvmBenchOptions {
  quick: boolean;
  log: (line: string) => void;
  /** Relay limits over `relay.limits` defaults (default: the rate limit raised so it does not cap the run). */
  limits?: Record<string, number>;
  /** Which exchanges to run (default both; one alone is for profiling). */
  modes?: readonly Mode[];
  /** Concurrent customers to run (default [1, 100]). */
  customers?: readonly number[];
  /**
   * The desk's database and the work log with synchronous=FULL (each turn's group commit fsynced on the
   * event loop), for profiling the cost of the fsync against docs/decisions/0014's NORMAL + group fsync.
   */
  fsyncEachCommit?: boolean;
  /** The agents verify the events of the instance's own relay again (before docs/security.md's trust of it). */
  verifyOwnRelay?: boolean;
}

function summarise(
  mode: Mode,
  customers: number,
  r: Extract<CustomerReply, { type: 'round-trip' }>,
): RoundTripResult {
  const sorted = r.times.slice().sort((a, b) => a - b);
  return {
    mode,
    customers,
    jobs: r.times.length,
    failed: r.failed,
    seconds: r.seconds,
    jobsPerSecond: r.times.length / r.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((s, t) => s + t, 0) / Math.max(1, sorted.length),
  };
}

/** Runs the bare and DVM round trips with 1 and 100 customers; returns every result. */
export async function measureDvm(o: DvmBenchOptions): Promise<RoundTripResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-dvm-'));
  const config = configSchema.parse({
    relay: {
      port: 0,
      // 100 customers from one address: the per-address connection limit (64 by default) is lifted too.
      limits: o.limits ?? { eventsPerSecond: 1_000_000, eventsBurst: 1_000_000, maxConnectionsPerIp: 0 },
    },
    dvm: DVM,
  });
  const relay = await startRelay(config, join(dir, 'relay'), silentLogger);
  const cleanups: (() => Promise<void> | void)[] = [
    () => rm(dir, { recursive: true, force: true }),
    () => relay.close(),
  ];
  try {
    await mkdir(join(dir, 'network'));
    const net = await startTestNetwork({
      relayUrl: relay.url,
      agents: personas([{ name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo' }] }]),
      dataDir: join(dir, 'network'),
      dvm: DVM,
      // As `timmy start`: the relay runs in this process, on loopback, and verified every event on the way in.
      ownRelay: o.verifyOwnRelay !== true,
    });
    cleanups.push(() => net.stop());
    if (o.fsyncEachCommit) {
      net.network.treasury.db.pragma('synchronous = FULL');
      net.network.work.db.pragma('synchronous = FULL');
    }
    // The first heartbeat (ephemeral, kind 20600) can go out before Timmy's subscription is in place: then
    // the echo agent counts as alive only at its second beat, one heartbeat interval after the start.
    const t0 = Date.now();
    await until(
      () => net.network.agents().some((a) => a.name === 'echo' && a.alive),
      DVM.heartbeatIntervalMs * 2 + 5000,
      'the echo agent to be seen alive',
    );
    o.log(`  network up; echo agent seen alive after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const responder = startResponder(relay.url);
    cleanups.push(() => responder.close());
    const customers = new CustomerProcess();
    cleanups.push(() => customers.stop());

    const results: RoundTripResult[] = [];
    const plans = [
      { customers: 1, jobs: o.quick ? 40 : 200, warmup: o.quick ? 5 : 20 },
      { customers: 100, jobs: o.quick ? 200 : 1000, warmup: 1 },
    ].filter((p) => (o.customers ?? [1, 100]).includes(p.customers));
    let seed = 1000;
    for (const p of plans) {
      for (const mode of o.modes ?? (['bare', 'dvm'] as const)) {
        const before = net.network.log.lastSeq();
        const reply = await customers.run({
          type: 'round-trip',
          mode,
          url: relay.url,
          customers: p.customers,
          jobsPerCustomer: p.jobs / p.customers,
          warmupPerCustomer: p.warmup,
          responder: responder.pubkey,
          seed: seed++,
        });
        const r = summarise(mode, p.customers, reply);
        if (mode === 'dvm') {
          // let the coordinator record the last completions before counting appends
          await new Promise((res) => setTimeout(res, 200));
          r.appendsPerJob = (net.network.log.lastSeq() - before) / (p.jobs + p.warmup * p.customers);
        }
        o.log(
          `  ${mode} round trip, ${p.customers} customer(s): ${r.jobs} jobs, p50 ${r.p50.toFixed(2)} ms, ` +
            `p99 ${r.p99.toFixed(2)} ms, ${r.jobsPerSecond.toFixed(0)} jobs/s` +
            (r.failed > 0 ? `, ${r.failed} FAILED (${reply.errors.join('; ')})` : ''),
        );
        results.push(r);
      }
    }
    return results;
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

/** Runs the benchmark and returns its markdown table. */
export async function benchDvm(options: DvmBenchOptions): Promise<string> {
  const loadBefore = loadavg()[0] ?? 0;
  const results = await measureDvm(options);
  const rows: string[][] = [];
  for (const customers of [1, 100]) {
    const dvm = results.find((r) => r.mode === 'dvm' && r.customers === customers);
    const bare = results.find((r) => r.mode === 'bare' && r.customers === customers);
    if (dvm && bare) rows.push(...rowsOf(customers, dvm, bare, ''));
  }
  return render(rows, results, loadBefore);
}

function rowsOf(customers: number, dvm: RoundTripResult, bare: RoundTripResult, label: string): string[][] {
  const rows: string[][] = [];
  for (const r of [dvm, bare]) {
    const ours = r === dvm;
    rows.push([
      String(customers),
      ours ? `DVM echo job${label}` : 'bare publish → reply',
      `${r.jobs}${r.failed > 0 ? ` (${r.failed} failed)` : ''}`,
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      r.mean.toFixed(2),
      r.jobsPerSecond.toFixed(0),
      ours ? `${(dvm.p50 / bare.p50).toFixed(1)}x` : '1.0x',
      ours ? `${(dvm.p99 / bare.p99).toFixed(1)}x` : '1.0x',
      ours ? `${(dvm.jobsPerSecond / bare.jobsPerSecond).toFixed(2)}x` : '1.00x',
    ]);
  }
  return rows;
}

function render(rows: string[][], results: RoundTripResult[], loadBefore: number): string {
  const appends = results.find((r) => r.appendsPerJob !== undefined)?.appendsPerJob;
  return (
    '## DVM job round trip: request published → result received, echo agent, embedded relay\n\n' +
    table(
      [
        'customers',
        'exchange',
        'jobs',
        'p50 ms',
        'p99 ms',
        'mean ms',
        'jobs/s',
        'p50 ratio (dvm/bare)',
        'p99 ratio (dvm/bare)',
        'throughput ratio (dvm/bare)',
      ],
      rows,
    ) +
    (appends === undefined ? '' : `\n\njob log appends per DVM job: ${appends.toFixed(1)}`) +
    // The machine's other work shows in every number here: say how busy it was.
    `\n1-min load average ${loadBefore.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end (${cpus().length} cores)`
  );
}
