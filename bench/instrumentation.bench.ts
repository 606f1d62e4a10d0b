/**
 * The cost of instrumentation (issue 15: <= 5 %): the same echo job round trip (a customer's request to its
 * result; auctions and payments off, so the job is as short as a job gets and any overhead shows most) on
 * instances that differ only in instrumentation, in the same run, each in a process of its own
 * (bench/instrumented-instance.ts: relay, desk and agent, as an instance runs), driven from here:
 *
 * - **off**: metrics disabled, tracing off (`noTracing`);
 * - **on**: the Prometheus registry fed by the job log, scraped once a second, and tracing on for the relay,
 *   the desk and the agent, with the real OTLP/HTTP exporter (batched) sending to a loopback collector.
 *
 * All log at `info` as JSON to a sink (logs are on in production either way). A third instance has the
 * metrics only. Jobs run one at a time, the sides taking turns job by job, so drift of a busy machine falls on
 * every side alike.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ECHO_KIND } from '../dvm/kinds.ts';
import { buildJobRequest } from '../dvm/request.ts';
import { Customer } from '../testkit/customer.ts';
import { sampleStats } from './events.ts';

const HERE = new URL('.', import.meta.url).pathname;

export interface InstrumentationBenchOptions {
  quick: boolean;
  log: (line: string) => void;
}

/** A loopback OTLP/HTTP collector that reads and drops what it is sent; counts the requests. */
async function startSink(): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    requests: () => requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

interface Side {
  name: string;
  job(text: string): Promise<void>;
  close(): Promise<void>;
}

/** An instance in its own process (bench/instrumented-instance.ts) and a customer of it, here. */
async function startSide(
  name: string,
  dir: string,
  what: { metrics: boolean; traces: boolean },
  otlp: string,
): Promise<Side> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
        : []),
      '--import',
      'tsx',
      join(HERE, 'instrumented-instance.ts'),
      name,
      dir,
      what.metrics ? '1' : '0',
      what.traces ? '1' : '0',
      otlp,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const relayUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0] ?? '';
      if (out.includes('\n')) resolve(String((JSON.parse(line) as { relayUrl: string }).relayUrl));
    });
    child.on('exit', (code) => reject(new Error(`${name}: the instance exited (${code}) before it was up`)));
  });
  const customer = new Customer(relayUrl);
  return {
    name,
    job: async (text) => {
      const out = await customer.submit(
        buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: text, type: 'text' }] }),
        30_000,
      );
      if (out.result?.content !== text) throw new Error(`${name}: no result (${out.error ?? 'timeout'})`);
    },
    close: async () => {
      customer.close();
      child.stdin?.end();
      await exited;
    },
  };
}

const ms = (n: number): string => n.toFixed(1);

export async function benchInstrumentation(o: InstrumentationBenchOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-instr-'));
  const sink = await startSink();
  const sides: Side[] = [];
  try {
    const off = await startSide('off', dir, { metrics: false, traces: false }, sink.url);
    sides.push(off);
    const metricsOnly = await startSide('metrics', dir, { metrics: true, traces: false }, sink.url);
    sides.push(metricsOnly);
    const on = await startSide('on', dir, { metrics: true, traces: true }, sink.url);
    sides.push(on);
    const n = o.quick ? 60 : 600;
    o.log(`instrumentation benchmark: ${n} echo jobs per side, one at a time, the sides taking turns`);
    const all = [off, metricsOnly, on];
    for (const side of all) for (let i = 0; i < 10; i++) await side.job(`warm ${i}`);
    const samples = new Map<Side, number[]>(all.map((s) => [s, []]));
    // Job by job, the three sides in turn (the order rotating): a busy moment of the machine falls on all
    // three alike, and each "on" job has an "off" job next to it in time.
    for (let i = 0; i < n; i++)
      for (let k = 0; k < all.length; k++) {
        const side = all[(i + k) % all.length] as Side;
        const t = performance.now();
        await side.job(`job ${i}`);
        samples.get(side)?.push(performance.now() - t);
      }
    await on.close();
    sides.splice(sides.indexOf(on), 1);
    const a = sampleStats(samples.get(off) ?? []);
    const m = sampleStats(samples.get(metricsOnly) ?? []);
    const b = sampleStats(samples.get(on) ?? []);
    // The median of the ratios of jobs run side by side in time (job i of each side): drift cancels out.
    const paired = (side: Side): string => {
      const xs = samples.get(side) ?? [];
      const base = samples.get(off) ?? [];
      const ratios = xs.map((x, i) => x / (base[i] ?? x)).sort((p, q) => p - q);
      return (ratios[Math.floor(ratios.length / 2)] ?? 1).toFixed(3);
    };
    const row = (label: string, side: Side, x: typeof a) => [
      label,
      x.n,
      ms(x.mean),
      ms(x.p50),
      ms(x.p99),
      (x.mean / a.mean).toFixed(3),
      (x.p50 / a.p50).toFixed(3),
      paired(side),
    ];
    const rows = [
      row('off (baseline)', off, a),
      row('metrics only', metricsOnly, m),
      row('metrics + traces (OTLP)', on, b),
    ];
    const widths = [24, 5, 8, 7, 7, 20, 12, 13];
    const line = (r: (string | number)[]) =>
      `| ${r.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join(' | ')} |`;
    return [
      '### Instrumentation: echo job round trip, instrumentation off vs on (same run)',
      line([
        'side',
        'jobs',
        'mean ms',
        'p50 ms',
        'p99 ms',
        'mean vs off (<=1.05)',
        'p50 vs off',
        'paired median',
      ]),
      `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
      ...rows.map(line),
      `OTLP export requests received by the loopback collector: ${sink.requests()}`,
    ].join('\n');
  } finally {
    for (const s of sides) await s.close().catch(() => {});
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  }
}
