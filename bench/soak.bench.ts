/**
 * Soak: mixed traffic on loopback for a bounded time against one instance in a process of its own
 * (bench/curves-instance.ts, mode `soak`: the embedded relay, the desk with auctions and payments on, an echo
 * agent priced 1,000 msats, the embedded wallet service), then checks:
 *
 * - no job lost: every request a customer sent ended in a result or an error feedback (a stated terminal
 *   state), none timed out, and once traffic stops the desk's job log holds no job outside a terminal state;
 * - the ledgers balanced: the treasury's own check (payments/ledger) and the wallet service's invariants;
 * - resident memory flat after warm-up: the least-squares slope of the instance's RSS over the second half,
 *   projected over that half, stays under a stated bound;
 * - file descriptors flat: the instance's open descriptors once every soak connection has closed are within
 *   a few of what they were before the first one opened, and the second half's peak is not above the first's.
 *
 * Traffic (closed loop, each party waits `thinkMs` between its requests): paying customers (they bid, every
 * job is auctioned, invoiced and paid over NWC), trusted customers (`payments.trustedCustomers`: auctioned,
 * not charged), relay clients publishing kind 1 notes and subscribers counting what they receive. Every
 * customer opens a new connection every 20 jobs (connection churn for the descriptor check).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUCTION_RECORD_KIND } from '../auction/kinds.ts';
import { silentLogger } from '../core/logger.ts';
import { ECHO_KIND } from '../dvm/kinds.ts';
import { buildJobRequest } from '../dvm/request.ts';
import { generateLocalSigner, type LocalSigner } from '../identity/signer.ts';
import { NwcWallet } from '../payments/nwc-wallet.ts';
import { RelayClient } from '../relay/client.ts';
import { Customer } from '../testkit/customer.ts';
import { until } from '../testkit/raw-client.ts';
import { fdCount, InstanceProcess, rssMiB } from './curves-process.ts';
import type { InstanceStats } from './curves-protocol.ts';
import { table } from './markdown-table.ts';

export interface SoakOptions {
  seconds: number;
  log: (line: string) => void;
  paidCustomers?: number;
  unpaidCustomers?: number;
  publishers?: number;
  subscribers?: number;
  /** Pause of each customer and publisher between its requests (default 200 ms). */
  thinkMs?: number;
  /** RSS growth allowed over the second half (slope × its duration), MiB (default 32). */
  rssBoundMiB?: number;
  /** Descriptors allowed above the start once every soak connection closed (default 8). */
  fdBound?: number;
  /** How long a job may take before it counts as lost (default 60 s). */
  jobTimeoutMs?: number;
}

