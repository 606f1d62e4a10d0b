import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCsr, personalizedPageRank } from './trust.ts';

const OPTIONS = { damping: 0.85, maxIterations: 100, tolerance: 1e-9 };

function graph(n: number, edges: [number, number, number][]) {
  return buildCsr(n, (u) =>
    edges.filter(([from]) => from === u).map(([, to, w]) => [to, w] as [number, number]),
  );
}

const close = (a: number, b: number, eps = 1e-6): boolean => Math.abs(a - b) <= eps;

test('a chain from the seed: each step keeps the damping, the end returns its mass to the seed', () => {
  // seed 0 → 1 → 2; node 2 rates nobody. r1 = d·r0, r2 = d²·r0, r0 = 1 / (1 + d + d²).
  const d = 0.85;
  const { rank, converged } = personalizedPageRank(
    graph(3, [
      [0, 1, 1],
      [1, 2, 1],
    ]),
    [0],
    {
      ...OPTIONS,
      maxIterations: 1000,
    },
  );
  assert.ok(converged);
  const r0 = 1 / (1 + d + d * d);
  assert.ok(close(rank[0] as number, r0), `${rank[0]}`);
  assert.ok(close(rank[1] as number, d * r0));
  assert.ok(close(rank[2] as number, d * d * r0));
});

test("a rater's mass is split in proportion to its edge weights", () => {
  const { rank } = personalizedPageRank(
    graph(3, [
      [0, 1, 3],
      [0, 2, 1],
    ]),
    [0],
    OPTIONS,
  );
  assert.ok(close((rank[1] as number) / (rank[2] as number), 3, 1e-9));
});

test('nodes the seeds do not reach get nothing, whatever they say about each other', () => {
  // 0 (seed) → 1; 2 ⇄ 3 rate each other heavily.
  const { rank } = personalizedPageRank(
    graph(4, [
      [0, 1, 1],
      [2, 3, 100],
      [3, 2, 100],
    ]),
    [0],
    OPTIONS,
  );
  assert.equal(rank[2], 0);
  assert.equal(rank[3], 0);
  assert.ok(close((rank[0] as number) + (rank[1] as number), 1, 1e-12));
});

test('without seeds every rank is 0; several seeds share the teleport', () => {
  const g = graph(3, [[0, 1, 1]]);
  const none = personalizedPageRank(g, [], OPTIONS);
  assert.deepEqual([...none.rank], [0, 0, 0]);
  assert.equal(none.iterations, 0);
  const two = personalizedPageRank(graph(2, []), [0, 1, 1], OPTIONS);
  assert.ok(close(two.rank[0] as number, 0.5) && close(two.rank[1] as number, 0.5));
});

test('self-edges and weights of 0 or less are left out', () => {
  const g = graph(3, [
    [0, 0, 5],
    [0, 1, 1],
    [0, 2, 0],
    [0, 2, -1],
  ]);
  assert.deepEqual([...g.targets], [1]);
  assert.deepEqual([...g.outWeight], [1, 0, 0]);
});

function randomGraph(n: number, seed: number): ReturnType<typeof graph> {
  let s = seed;
  const rand = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const edges: [number, number, number][] = [];
  for (let u = 0; u < n; u++) for (let k = 0; k < 5; k++) edges.push([u, Math.floor(rand() * n), 1 + rand()]);
  return graph(n, edges);
}

test('bounded: it stops at maxIterations, or as soon as no value moves more than the tolerance', () => {
  const g = randomGraph(200, 7);
  const one = personalizedPageRank(g, [0], { ...OPTIONS, maxIterations: 1 });
  assert.equal(one.iterations, 1);
  assert.equal(one.converged, false);
  const full = personalizedPageRank(g, [0], { ...OPTIONS, tolerance: 1e-6 });
  assert.ok(full.converged && full.delta <= 1e-6 && full.iterations < 100, `${full.iterations} iterations`);
  const sum = full.rank.reduce((a, b) => a + b, 0);
  assert.ok(close(sum, 1, 1e-12), `sum ${sum}`);
});

test('a warm start from the last ranks converges to the same ranks in fewer iterations', () => {
  const g = randomGraph(500, 11);
  const cold = personalizedPageRank(g, [0, 1], OPTIONS);
  const warm = personalizedPageRank(g, [0, 1], OPTIONS, { start: cold.rank });
  assert.ok(warm.iterations <= 2, `${warm.iterations}`);
  for (let i = 0; i < 500; i++) assert.ok(close(warm.rank[i] as number, cold.rank[i] as number, 1e-8));
});

test('work buffers are reused, and a start shorter than the graph (new nodes) is padded with zeros', () => {
  const g = randomGraph(300, 5);
  const cold = personalizedPageRank(g, [0], OPTIONS);
  const scratch: [Float64Array, Float64Array] = [new Float64Array(512), new Float64Array(512)];
  const again = personalizedPageRank(g, [0], OPTIONS, { start: cold.rank.slice(0, 250), scratch });
  assert.ok(again.rank.buffer === scratch[0].buffer || again.rank.buffer === scratch[1].buffer);
  assert.equal(again.rank.length, 300);
  for (let i = 0; i < 300; i++) assert.ok(close(again.rank[i] as number, cold.rank[i] as number, 1e-8));
});
