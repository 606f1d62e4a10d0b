/**
 * Curves, not points: how cost grows with load, each point on a fresh instance in a process of its own
 * (bench/curves-instance.ts) so that its resident memory, CPU time and event loop are its own.
 *
 * - Relay ingest against 1, 10, 50, 200 clients (pre-signed events, one client process: bench/client-process.ts),
 *   about 1,000 events unanswered in all; ratio against the 1-client point of the same run.
 * - Relay query p50/p99 against 10K, 100K, 1M stored events (the relay benchmark's REQ; the store is filled
 *   from this process, not timed, then the instance opens it); ratio against the smallest store.
 * - DVM echo jobs/s and p99 against 1, 10, 100, 1,000 customers, unpaid and paid (bench/curves-dvm.ts), each
 *   beside the bare publish → reply of the same instance with the same customers (the baseline).
 *
 * - Scale out, simulated: 1, 2, 3 instances federating on loopback (bench/curves-federation.ts).
 *
 * Env: BENCH_CURVES_PARTS (ingest,query,dvm,paid,federation), BENCH_CURVES_FEDERATION (instances, 1,2,3), BENCH_CURVES_CLIENTS, BENCH_CURVES_INGEST_EVENTS,
 * BENCH_CURVES_SIZES, BENCH_CURVES_MAX_EVENTS (caps the sizes), BENCH_CURVES_QUERIES, BENCH_CURVES_CUSTOMERS,
 * BENCH_CURVES_PAID_CUSTOMERS (the paid curve's, default the same), BENCH_CURVES_JOBS (jobs per point, at least one per customer), BENCH_CHARTS_DIR (default docs/charts, or
 * tmp/charts with BENCH_QUICK).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChartSpec, renderPngs } from './chart.ts';
import { runJobs } from './curves-dvm.ts';
import { federationCurve } from './curves-federation.ts';
import { InstanceProcess, type Usage } from './curves-process.ts';
import { ingestCurve, list, queryCurve } from './curves-relay.ts';
import { growth, knee } from './curves-report.ts';
import { sampleStats } from './events.ts';
import { table } from './markdown-table.ts';
import { RemoteClient } from './remote-client.ts';

export interface CurvesOptions {
  quick: boolean;
  log: (line: string) => void;
}

const env = process.env;
const MACHINE_CORES = cpus().length;
const mib = (v: number) => v.toFixed(0);
const usageCells = (u: Usage) => [
  u.cores.toFixed(2),
  u.stats.elu.toFixed(2),
  mib(u.peakRssMiB),
  mib(u.rssMiB),
  u.load.toFixed(1),
];
const USAGE_HEADERS = ['instance cores', 'event-loop util.', 'peak RSS MiB', 'RSS after MiB', 'load avg'];

interface JobPoint {
  customers: number;
  jobs: number;
  failed: number;
  jobsPerSecond: number;
  p50: number;
  p99: number;
  bare: { jobsPerSecond: number; p50: number; p99: number };
  usage: Usage;
}

async function jobCurve(o: CurvesOptions, work: string, paid: boolean): Promise<JobPoint[]> {
  const out: JobPoint[] = [];
  const target = Number(env.BENCH_CURVES_JOBS ?? (o.quick ? 20 : paid ? 100 : 200));
  const fallback = o.quick ? [1, 10, 50] : [1, 10, 100, 1000];
  const loads = list('BENCH_CURVES_CUSTOMERS', fallback);
  for (const customers of paid ? list('BENCH_CURVES_PAID_CUSTOMERS', loads) : loads) {
    const dir = await mkdtemp(join(work, paid ? 'paid-' : 'dvm-'));
    const inst = await InstanceProcess.start({ mode: paid ? 'paid' : 'dvm', dir });
    try {
      const jobsPerCustomer = Math.max(1, Math.ceil(target / customers));
      const common = {
        url: inst.ready.relayUrl,
        customers,
        jobsPerCustomer,
        warmupCustomers: Math.min(customers, 10),
        responder: inst.ready.responder,
        timeoutMs: 60_000 + customers * 100,
      };
      const bare = await runJobs({ ...common, mode: 'bare' });
      const { result, usage } = await inst.measure(() =>
        runJobs({ ...common, mode: paid ? 'paid' : 'dvm', nwcUrl: inst.ready.customerNwc }),
      );
      const s = sampleStats(result.times);
      const b = sampleStats(bare.times);
      const p: JobPoint = {
        customers,
        jobs: result.times.length,
        failed: result.failed + bare.failed,
        jobsPerSecond: result.times.length / result.seconds,
        p50: s.p50,
        p99: s.p99,
        bare: { jobsPerSecond: bare.times.length / bare.seconds, p50: b.p50, p99: b.p99 },
        usage,
      };
      o.log(
        `  ${paid ? 'paid' : 'unpaid'} jobs, ${customers} customers: ${p.jobsPerSecond.toFixed(0)} jobs/s, p99 ${p.p99.toFixed(0)} ms` +
          ` (bare ${p.bare.jobsPerSecond.toFixed(0)}/s)${p.failed > 0 ? `, ${p.failed} FAILED: ${[...result.errors, ...bare.errors].join('; ')}` : ''}`,
      );
      out.push(p);
    } finally {
      await inst.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return out;
}

export async function benchCurves(o: CurvesOptions): Promise<string> {
  const parts = new Set(
    (env.BENCH_CURVES_PARTS ?? 'ingest,query,dvm,paid,federation').split(',').map((p) => p.trim()),
  );
  const chartsDir =
    env.BENCH_CHARTS_DIR ?? join(import.meta.dirname, '..', o.quick ? 'tmp/charts' : 'docs/charts');
  const loadStart = loadavg()[0] ?? 0;
  const work = await mkdtemp(join(tmpdir(), 'bench-curves-'));
  const client = RemoteClient.start();
  const md: string[] = [];
  const charts: { path: string; spec: ChartSpec }[] = [];
  const rss: { name: string; points: [number, number][] }[] = [];
  try {
    if (parts.has('ingest')) {
      const pts = await ingestCurve(o, work, client);
      const base = pts[0]?.eventsPerSecond ?? 1;
      md.push(
        '## Curve: relay ingest against concurrent clients (each point a fresh instance process)\n',
        table(
          ['clients', 'events/s', 'vs 1 client', ...USAGE_HEADERS],
          pts.map((p) => [
            p.clients,
            p.eventsPerSecond.toFixed(0),
            `${(p.eventsPerSecond / base).toFixed(2)}x`,
            ...usageCells(p.usage),
          ]),
        ),
        `\n${knee(
          pts.map((p) => ({
            x: p.clients,
            y: p.eventsPerSecond,
            cores: p.usage.cores,
            elu: p.usage.stats.elu,
            load: p.usage.load,
          })),
          MACHINE_CORES,
          'events/s',
        )}\n`,
      );
      charts.push({
        path: join(chartsDir, 'ingest.png'),
        spec: {
          title: 'Relay ingest against concurrent clients',
          xLabel: 'concurrent clients (log scale)',
          yLabel: 'events accepted per second',
          xLog: true,
          series: [{ name: 'embedded relay', points: pts.map((p) => [p.clients, p.eventsPerSecond]) }],
        },
      });
      rss.push({
        name: 'relay ingest (x = clients)',
        points: pts.map((p) => [p.clients, p.usage.peakRssMiB]),
      });
    }
    if (parts.has('query')) {
      const pts = await queryCurve(o, work, client);
      const base = pts[0];
      md.push(
        '## Curve: relay query latency against stored events (REQ {kinds:[1], authors:[10], since, limit:100} to EOSE)\n',
        table(
          [
            'stored events',
            'p50 ms',
            'p99 ms',
            'p50 vs smallest',
            'p99 vs smallest',
            'fill s (signing incl.)',
            ...USAGE_HEADERS,
          ],
          pts.map((p) => [
            p.stored.toLocaleString('en-US'),
            p.p50.toFixed(2),
            p.p99.toFixed(2),
            `${(p.p50 / (base?.p50 ?? 1)).toFixed(2)}x`,
            `${(p.p99 / (base?.p99 ?? 1)).toFixed(2)}x`,
            p.loadSeconds.toFixed(0),
            ...usageCells(p.usage),
          ]),
        ),
        `\np50 grows ${growth(pts.map((p) => ({ x: p.stored, y: p.p50 })))}; p99 ${growth(pts.map((p) => ({ x: p.stored, y: p.p99 })))}\n`,
      );
      charts.push({
        path: join(chartsDir, 'query.png'),
        spec: {
          title: 'Relay query latency against stored events',
          xLabel: 'stored events (log scale)',
          yLabel: 'REQ → EOSE, milliseconds',
          xLog: true,
          series: [
            { name: 'p50', points: pts.map((p) => [p.stored, p.p50]) },
            { name: 'p99', points: pts.map((p) => [p.stored, p.p99]) },
          ],
        },
      });
    }
    const jobCurves: { paid: boolean; pts: JobPoint[] }[] = [];
    for (const paid of [false, true]) {
      if (!parts.has(paid ? 'paid' : 'dvm')) continue;
      const pts = await jobCurve(o, work, paid);
      jobCurves.push({ paid, pts });
      const name = paid ? 'paid' : 'unpaid';
      md.push(
        `## Curve: ${name} DVM echo jobs against concurrent customers (bare publish → reply of the same instance as baseline)\n`,
        table(
          [
            'customers',
            'jobs',
            'jobs/s',
            'p50 ms',
            'p99 ms',
            'bare jobs/s',
            'bare p99 ms',
            'jobs/s vs bare',
            'p99 vs bare',
            ...USAGE_HEADERS,
          ],
          pts.map((p) => [
            p.customers,
            `${p.jobs}${p.failed > 0 ? ` (${p.failed} failed)` : ''}`,
            p.jobsPerSecond.toFixed(1),
            p.p50.toFixed(0),
            p.p99.toFixed(0),
            p.bare.jobsPerSecond.toFixed(0),
            p.bare.p99.toFixed(0),
            `${(p.jobsPerSecond / p.bare.jobsPerSecond).toFixed(2)}x`,
            `${(p.p99 / p.bare.p99).toFixed(1)}x`,
            ...usageCells(p.usage),
          ]),
        ),
        `\n${knee(
          pts.map((p) => ({
            x: p.customers,
            y: p.jobsPerSecond,
            cores: p.usage.cores,
            elu: p.usage.stats.elu,
            load: p.usage.load,
          })),
          MACHINE_CORES,
          'jobs/s',
        )}\n`,
      );
      rss.push({
        name: `${name} jobs (x = customers)`,
        points: pts.map((p) => [p.customers, p.usage.peakRssMiB]),
      });
    }
    if (jobCurves.length > 0) {
      const first = jobCurves[0]?.pts ?? [];
      const series = (key: (p: JobPoint) => number) => [
        ...jobCurves.map((c) => ({
          name: `${c.paid ? 'paid' : 'unpaid'} echo job`,
          points: c.pts.map((p) => [p.customers, key(p)] as [number, number]),
        })),
      ];
      charts.push(
        {
          path: join(chartsDir, 'jobs-throughput.png'),
          spec: {
            title: 'DVM echo jobs per second against concurrent customers',
            xLabel: 'concurrent customers (log scale)',
            yLabel: 'jobs completed per second',
            xLog: true,
            series: [
              ...series((p) => p.jobsPerSecond),
              {
                name: 'bare publish → reply (baseline)',
                dashed: true,
                points: first.map((p) => [p.customers, p.bare.jobsPerSecond]),
              },
            ],
          },
        },
        {
          path: join(chartsDir, 'jobs-p99.png'),
          spec: {
            title: 'DVM echo job p99 latency against concurrent customers',
            xLabel: 'concurrent customers (log scale)',
            yLabel: 'request → result p99, milliseconds (log scale)',
            xLog: true,
            yLog: true,
            series: [
              ...series((p) => p.p99),
              {
                name: 'bare publish → reply (baseline)',
                dashed: true,
                points: first.map((p) => [p.customers, p.bare.p99]),
              },
            ],
          },
        },
      );
    }
    if (parts.has('federation')) {
      const pts = await federationCurve({
        work,
        sizes: list('BENCH_CURVES_FEDERATION', [1, 2, 3]),
        customers: o.quick ? 10 : 60,
        jobs: o.quick ? 30 : 300,
        log: o.log,
      });
      const one = pts[0]?.jobsPerSecond ?? 1;
      md.push(
        '## Simulation: N instances federating on loopback (each a process: relay, desk, echo agent; every other one a peer)\n',
        table(
          [
            'instances',
            'customers at',
            'jobs',
            'jobs/s',
            'vs 1 instance',
            'p50 ms',
            'p99 ms',
            'cores (all instances)',
            'busiest event loop',
            'RSS MiB (all)',
          ],
          pts.map((p) => [
            p.instances,
            p.layout,
            `${p.jobs}${p.failed > 0 ? ` (${p.failed} failed)` : ''}`,
            p.jobsPerSecond.toFixed(1),
            `${(p.jobsPerSecond / one).toFixed(2)}x`,
            p.p50.toFixed(0),
            p.p99.toFixed(0),
            p.cores.toFixed(2),
            p.maxElu.toFixed(2),
            mib(p.rssMiB),
          ]),
        ),
        '',
      );
      const layoutSeries = (layout: string) =>
        pts
          .filter((p) => p.layout === layout || p.instances === 1)
          .map((p) => [p.instances, p.jobsPerSecond] as [number, number]);
      charts.push({
        path: join(chartsDir, 'federation.png'),
        spec: {
          title: 'Echo jobs per second with N instances federating (one machine)',
          xLabel: 'instances federating',
          yLabel: 'jobs completed per second',
          series: [
            { name: 'customers all at instance 1 (front desk)', points: layoutSeries('front desk') },
            { name: 'customers spread over the instances', points: layoutSeries('spread') },
          ],
        },
      });
    }
    if (rss.length > 0)
      charts.push({
        path: join(chartsDir, 'memory.png'),
        spec: {
          title: 'Instance resident memory (peak) at each point',
          xLabel: 'clients or customers (log scale)',
          yLabel: 'peak RSS of the instance process, MiB',
          xLog: true,
          series: rss,
        },
      });
    if (charts.length > 0 && env.BENCH_CHARTS !== '0') {
      await renderPngs(charts);
      md.push(`charts: ${charts.map((c) => c.path).join(', ')}`);
    }
    md.push(
      `1-min load average ${loadStart.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end (${MACHINE_CORES} cores)`,
    );
    return md.join('\n');
  } finally {
    client.stop();
    await rm(work, { recursive: true, force: true });
  }
}
