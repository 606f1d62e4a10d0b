/**
 * `npm run bench`: runs every benchmark and prints a table per benchmark with the ratio against the
 * baseline measured in the same run (these machines are noisy; only same-run ratios mean something).
 * Options (env): BENCH_QUICK=1 for a short smoke run (fewer events; numbers not comparable);
 * BENCH_ONLY=<parts> to run some parts only, comma-separated: relay (ingest and query), ingest, query,
 * dvm (job round trip), job-log (append latency), auction (settlement at 10/100/1,000 bidders), payments (NWC
 * round trips, paid vs unpaid job), reputation (scoring over 1,000,000 labels), swarm (the dashboard's swarm graph:
 * frames per second in headless chromium, 100/1,000/5,000 nodes, 2D and 3D), dashboard (a real instance in headless
 * chromium: the home page's time to interactive, cold and warm, and live update latency from publish to the row on
 * /monitor), memory (semantic memory search p50/p99 and recall@10 at 10K and 100K memories against exact float
 * search, USE lite embedding throughput, footprint; MEMORY_BENCH_MAX=1000000 adds 1M), instrumentation (an echo
 * job round trip with metrics and OTLP traces on against off), curves (ingest, query, DVM jobs unpaid and paid
 * against load, each point an instance process of its own, with its RSS; PNG charts in docs/charts; env in
 * bench/curves.bench.ts), soak (mixed traffic for BENCH_SOAK_SECONDS, default 600: no job lost, ledgers
 * balanced, RSS and file descriptors flat), voice-pipeline (speech in → first audio out for a spoken status
 * question with the shipped engines, against pocketsphinx + flite called directly), voice (the engines alone: STT
latency for a 5 s utterance in dictation and command mode against pocketsphinx_continuous, flite's real-time
factor against the flite binary, silero VAD time per minute of audio against the raw sherpa-onnx calls). Every part runs when
 * BENCH_ONLY is not set.
 */
import { availableParallelism } from 'node:os';
import { writerThreadFor } from '../relay/sqlite-store.ts';
import { benchAuction } from './auction.bench.ts';
import { benchCurves } from './curves.bench.ts';
import { benchDashboard } from './dashboard.bench.ts';
import { benchDvm } from './dvm.bench.ts';
import { benchInstrumentation } from './instrumentation.bench.ts';
import { benchJobLog } from './job-log.bench.ts';
import { table } from './markdown-table.ts';
import { benchMemory } from './memory.bench.ts';
import { benchPayments } from './payments.bench.ts';
import { relayBench } from './relay.bench.ts';
import { benchReputation } from './reputation.bench.ts';
import { benchSoak } from './soak.bench.ts';
import { benchSwarm } from './swarm.bench.ts';
import { benchVoice } from './voice.bench.ts';
import { benchVoicePipeline } from './voice-pipeline.bench.ts';

const quick = process.env.BENCH_QUICK === '1';
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const parts = new Set(
  (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== ''),
);
const known = [
  'relay',
  'ingest',
  'query',
  'dvm',
  'job-log',
  'auction',
  'payments',
  'reputation',
  'swarm',
  'dashboard',
  'memory',
  'instrumentation',
  'curves',
  'soak',
  'voice-pipeline',
  'voice',
];
for (const p of parts)
  if (!known.includes(p)) throw new Error(`BENCH_ONLY: unknown part ${p} (${known.join(', ')})`);
const wants = (part: string): boolean => parts.size === 0 || parts.has(part);
const relayOnly =
  parts.size === 0 || parts.has('relay') || (parts.has('ingest') && parts.has('query'))
    ? undefined
    : parts.has('ingest')
      ? 'ingest'
      : parts.has('query')
        ? 'query'
        : undefined;

