/**
 * The rater graph of one observer and the trust it gives: an edge rater → rated weighs the rater's positive
 * labels about that agent (saturated, decayed: weights.ts), PageRank personalized on the observer's seeds
 * (trust.ts) runs over it, and a rater's trust is its rank relative to the average node reached from the
 * seeds, at most 1 (seeds are 1). A rater's voice about one agent is its share of everything it says
 * (all its pairs, positive and negative, saturated): a key that rates a thousand agents says little about
 * each. Updated pair by pair (the book), or built whole (the pure scoring).
 */
import type { ScoreOptions } from './options.ts';
import { buildCsr, type Csr, type PageRankResult, personalizedPageRank } from './trust.ts';
import { type PairWeight, saturate } from './weights.ts';

/** What the scoring reads about raters. */
export interface TrustView {
  isSeed(pubkey: string): boolean;
  /** 0..1; seeds 1; 0 for a key no trust reaches. */
  trust(pubkey: string): number;
  /** The raw PageRank mass (all nodes sum to 1). */
  rank(pubkey: string): number;
  /** The part of `rater`'s voice that goes to `subject` (0..1). */
  share(rater: string, subject: string): number;
}

export class RaterGraph implements TrustView {
  private readonly seeds: ReadonlySet<string>;
  private readonly ids = new Map<string, number>();
  private readonly keys: string[] = [];
  /** Per node: rated node → positive edge weight. */
  private readonly edges: Map<number, number>[] = [];
  /** Per node: rated node → saturated total of the pair (positive and negative). */
  private readonly totals: Map<number, number>[] = [];
  private readonly outTotal: number[] = [];
  private rankVector: Float64Array = new Float64Array(0);
  private reached = 0;
  /** The graph compressed at the last rebuild, and the edges added since (rebuilt when they grow). */
  private csr: Csr | undefined;
  /** Added edges: rater → rated → slot in the three arrays below. */
  private readonly extra = new Map<number, Map<number, number>>();
  private extraCount = 0;
  private extraFrom = new Int32Array(64);
  private extraTo = new Int32Array(64);
  private extraWeight = new Float64Array(64);
  /** Every node's out-weight, base and added edges (capacity beyond nodeCount). */
  private out = new Float64Array(64);
  /** PageRank's work buffers, kept between runs. */
  private scratch: [Float64Array, Float64Array] = [new Float64Array(64), new Float64Array(64)];
  private last: PageRankResult = { rank: new Float64Array(0), iterations: 0, delta: 0, converged: true };

  constructor(
    seeds: Iterable<string>,
    private readonly options: ScoreOptions,
  ) {
    this.seeds = new Set(seeds);
    for (const s of [...this.seeds].sort()) this.node(s);
  }

  get nodeCount(): number {
    return this.keys.length;
  }

  get edgeCount(): number {
    let n = 0;
    for (const e of this.edges) n += e.size;
    return n;
  }

  /** The last PageRank run: iterations, last change, converged. */
  get lastRun(): Omit<PageRankResult, 'rank'> {
    const { iterations, delta, converged } = this.last;
    return { iterations, delta, converged };
  }

  private node(pubkey: string): number {
    let id = this.ids.get(pubkey);
    if (id === undefined) {
      id = this.keys.length;
      this.ids.set(pubkey, id);
      this.keys.push(pubkey);
      this.edges.push(new Map());
      this.totals.push(new Map());
      this.outTotal.push(0);
      if (id >= this.out.length) {
        this.out = grow(this.out, id + 1);
        this.scratch = [grow(this.scratch[0], id + 1), grow(this.scratch[1], id + 1)];
      }
    }
    return id;
  }

  /**
   * Sets one pair from its weight (all kinds, at the time the caller weighs it). Returns true when its edge
   * weight changed, i.e. when the ranks may move.
   */
  updatePair(rater: string, subject: string, pair: PairWeight): boolean {
    const total = pair.positive + pair.negative;
    const edge = pair.positive * pair.factor;
    const r = this.node(rater);
    const s = this.node(subject);
    const totals = this.totals[r] as Map<number, number>;
    const before = totals.get(s) ?? 0;
    const after = total > 0 ? saturate(total, this.options.pairCap) : 0;
    if (after > 0) totals.set(s, after);
    else totals.delete(s);
    this.outTotal[r] = totals.size === 0 ? 0 : Math.max(0, (this.outTotal[r] as number) - before + after);
    const edges = this.edges[r] as Map<number, number>;
    const old = edges.get(s) ?? 0;
    if (old === edge) return false;
    if (edge > 0) edges.set(s, edge);
    else edges.delete(s);
    if (this.csr) {
      if (!this.reweigh(this.csr, r, s, edge)) this.addExtra(r, s, edge);
      this.out[r] = (this.out[r] as number) - old + edge;
    }
    return true;
  }

