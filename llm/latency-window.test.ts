import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LatencyWindow } from './latency-window.ts';

test('empty window has no percentiles', () => {
  const w = new LatencyWindow(4);
  assert.deepEqual(w.summary(), {
    count: 0,
    lastMs: undefined,
    p50Ms: undefined,
    p99Ms: undefined,
    maxMs: undefined,
  });
});

test('nearest-rank percentiles over the last N samples only', () => {
  const w = new LatencyWindow(4);
  for (const ms of [1000, 1, 2, 3, 4]) w.add(ms);
  const s = w.summary();
  assert.equal(s.count, 4);
  assert.equal(s.lastMs, 4);
  assert.equal(s.p50Ms, 2);
  assert.equal(s.p99Ms, 4);
  assert.equal(s.maxMs, 4, 'the 1000 ms sample fell out of the window');
  assert.throws(() => new LatencyWindow(0));
});

test('property: p50 <= p99 <= max, all taken from the window', () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(100_000), { minLength: 1, maxLength: 300 }),
      fc.integer({ min: 1, max: 50 }),
      (xs, n) => {
        const w = new LatencyWindow(n);
        for (const x of xs) w.add(x);
        const s = w.summary();
        const kept = xs.slice(-n);
        assert.equal(s.count, kept.length);
        assert.ok((s.p50Ms ?? 0) <= (s.p99Ms ?? 0) && (s.p99Ms ?? 0) <= (s.maxMs ?? 0));
        assert.ok(kept.includes(s.p50Ms ?? -1) && kept.includes(s.p99Ms ?? -1));
        assert.equal(s.maxMs, Math.max(...kept));
      },
    ),
  );
});
