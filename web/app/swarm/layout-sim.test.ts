import assert from 'node:assert/strict';
import { test } from 'node:test';
import { syntheticSnapshot } from './fixtures.ts';
import { SwarmGraph } from './graph-model.ts';
import { ForceLayout } from './layout-sim.ts';
import { edgeHref, hitEdge, hitNode, nodeHref, Viewport } from './viewport.ts';

function message(g: SwarmGraph, dims: 2 | 3) {
  const c = g.compile();
  return {
    type: 'graph' as const,
    version: c.version,
    ids: c.nodes.map((n) => n.id),
    source: c.source,
    target: c.target,
    radius: new Float32Array(c.nodes.length).fill(4),
    dims,
  };
}

test('the layout spreads the graph, keeps positions by id across changes, and settles', () => {
  const g = new SwarmGraph();
  g.load(syntheticSnapshot(100), 0);
  const layout = new ForceLayout();
  layout.setGraph(message(g, 2));
  for (let i = 0; i < 400 && !layout.settled; i++) layout.tick();
  assert.ok(layout.settled, 'settles within 400 ticks');
  const p = new Float32Array(layout.size * 3);
  layout.write(p);
  assert.ok(p.every(Number.isFinite));
  const xs = new Set(Array.from({ length: layout.size }, (_, i) => Math.round(p[i * 3] ?? 0)));
  assert.ok(xs.size > 50, 'nodes are spread out');
  // A new node keeps the others where they were.
  const first = [p[0], p[1]];
  g.apply({ type: 'request', job: 'a'.repeat(64), customer: 'b'.repeat(64), jobKind: 5050 }, 1);
  layout.setGraph(message(g, 2));
  const q = new Float32Array(layout.size * 3);
  layout.write(q);
  assert.deepEqual([q[0], q[1]], first);
  assert.equal(layout.settled, false, 'a new node wakes the layout');
});

test('in 3D every node gets a depth of its own', () => {
  const g = new SwarmGraph();
  g.load(syntheticSnapshot(200), 0);
  const layout = new ForceLayout();
  layout.setGraph(message(g, 3));
  for (let i = 0; i < 400; i++) layout.tick();
  const p = new Float32Array(layout.size * 3);
  layout.write(p);
  assert.ok(p.every(Number.isFinite), 'stable: a desk with many links does not make it diverge');
  const zs = Array.from({ length: layout.size }, (_, i) => p[i * 3 + 2] ?? 0);
  assert.ok(Math.max(...zs) - Math.min(...zs) > 50, 'the cloud has depth');
  layout.setDims(2);
  layout.write(p);
  assert.ok(Array.from({ length: layout.size }, (_, i) => p[i * 3 + 2]).every((z) => z === 0));
});

test('viewport: zoom keeps the point under the cursor; fit shows everything; hits find nodes and jobs', () => {
  const v = new Viewport();
  v.resize(800, 600);
  const wx = v.worldX(100);
  const wy = v.worldY(50);
  v.zoomAt(2, 100, 50);
  assert.ok(Math.abs(v.screenX(wx) - 100) < 1e-9 && Math.abs(v.screenY(wy) - 50) < 1e-9);
  assert.equal(v.auto, false);
  const g = new SwarmGraph();
  g.load(syntheticSnapshot(50), 0);
  const c = g.compile();
  const p = new Float32Array(c.nodes.length * 3);
  c.nodes.forEach((_, i) => {
    p[i * 3] = (i % 10) * 100 - 450;
    p[i * 3 + 1] = Math.floor(i / 10) * 100 - 200;
  });
  v.fit(p, 1);
  for (let i = 0; i < c.nodes.length; i++) {
    const sx = v.screenX(p[i * 3] ?? 0);
    const sy = v.screenY(p[i * 3 + 1] ?? 0);
    assert.ok(sx >= 0 && sx <= 800 && sy >= 0 && sy <= 600, `node ${i} on screen`);
  }
  assert.equal(hitNode(c, p, p[0] ?? 0, p[1] ?? 0, 2), 0);
  assert.equal(nodeHref(c, 0), '/peers', 'the desk leads to the peers page');
  assert.equal(hitNode(c, p, 1e6, 1e6, 2), -1);
  const jobEdge = c.edges.findIndex((e) => e.job !== undefined);
  const s = (c.source[jobEdge] ?? 0) * 3;
  const t = (c.target[jobEdge] ?? 0) * 3;
  const mx = ((p[s] ?? 0) + (p[t] ?? 0)) / 2;
  const my = ((p[s + 1] ?? 0) + (p[t + 1] ?? 0)) / 2;
  const hit = hitEdge(c, p, mx, my, 3);
  assert.ok(hit >= 0);
  assert.match(edgeHref(c, hit) ?? '', /^\/jobs\/[0-9a-f]{64}$/);
});
