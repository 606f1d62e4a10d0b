/**
 * Reputation (reputation/): 10,000 npubs and 1,000,000 labels over 50,000 rater edges (each rater → agent
 * pair labelled about 20 times: repeat customers), 4 job kinds, ages over a year, a tenth paid with proven
 * payments, three seeds. Labels are generated already parsed (signing and parsing a million events measures
 * secp256k1, not the scoring; `parseLabel` is timed on its own). Measured in one run:
 * - full recompute: every pair's weights, the personalized PageRank, and every agent's score overall and per
 *   kind (with explanations);
 * - the book: an incremental update per new label (pair, warm PageRank restart), and lookups (p50/p99), from
 *   the cache and right after an update;
 * - the baseline: a naive lookup that recomputes the pairs, the ranks and the agent's score from all labels.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ReputationBook } from '../reputation/book.ts';
import { emptyChange, LabelIndex } from '../reputation/label-index.ts';
import { buildLabel, type Label, type LabelType, parseLabel } from '../reputation/labels.ts';
import { scoreOptions } from '../reputation/options.ts';
import { buildGraph, kindsOf, scoreSubject } from '../reputation/score.ts';
import { prng, type SampleStats, sampleStats } from './events.ts';
import { table } from './markdown-table.ts';

const NOW = 1_760_000_000;
const DAY = 86_400;
const KINDS = [5000, 5001, 5002, 5050];
const TYPES: LabelType[] = [
  'work-completed',
  'service-quality',
  'work-completed',
  'warning',
  'general-trust',
];

export interface ReputationWorkload {
  npubs: string[];
  seeds: string[];
  labels: Label[];
  edges: number;
}

/** 32 random bytes as hex: a flat string, as ids parsed from JSON are. */
function hex(rand: () => number): string {
  const b = Buffer.allocUnsafe(32);
  for (let i = 0; i < 32; i += 4) b.writeUInt32LE(Math.floor(rand() * 2 ** 32), i);
  return b.toString('hex');
}

/** `labels` labels over `edges` distinct rater → agent pairs among `npubs` keys (a quarter of them rate). */
export function makeReputationWorkload(
  npubCount: number,
  labelCount: number,
  edgeCount: number,
  seed = 13,
): ReputationWorkload {
  const rand = prng(seed);
  const npubs = Array.from({ length: npubCount }, () => hex(rand));
  const raters = npubs.slice(0, Math.max(1, Math.floor(npubCount / 4)));
  const perRater = Math.ceil(edgeCount / raters.length);
  const pairs: [string, string][] = [];
  for (const r of raters) {
    const seen = new Set<string>();
    while (seen.size < perRater && pairs.length < edgeCount) {
      const s = npubs[Math.floor(rand() * npubCount)] as string;
      if (s === r || seen.has(s)) continue;
      seen.add(s);
      pairs.push([r, s]);
    }
  }
  const labels: Label[] = [];
  const none = { status: 'none' } as const;
  for (let i = 0; i < labelCount; i++) {
    const [rater, subject] = pairs[i % pairs.length] as [string, string];
    const type = TYPES[Math.floor(rand() * TYPES.length)] as LabelType;
    const paid = rand() < 0.1;
    labels.push({
      id: hex(rand),
      rater,
      subject,
      type,
      createdAt: NOW - Math.floor(rand() * 365 * DAY),
      jobKind: KINDS[Math.floor(rand() * KINDS.length)] as number,
      request: hex(rand),
      ...(type === 'service-quality' ? { quality: 0.5 + rand() / 2 } : {}),
      payment: paid
        ? { status: 'proven', paymentHash: hex(rand), amountMsats: 1000 * (1 + Math.floor(rand() * 100)) }
        : none,
    });
  }
  return { npubs, seeds: raters.slice(0, 3), labels, edges: pairs.length };
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const out = f();
  return [out, performance.now() - t0];
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(3));