async function runRelay(): Promise<void> {
  const ingestEvents = quick ? 2000 : 10_000;
  const storedEvents = quick ? 10_000 : 100_000;
  const queries = quick ? 100 : 500;
  log(
    `relay benchmark: ingest ${ingestEvents} signed events, query over ${storedEvents} stored events (${queries} queries)`,
  );
  const r = await relayBench({ ingestEvents, storedEvents, queries, only: relayOnly, log });

  const ingestRows: (string | number)[][] = [];
  for (const clients of [1, 50]) {
    const at = r.ingest.filter((x) => x.clients === clients);
    const ours = at.find((x) => x.relay === 'timmy (embedded)');
    const other = at.find((x) => x.relay.startsWith('timmy, writer thread'));
    const base = at.find((x) => !x.relay.startsWith('timmy'));
    if (!ours || !base) continue;
    ingestRows.push([
      clients,
      ours.eventsPerSecond.toFixed(0),
      other ? `${other.eventsPerSecond.toFixed(0)} (${other.relay.slice('timmy, '.length)})` : '-',
      other ? `${(ours.eventsPerSecond / other.eventsPerSecond).toFixed(2)}x` : '-',
      base.eventsPerSecond.toFixed(0),
      `${(ours.eventsPerSecond / base.eventsPerSecond).toFixed(1)}x`,
      ours.eventsPerSecond >= 10_000 ? 'yes' : 'NO',
    ]);
  }
  if (ingestRows.length > 0) {
    console.log('\n## Relay ingest (signed events, verified and stored; OK received for each)\n');
    console.log(
      `timmy (embedded) is the relay as \`timmy start\` runs it on this machine (relay.writerThread auto: ${writerThreadFor('auto') ? 'on' : 'off'}, ${availableParallelism()} cores); the other writer choice is measured in the same run.\n`,
    );
    const headers = [
      'clients',
      'timmy events/s',
      'other writer choice events/s',
      'timmy vs other',
      'baseline events/s',
      'ratio (timmy/baseline)',
      'target >= 10,000/s met',
    ];
    console.log(table(headers, ingestRows));
  }

  const [qo, qb] = r.query;
  if (qo && qb) {
    console.log(
      `\n## Query latency: {kinds:[1], authors:[10], since, limit:100} over ${storedEvents} events, REQ to EOSE\n`,
    );
    console.log(
      table(
        [
          'relay',
          'p50 ms',
          'p99 ms',
          'mean ms',
          'p99 ratio (baseline/timmy)',
          'target p50 <= 1.5, p99 <= 4 ms met',
        ],
        [
          [
            qo.relay,
            qo.p50.toFixed(2),
            qo.p99.toFixed(2),
            qo.mean.toFixed(2),
            `${(qb.p99 / qo.p99).toFixed(1)}x`,
            qo.p50 <= 1.5 && qo.p99 <= 4 ? 'yes' : 'NO',
          ],
          [qb.relay, qb.p50.toFixed(2), qb.p99.toFixed(2), qb.mean.toFixed(2), '1.0x', '-'],
        ],
      ),
    );
  }
}

if (wants('relay') || wants('ingest') || wants('query')) await runRelay();

if (wants('dvm')) {
  log(`DVM benchmark: echo job round trip with 1 and 100 customers${quick ? ' (quick)' : ''}`);
  console.log(`\n${await benchDvm({ quick, log })}`);
}

if (wants('job-log')) {
  log(`job log benchmark${quick ? ' (quick)' : ''}`);
  console.log(`\n${await benchJobLog({ quick })}`);
}
if (wants('auction')) {
  log(`auction benchmark: settlement with 10, 100${quick ? '' : ' and 1,000'} bidders`);
  console.log(`\n${await benchAuction({ quick, log })}`);
}
if (wants('payments')) {
  console.log(`\n${await benchPayments({ quick, log })}`);
}
if (wants('reputation')) {
  console.log(`\n${await benchReputation({ quick, log })}`);
}
if (wants('swarm')) {
  console.log(`\n${await benchSwarm({ quick, log })}`);
}
if (wants('dashboard')) {
  console.log(`\n${await benchDashboard({ quick, log })}`);
}
if (wants('memory')) {
  console.log(`\n${await benchMemory({ quick, log })}`);
}
if (wants('instrumentation')) {
  console.log(`\n${await benchInstrumentation({ quick, log })}`);
}
if (wants('curves')) {
  console.log(`\n${await benchCurves({ quick, log })}`);
}
if (wants('soak')) {
  console.log(`\n${await benchSoak({ quick, log })}`);
}
if (wants('voice-pipeline')) {
  console.log(`\n${await benchVoicePipeline({ quick, log })}`);
}
if (wants('voice')) {
  console.log(`\n${await benchVoice({ quick, log })}`);
}
console.log(
  `\nmachine: ${process.platform} ${process.arch}, node ${process.version}, ${(await import('node:os')).cpus().length} cores`,
);
process.exit(0);
