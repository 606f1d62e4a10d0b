/**
 * A simulation of scaling out: N instances (each a process of its own: relay, desk, echo agent) federating on
 * loopback, every one with the others as `federation.peers`, so each desk's roster holds N echo agents. Two
 * ways to send the same customers' echo jobs (auctions and payments off):
 *
 * - front desk: every customer at instance 1 (one desk takes every job; peers' agents take some of the work);
 * - spread: customers split evenly over the N instances (each desk takes its share).
 *
 * Jobs/s, p99, the instances' CPU in cores (summed) and the busiest desk's event-loop utilisation, per N.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runJobs } from './curves-dvm.ts';
import { cpuSeconds, InstanceProcess, rssMiB } from './curves-process.ts';
import { sampleStats } from './events.ts';

export interface FederationPoint {
  instances: number;
  layout: 'front desk' | 'spread';
  jobs: number;
  failed: number;
  jobsPerSecond: number;
  p50: number;
  p99: number;
  /** CPU of all instance processes over wall time, in cores. */
  cores: number;
  /** The highest event-loop utilisation among the instances. */
  maxElu: number;
  /** Resident memory of all instances together, MiB. */
  rssMiB: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function measureLayout(
  instances: InstanceProcess[],
  layout: FederationPoint['layout'],
  customers: number,
  jobs: number,
): Promise<FederationPoint> {
  for (const i of instances) await i.stats();
  const cpu0 = instances.map((i) => cpuSeconds(i.pid));
  const t0 = performance.now();
  const shares =
    layout === 'front desk'
      ? [customers]
      : instances.map((_, k) => Math.floor((customers + k) / instances.length));
  const runs = await Promise.all(
    shares.map((n, k) =>
      n === 0
        ? Promise.resolve({ times: [], seconds: 0, failed: 0, errors: [] })
        : runJobs({
            url: (instances[k] as InstanceProcess).ready.relayUrl,
            mode: 'dvm',
            customers: n,
            jobsPerCustomer: Math.max(1, Math.ceil(jobs / customers)),
            warmupCustomers: Math.min(n, 5),
            timeoutMs: 60_000,
          }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const stats = await Promise.all(instances.map((i) => i.stats()));
  const times = runs.flatMap((r) => r.times);
  const s = sampleStats(times);
  return {
    instances: instances.length,
    layout,
    jobs: times.length,
    failed: runs.reduce((a, r) => a + r.failed, 0),
    jobsPerSecond: times.length / Math.max(...runs.map((r) => r.seconds)),
    p50: s.p50,
    p99: s.p99,
    cores: instances.reduce((a, i, k) => a + (cpuSeconds(i.pid) - (cpu0[k] as number)), 0) / seconds,
    maxElu: Math.max(...stats.map((x) => x.elu)),
    rssMiB: instances.reduce((a, i) => a + rssMiB(i.pid), 0),
  };
}

export async function federationCurve(o: {
  work: string;
  sizes: readonly number[];
  customers: number;
  jobs: number;
  log: (line: string) => void;
}): Promise<FederationPoint[]> {
  const out: FederationPoint[] = [];
  for (const n of o.sizes) {
    const dir = await mkdtemp(join(o.work, `fed${n}-`));
    const ports = await Promise.all(Array.from({ length: n }, freePort));
    const urls = ports.map((p) => `ws://127.0.0.1:${p}`);
    const instances: InstanceProcess[] = [];
    try {
      const started = await Promise.allSettled(
        ports.map((port, k) =>
          InstanceProcess.start(
            {
              mode: 'federated',
              dir: join(dir, `i${k}`),
              port,
              peers: urls.filter((_, j) => j !== k),
              rosterSize: n,
            },
            120_000,
          ),
        ),
      );
      for (const r of started) if (r.status === 'fulfilled') instances.push(r.value);
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      for (const layout of n === 1 ? (['front desk'] as const) : (['front desk', 'spread'] as const)) {
        const p = await measureLayout(instances, layout, o.customers, o.jobs);
        o.log(
          `  federation, ${n} instances, ${layout}: ${p.jobsPerSecond.toFixed(0)} jobs/s, p99 ${p.p99.toFixed(0)} ms, ` +
            `${p.cores.toFixed(2)} cores, busiest event loop ${p.maxElu.toFixed(2)}${p.failed > 0 ? `, ${p.failed} FAILED` : ''}`,
        );
        out.push(p);
      }
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
      await rm(dir, { recursive: true, force: true });
    }
  }
  return out;
}