/** Runs the benchmark and returns its markdown tables. */
export async function benchReputation(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<string> {
  const [npubCount, labelCount, edgeCount] = options.quick
    ? [1000, 50_000, 5000]
    : [10_000, 1_000_000, 50_000];
  const o = scoreOptions();
  options.log(`reputation benchmark: ${npubCount} npubs, ${labelCount} labels over ${edgeCount} rater edges`);
  const w = makeReputationWorkload(npubCount, labelCount, edgeCount);
  const rand = prng(99);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;

  // Parsing, on its own: 10,000 label events (built, not signed: the parser reads shapes).
  const events = w.labels.slice(0, 10_000).map((l) => ({
    ...buildLabel({
      subject: l.subject,
      type: l.type,
      createdAt: l.createdAt,
      jobKind: l.jobKind,
      request: l.request,
    }),
    id: l.id,
    pubkey: l.rater,
    sig: '0'.repeat(128),
  }));
  const [, parseMs] = timed(() => {
    for (const e of events) parseLabel(e);
  });

  // The pure function's full recompute, step by step (in its own scope: its index is garbage before the book
  // is measured, as it would not exist beside a book in a running instance).
  const pure = ((): {
    loadMs: number;
    coldMs: number;
    warmMs: number;
    rankMs: number;
    scoresMs: number;
    scored: number;
    iterations: number;
    delta: number;
    edges: number;
  } => {
    const index = new LabelIndex(o);
    const [, loadMs] = timed(() => {
      const change = emptyChange();
      for (const l of w.labels) index.addLabel(l, change);
    });
    const [graph, coldMs] = timed(() => buildGraph(index, w.seeds, NOW, o));
    const [, warmMs] = timed(() => buildGraph(index, w.seeds, NOW, o));
    const [run, rankMs] = timed(() => graph.solve(false));
    const [scored, scoresMs] = timed(() => {
      let n = 0;
      for (const s of index.subjects()) {
        scoreSubject(s, undefined, index, graph, NOW, o);
        for (const k of kindsOf(index, s)) scoreSubject(s, k, index, graph, NOW, o);
        n++;
      }
      return n;
    });
    return {
      loadMs,
      coldMs,
      warmMs,
      rankMs,
      scoresMs,
      scored,
      iterations: run.iterations,
      delta: run.delta,
      edges: graph.edgeCount,
    };
  })();
  const { loadMs, coldMs, warmMs, rankMs, scoresMs, scored } = pure;
  options.log(
    `  full recompute: graph ${ms(coldMs)} ms (cold), ${ms(warmMs)} ms (sums kept), scores ${ms(scoresMs)} ms`,
  );

  // The book: loaded in one batch, then a label at a time.
  let now = NOW;
  const book = new ReputationBook({ seeds: w.seeds, clock: { now: () => now * 1000 }, verify: null });
  const [, bookLoadMs] = timed(() => book.addLabels(w.labels));
  const raters = w.npubs.slice(0, Math.max(1, Math.floor(npubCount / 4)));
  const fresh = (rater: string, i: number): Label => ({
    id: `${i.toString(16).padStart(8, '0')}${'f'.repeat(56)}`,
    rater,
    subject: pick(w.npubs),
    type: pick(TYPES),
    createdAt: now,
    jobKind: pick(KINDS),
    request: `${i.toString(16).padStart(8, '0')}${'e'.repeat(56)}`,
    payment: { status: 'none' },
  });
  const updates = options.quick ? 100 : 300;
  const trustedAdds: number[] = [];
  const strangerAdds: number[] = [];
  const missLookups: number[] = [];
  for (let i = 0; i < updates; i++) {
    now += 1;
    const label = fresh(pick(raters), i);
    trustedAdds.push(timed(() => book.addLabel(label))[1]);
    missLookups.push(timed(() => book.score(label.subject))[1]);
    strangerAdds.push(
      timed(() =>
        book.addLabel(fresh(`${'5'.repeat(56)}${i.toString(16).padStart(8, '0')}`, updates + i)),
      )[1],
    );
  }
  // Lookups of random agents, overall or for one kind: the first read of each may compute it, the second is
  // from the cache.
  const anyLookups: number[] = [];
  const hitLookups: number[] = [];
  for (let i = 0; i < (options.quick ? 2000 : 20_000); i++) {
    const subject = pick(w.npubs);
    const kind = rand() < 0.5 ? undefined : pick(KINDS);
    anyLookups.push(timed(() => book.score(subject, kind))[1]);
    hitLookups.push(timed(() => book.score(subject, kind))[1]);
  }
  const all = sampleStats([...missLookups, ...anyLookups, ...hitLookups]);

  // The baseline: a naive lookup that recomputes everything from the labels.
  const naive: number[] = [];
  for (let i = 0; i < (options.quick ? 3 : 2); i++) {
    const subject = pick(w.npubs);
    naive.push(
      timed(() => {
        const ix = new LabelIndex(o);
        const change = emptyChange();
        for (const l of w.labels) ix.addLabel(l, change);
        const g = buildGraph(ix, w.seeds, NOW, o);
        return scoreSubject(subject, undefined, ix, g, NOW, o, 'now');
      })[1],
    );
  }
  const naiveStats = sampleStats(naive);
  const trusted = sampleStats(trustedAdds);
  const stranger = sampleStats(strangerAdds);
  const miss = sampleStats(missLookups);
  const first = sampleStats(anyLookups);
  const hit = sampleStats(hitLookups);
  const target = (s: SampleStats): string => (s.p99 <= 5 ? 'p99 ≤ 5 ms: yes' : 'p99 ≤ 5 ms: NO');
  const row = (name: string, s: SampleStats, target = '-'): string[] => [
    name,
    String(s.n),
    ms(s.p50),
    ms(s.p99),
    ms(s.mean),
    `${(naiveStats.mean / s.p99).toFixed(0)}x`,
    target,
  ];
  const heading = `## Reputation: ${npubCount.toLocaleString('en')} npubs, ${labelCount.toLocaleString('en')} labels, ${w.edges.toLocaleString('en')} rater edges\n\n`;
  return [
    heading,
    table(
      ['full recompute (pure function)', 'ms', 'target'],
      [
        [
          `parse ${events.length} label events`,
          `${ms(parseMs)} (${((parseMs / events.length) * 1000).toFixed(1)} µs each)`,
          '-',
        ],
        ['load the labels into the index', ms(loadMs), '-'],
        [
          `trust, cold: every pair's sums from its labels + PageRank (${pure.iterations} iterations)`,
          ms(coldMs),
          coldMs < 1000 ? '< 1 s: yes' : '< 1 s: NO',
        ],
        [
          'trust, sums kept (the periodic refresh): pairs + PageRank',
          ms(warmMs),
          warmMs < 1000 ? '< 1 s: yes' : '< 1 s: NO',
        ],
        [
          `PageRank alone over ${pure.edges.toLocaleString('en')} edges`,
          ms(rankMs),
          rankMs < 1000 ? '< 1 s: yes' : '< 1 s: NO',
        ],
        [`every score: ${scored.toLocaleString('en')} agents, overall and per kind`, ms(scoresMs), '-'],
        ['the book: load every label in one batch, rank', ms(bookLoadMs), '-'],
      ],
    ),
    '\n\n',
    table(
      ['the book (ms per operation)', 'n', 'p50', 'p99', 'mean', 'naive lookup / p99', 'target'],
      [
        row('add a label from a trusted rater (pair + warm PageRank)', trusted),
        row("add a stranger's label (no re-ranking)", stranger),
        row('lookup right after a new ranking (computed, explained)', miss, target(miss)),
        row('lookup of a random agent, overall or a kind (first read)', first, target(first)),
        row('the same lookup again (from the cache)', hit, target(hit)),
        row('every lookup above', all, target(all)),
        [
          'baseline: naive lookup (index + trust + score from all labels)',
          String(naiveStats.n),
          ms(naiveStats.p50),
          ms(naiveStats.max),
          ms(naiveStats.mean),
          '1x',
          '-',
        ],
      ],
    ),
    `\n\nPageRank: ${pure.iterations} iterations, last change ${pure.delta.toExponential(1)}; heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB; 1-min load average ${(loadavg()[0] ?? 0).toFixed(1)} (${cpus().length} cores)`,
  ].join('');
}