  /** An edge already in the compressed graph changes weight (0: gone): set in place. False when not there. */
  private reweigh(csr: Csr, r: number, s: number, weight: number): boolean {
    if (r >= csr.nodeCount) return false;
    const end = csr.offsets[r + 1] as number;
    for (let e = csr.offsets[r] as number; e < end; e++) {
      if (csr.targets[e] !== s) continue;
      csr.weights[e] = weight;
      return true;
    }
    return false;
  }

  private addExtra(r: number, s: number, weight: number): void {
    let targets = this.extra.get(r);
    if (!targets) {
      targets = new Map();
      this.extra.set(r, targets);
    }
    let slot = targets.get(s);
    if (slot === undefined) {
      slot = this.extraCount++;
      targets.set(s, slot);
      if (slot >= this.extraFrom.length) {
        this.extraFrom = grow(this.extraFrom, slot + 1);
        this.extraTo = grow(this.extraTo, slot + 1);
        this.extraWeight = grow(this.extraWeight, slot + 1);
      }
      this.extraFrom[slot] = r;
      this.extraTo[slot] = s;
    }
    this.extraWeight[slot] = weight;
  }

  /** Compresses every edge again (at the first ranking, and when the added edges grow past an eighth). */
  private rebuild(): Csr {
    const csr = buildCsr(this.keys.length, (u) => (this.edges[u] as Map<number, number>).entries());
    this.csr = csr;
    this.extra.clear();
    this.extraCount = 0;
    this.out.fill(0);
    this.out.set(csr.outWeight);
    return csr;
  }

  /** Whether a change to `rater`'s edges can move any rank (a key with no mass passes none on). */
  carriesTrust(rater: string): boolean {
    return this.seeds.has(rater) || this.rank(rater) > 0;
  }

  /** Runs PageRank: from the last ranks when `warm` (an update), else from the seeds. */
  solve(warm: boolean): PageRankResult {
    let csr = this.csr;
    if (!csr || this.extraCount > Math.max(1024, csr.targets.length / 8)) csr = this.rebuild();
    const seeds = [...this.seeds].map((s) => this.ids.get(s) as number);
    const n = this.keys.length;
    const start = warm && this.rankVector.length > 0 ? this.rankVector : undefined;
    this.last = personalizedPageRank(csr, seeds, this.options, {
      ...(start ? { start } : {}),
      overlay: {
        nodeCount: n,
        outWeight: this.out.subarray(0, n),
        from: this.extraFrom.subarray(0, this.extraCount),
        to: this.extraTo.subarray(0, this.extraCount),
        weight: this.extraWeight.subarray(0, this.extraCount),
      },
      scratch: this.scratch,
    });
    this.rankVector = this.last.rank;
    let reached = 0;
    const rank = this.rankVector;
    for (let i = 0; i < rank.length; i++) if ((rank[i] as number) > 0) reached++;
    this.reached = reached;
    return this.last;
  }

  isSeed(pubkey: string): boolean {
    return this.seeds.has(pubkey);
  }

  rank(pubkey: string): number {
    const id = this.ids.get(pubkey);
    return id === undefined ? 0 : (this.rankVector[id] ?? 0);
  }

  trust(pubkey: string): number {
    if (this.seeds.has(pubkey)) return 1;
    return Math.min(1, this.rank(pubkey) * this.reached);
  }

  share(rater: string, subject: string): number {
    const r = this.ids.get(rater);
    const s = this.ids.get(subject);
    if (r === undefined || s === undefined) return 0;
    const out = this.outTotal[r] as number;
    const pair = (this.totals[r] as Map<number, number>).get(s) ?? 0;
    return out > 0 ? Math.min(1, pair / out) : 0;
  }

  /** Every node's rank, by pubkey (for sums and tests). */
  ranks(): Map<string, number> {
    const out = new Map<string, number>();
    this.keys.forEach((k, i) => {
      out.set(k, this.rankVector[i] ?? 0);
    });
    return out;
  }
}

/** A typed array with room for at least `size` values (doubling), the old values kept. */
function grow<T extends Int32Array | Float64Array>(a: T, size: number): T {
  let capacity = a.length;
  while (capacity < size) capacity *= 2;
  const b = new (a.constructor as new (n: number) => T)(capacity);
  b.set(a);
  return b;
}