export interface SoakReport {
  seconds: number;
  paid: { sent: number; results: number; errors: number; lost: number };
  unpaid: { sent: number; results: number; errors: number; lost: number };
  errorReasons: string[];
  auctionRecords: number;
  notes: { published: number; expected: number; received: number };
  rss: { startMiB: number; warmMiB: number; endMiB: number; peakMiB: number; secondHalfGrowthMiB: number };
  /** The instance's own memory figures at half time and at the end (V8 heap against native memory). */
  memoryAtHalf?: InstanceStats['memoryMiB'];
  fds: { before: number; firstHalfPeak: number; secondHalfPeak: number; after: number };
  instance: InstanceStats;
  load: { start: number; end: number };
  /** What failed; empty when the soak holds. */
  failures: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Least-squares slope of y over x. */
function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

interface Tally {
  sent: number;
  results: number;
  errors: number;
  lost: number;
}

async function customerLoop(
  o: {
    url: string;
    wallet?: NwcWallet;
    signer: LocalSigner;
    until: number;
    thinkMs: number;
    timeoutMs: number;
  },
  tally: Tally,
  reasons: Set<string>,
): Promise<void> {
  let customer: Customer | undefined;
  for (let n = 0; Date.now() < o.until; n++) {
    if (n % 20 === 0) {
      customer?.close();
      customer = new Customer(o.url, o.wallet, o.signer);
    }
    const c = customer as Customer;
    tally.sent++;
    const out = await c.submit(
      buildJobRequest({
        kind: ECHO_KIND,
        inputs: [{ data: `soak ${n} ${Math.random()}`, type: 'text' }],
        ...(o.wallet ? { bidMsats: 100_000 } : {}),
      }),
      o.timeoutMs,
    );
    if (out.result) tally.results++;
    else if (out.timedOut) tally.lost++;
    else {
      tally.errors++;
      reasons.add(out.error ?? 'no result');
    }
    await sleep(o.thinkMs);
  }
  customer?.close();
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const thinkMs = o.thinkMs ?? 200;
  const timeoutMs = o.jobTimeoutMs ?? 60_000;
  const paidSigners = Array.from({ length: o.paidCustomers ?? 2 }, () => generateLocalSigner());
  const unpaidSigners = Array.from({ length: o.unpaidCustomers ?? 3 }, () => generateLocalSigner());
  const dir = await mkdtemp(join(tmpdir(), 'soak-'));
  const loadStart = loadavg()[0] ?? 0;
  const inst = await InstanceProcess.start({
    mode: 'soak',
    dir,
    trusted: unpaidSigners.map((s) => s.pubkey),
  });
  const cleanups: (() => Promise<void> | void)[] = [
    () => rm(dir, { recursive: true, force: true }),
    () => inst.stop(),
  ];
  try {
    const url = inst.ready.relayUrl;
    const fdsBefore = fdCount(inst.pid);
    const rssStart = rssMiB(inst.pid);
    const t0 = Date.now();
    const end = t0 + o.seconds * 1000;
    const half = t0 + (o.seconds * 1000) / 2;
    const samples: { t: number; rss: number; fds: number }[] = [];
    const sampler = setInterval(
      () => samples.push({ t: (Date.now() - t0) / 1000, rss: rssMiB(inst.pid), fds: fdCount(inst.pid) }),
      Math.max(250, Math.min(5000, o.seconds * 20)),
    );
    cleanups.push(() => clearInterval(sampler));
    let memoryAtHalf: InstanceStats['memoryMiB'];
    const halfTimer = setTimeout(
      () => void inst.stats().then((st) => (memoryAtHalf = st.memoryMiB)),
      (o.seconds * 1000) / 2,
    );
    cleanups.push(() => clearTimeout(halfTimer));

    // Auction records seen on the relay, and the relay clients' notes.
    const watcher = new RelayClient({ url, logger: silentLogger });
    cleanups.push(() => watcher.close());
    let auctionRecords = 0;
    watcher.subscribe([{ kinds: [AUCTION_RECORD_KIND], since: Math.floor(t0 / 1000) - 5 }], {
      onEvent: () => auctionRecords++,
    });
    const topic = `soak-${t0}`;
    let received = 0;
    const subscribers = Array.from({ length: o.subscribers ?? 3 }, () => {
      const c = new RelayClient({ url, logger: silentLogger });
      c.subscribe([{ kinds: [1], '#t': [topic] }], { onEvent: () => received++ });
      return c;
    });
    cleanups.push(() => {
      for (const s of subscribers) s.close();
    });
    await Promise.all(subscribers.map((s) => s.connect()));
    let published = 0;
    const publisher = async () => {
      const signer = generateLocalSigner();
      const c = new RelayClient({ url, logger: silentLogger });
      try {
        for (let i = 0; Date.now() < end; i++) {
          const note = await signer.signEvent({
            kind: 1,
            created_at: Math.floor(Date.now() / 1000),
            tags: [['t', topic]],
            content: `soak note ${i}`,
          });
          await c.publish(note);
          published++;
          await sleep(thinkMs);
        }
      } finally {
        c.close();
      }
    };

    const wallet = new NwcWallet({ url: inst.ready.customerNwc ?? '', logger: silentLogger, timeoutMs });
    cleanups.push(() => wallet.close());
    await wallet.getBalance();
    const reasons = new Set<string>();
    const paid: Tally = { sent: 0, results: 0, errors: 0, lost: 0 };
    const unpaid: Tally = { sent: 0, results: 0, errors: 0, lost: 0 };
    o.log(
      `soak: ${o.seconds} s, ${paidSigners.length} paying + ${unpaidSigners.length} trusted customers, ` +
        `${o.publishers ?? 3} publishers, ${subscribers.length} subscribers, think ${thinkMs} ms`,
    );
    const progress = setInterval(
      () =>
        o.log(
          `  ${((Date.now() - t0) / 1000).toFixed(0)} s: paid ${paid.results}/${paid.sent}, unpaid ${unpaid.results}/${unpaid.sent}, ` +
            `notes ${published}, RSS ${samples[samples.length - 1]?.rss.toFixed(0) ?? '?'} MiB, fds ${samples[samples.length - 1]?.fds ?? '?'}`,
        ),
      Math.max(10_000, o.seconds * 100),
    );
    cleanups.push(() => clearInterval(progress));
    const common = { url, until: end, thinkMs, timeoutMs };
    await Promise.all([
      ...paidSigners.map((signer) => customerLoop({ ...common, signer, wallet }, paid, reasons)),
      ...unpaidSigners.map((signer) => customerLoop({ ...common, signer }, unpaid, reasons)),
      ...Array.from({ length: o.publishers ?? 3 }, publisher),
    ]);
    clearInterval(sampler);
    clearInterval(progress);
    const expected = published * subscribers.length;
    await until(() => received >= expected, 10_000, 'the subscribers to receive every note').catch(() => {});
    for (const s of subscribers) s.close();
    wallet.close();
    watcher.close();
    // The desk finishes what it has (settlements, the last outbox entries); nothing may stay active.
    let instance = await inst.stats();
    const drainEnd = Date.now() + 30_000;
    while ((instance.activeJobs ?? 0) > 0 && Date.now() < drainEnd) {
      await sleep(500);
      instance = await inst.stats();
    }
    await until(() => fdCount(inst.pid) <= fdsBefore + (o.fdBound ?? 8), 10_000, 'descriptors').catch(
      () => {},
    );
    const fdsAfter = fdCount(inst.pid);
    const rssEnd = rssMiB(inst.pid);

    const first = samples.filter((s) => s.t * 1000 + t0 < half);
    const second = samples.filter((s) => s.t * 1000 + t0 >= half);
    const secondHalfGrowth = slope(second.map((s) => [s.t, s.rss])) * (o.seconds / 2);
    const report: SoakReport = {
      seconds: o.seconds,
      paid,
      unpaid,
      errorReasons: [...reasons].slice(0, 5),
      auctionRecords,
      notes: { published, expected, received },
      rss: {
        startMiB: rssStart,
        warmMiB: second[0]?.rss ?? rssStart,
        endMiB: rssEnd,
        peakMiB: Math.max(rssStart, ...samples.map((s) => s.rss)),
        secondHalfGrowthMiB: secondHalfGrowth,
      },
      memoryAtHalf,
      fds: {
        before: fdsBefore,
        firstHalfPeak: Math.max(0, ...first.map((s) => s.fds)),
        secondHalfPeak: Math.max(0, ...second.map((s) => s.fds)),
        after: fdsAfter,
      },
      instance,
      load: { start: loadStart, end: loadavg()[0] ?? 0 },
      failures: [],
    };
    const f = report.failures;
    if (paid.lost + unpaid.lost > 0)
      f.push(`${paid.lost + unpaid.lost} jobs lost (no result, no error, timed out)`);
    if ((instance.activeJobs ?? 0) > 0)
      f.push(`${instance.activeJobs} jobs still active in the job log after the drain`);
    if (paid.results === 0 || unpaid.results === 0) f.push('no paid or no unpaid job completed');
    if (auctionRecords === 0) f.push('no auction record published');
    if (received < expected) f.push(`subscribers received ${received} of ${expected} notes`);
    if (instance.ledgerOk !== true || instance.walletOk !== true)
      f.push(`ledgers not balanced: ${instance.ledgerDetail ?? 'no check'}`);
    const rssBound = o.rssBoundMiB ?? 32;
    if (secondHalfGrowth > rssBound)
      f.push(`RSS grew ${secondHalfGrowth.toFixed(1)} MiB over the second half (bound ${rssBound} MiB)`);
    if (fdsAfter > fdsBefore + (o.fdBound ?? 8))
      f.push(`descriptors ${fdsBefore} before, ${fdsAfter} after every soak connection closed`);
    if (report.fds.secondHalfPeak > report.fds.firstHalfPeak + (o.fdBound ?? 8))
      f.push(
        `descriptors peaked higher in the second half (${report.fds.secondHalfPeak} > ${report.fds.firstHalfPeak})`,
      );
    return report;
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

const mem = (m: InstanceStats['memoryMiB']) => (m ? `${m.heapUsed} / ${m.heapTotal} / ${m.external}` : '?');

/** The soak as a benchmark part: its table, and an error when a check failed. */
export async function benchSoak(o: { quick: boolean; log: (line: string) => void }): Promise<string> {
  const seconds = Number(process.env.BENCH_SOAK_SECONDS ?? (o.quick ? 30 : 600));
  const r = await runSoak({ seconds, log: o.log });
  const md = [
    `## Soak: ${seconds} s of mixed loopback traffic against one instance process\n`,
    table(
      ['traffic', 'sent', 'results', 'error feedback', 'lost'],
      [
        ['paid, auctioned jobs', r.paid.sent, r.paid.results, r.paid.errors, r.paid.lost],
        ['trusted (unpaid), auctioned jobs', r.unpaid.sent, r.unpaid.results, r.unpaid.errors, r.unpaid.lost],
        [
          'relay notes (published × subscribers)',
          r.notes.expected,
          r.notes.received,
          '-',
          r.notes.expected - r.notes.received,
        ],
      ],
    ),
    '',
    table(
      ['check', 'figures'],
      [
        ['auction records', r.auctionRecords],
        ['jobs active after the drain', r.instance.activeJobs ?? '?'],
        [
          'ledgers',
          `treasury ${r.instance.ledgerOk ? 'balanced' : 'NOT balanced'}, wallet ${r.instance.walletOk ? 'balanced' : 'NOT balanced'}`,
        ],
        [
          'RSS MiB',
          `start ${r.rss.startMiB.toFixed(0)}, at half time ${r.rss.warmMiB.toFixed(0)}, peak ${r.rss.peakMiB.toFixed(0)}, end ${r.rss.endMiB.toFixed(0)}; second-half trend ${r.rss.secondHalfGrowthMiB.toFixed(1)} MiB`,
        ],
        [
          'instance memory MiB (V8 heap used / heap total / external) at half time → end',
          `${mem(r.memoryAtHalf)} → ${mem(r.instance.memoryMiB)}`,
        ],
        [
          'file descriptors',
          `before ${r.fds.before}, peak 1st half ${r.fds.firstHalfPeak}, peak 2nd half ${r.fds.secondHalfPeak}, after ${r.fds.after}`,
        ],
        ['error reasons', r.errorReasons.join('; ') || '-'],
        ['load average', `${r.load.start.toFixed(1)} → ${r.load.end.toFixed(1)}`],
      ],
    ),
    '',
    r.failures.length === 0 ? 'soak holds: every check passed' : `SOAK FAILED: ${r.failures.join('; ')}`,
  ];
  if (r.failures.length > 0) o.log(`soak failed: ${r.failures.join('; ')}`);
  return md.join('\n');
}
