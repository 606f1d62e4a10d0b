/**
 * Personalized PageRank over the rater graph, pure and numeric: nodes are pubkeys by index, an edge
 * rater → rated carries the weight of the rater's positive labels, and each node's mass is split among its
 * out-edges in proportion to their weights (a key that rates many spreads thin). Teleport (1 − damping) and
 * the mass of nodes that rate nobody go back to the seeds, the observer's pinned trust roots. Power
 * iteration, bounded: it stops when no value moves by more than `tolerance`, or after `maxIterations`. A
 * previous result can be given as the starting point (an incremental update converges in a few rounds).
 */

export interface PageRankOptions {
  damping: number;
  maxIterations: number;
  tolerance: number;
}

/** The graph in compressed sparse rows: node u's edges are [offsets[u], offsets[u + 1]). */
export interface Csr {
  nodeCount: number;
  offsets: Int32Array;
  targets: Int32Array;
  weights: Float64Array;
  /** Sum of each node's out-edge weights. */
  outWeight: Float64Array;
}

/**
 * Edges added since the Csr was built, and the nodes after it: so that one new edge does not rebuild the
 * whole graph. `outWeight` is then every node's (base and added edges).
 */
export interface Overlay {
  nodeCount: number;
  outWeight: Float64Array;
  from: Int32Array;
  to: Int32Array;
  weight: Float64Array;
}

export interface PageRankResult {
  /** Sums to 1 (all zero without seeds). */
  rank: Float64Array;
  iterations: number;
  /** The largest change in the last iteration. */
  delta: number;
  converged: boolean;
}

/** Builds a Csr from per-node edge lists (weights ≤ 0 are left out). */
export function buildCsr(nodeCount: number, edgesOf: (node: number) => Iterable<[number, number]>): Csr {
  const offsets = new Int32Array(nodeCount + 1);
  const targets: number[] = [];
  const weights: number[] = [];
  const outWeight = new Float64Array(nodeCount);
  for (let u = 0; u < nodeCount; u++) {
    offsets[u] = targets.length;
    let sum = 0;
    for (const [v, w] of edgesOf(u)) {
      if (!(w > 0) || v === u) continue;
      targets.push(v);
      weights.push(w);
      sum += w;
    }
    outWeight[u] = sum;
  }
  offsets[nodeCount] = targets.length;
  return {
    nodeCount,
    offsets,
    targets: Int32Array.from(targets),
    weights: Float64Array.from(weights),
    outWeight,
  };
}

const NO_NODES = new Int32Array(0);
const NO_WEIGHTS = new Float64Array(0);

export interface PageRankRun {
  /** The last ranks (nodes after its end start at 0): an update converges from there in a few rounds. */
  start?: Float64Array;
  overlay?: Overlay;
  /** Two buffers of at least nodeCount values to work in (the result is a view of one of them). */
  scratch?: [Float64Array, Float64Array];
}

export function personalizedPageRank(
  g: Csr,
  seeds: readonly number[],
  options: PageRankOptions,
  run: PageRankRun = {},
): PageRankResult {
  const { start, overlay, scratch } = run;
  const n = overlay?.nodeCount ?? g.nodeCount;
  const roots = [...new Set(seeds)].filter((s) => s >= 0 && s < n);
  if (roots.length === 0) return { rank: new Float64Array(n), iterations: 0, delta: 0, converged: true };
  const d = options.damping;
  const usable = scratch && scratch[0].length >= n && scratch[1].length >= n;
  let rank = usable ? scratch[0].subarray(0, n) : new Float64Array(n);
  let next = usable ? scratch[1].subarray(0, n) : new Float64Array(n);
  if (start && start.length > 0 && start.length <= n) {
    rank.set(start);
    rank.fill(0, start.length);
  } else {
    rank.fill(0);
    for (const s of roots) rank[s] = 1 / roots.length;
  }
  const { offsets, targets, weights } = g;
  const outWeight = overlay?.outWeight ?? g.outWeight;
  const base = g.nodeCount;
  // Read once, outside the loops (the loops see the same array shapes on every run, and stay optimized).
  const exFrom = overlay?.from ?? NO_NODES;
  const exTo = overlay?.to ?? NO_NODES;
  const exWeight = overlay?.weight ?? NO_WEIGHTS;
  const extra = exFrom.length;
  let iterations = 0;
  let delta = Number.POSITIVE_INFINITY;
  while (iterations < options.maxIterations) {
    next.fill(0);
    for (let u = 0; u < base; u++) {
      const m = rank[u] as number;
      const ow = outWeight[u] as number;
      if (m === 0 || ow === 0) continue;
      const c = (d * m) / ow;
      const end = offsets[u + 1] as number;
      for (let e = offsets[u] as number; e < end; e++) {
        const v = targets[e] as number;
        next[v] = (next[v] as number) + c * (weights[e] as number);
      }
    }
    for (let e = 0; e < extra; e++) {
      const u = exFrom[e] as number;
      const m = rank[u] as number;
      const ow = outWeight[u] as number;
      if (m === 0 || ow === 0) continue;
      const v = exTo[e] as number;
      next[v] = (next[v] as number) + ((d * m) / ow) * (exWeight[e] as number);
    }
    // Teleport, and the mass of nodes that rate nobody, go back to the seeds (the total stays 1).
    let moved = 0;
    for (let v = 0; v < n; v++) moved += next[v] as number;
    const back = (1 - moved) / roots.length;
    for (const s of roots) next[s] = (next[s] as number) + back;
    delta = 0;
    for (let v = 0; v < n; v++) {
      const diff = Math.abs((next[v] as number) - (rank[v] as number));
      if (diff > delta) delta = diff;
    }
    const swap = rank;
    rank = next;
    next = swap;
    iterations++;
    if (delta <= options.tolerance) break;
  }
  return { rank, iterations, delta, converged: delta <= options.tolerance };
}
