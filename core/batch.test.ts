import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batched } from './batch.ts';

test('lookups in one turn become one load; each caller gets its own value', async () => {
  const loads: number[][] = [];
  const get = batched(async (keys: number[]) => {
    loads.push(keys);
    return new Map(keys.filter((k) => k % 2 === 0).map((k) => [k, `v${k}`]));
  });
  const got = await Promise.all([get(1), get(2), get(2), get(4)]);
  assert.deepEqual(got, [undefined, 'v2', 'v2', 'v4']);
  assert.deepEqual(loads, [[1, 2, 4]], 'one load, each key once');
  assert.equal(await get(6), 'v6');
  assert.equal(loads.length, 2, 'a later turn is a new batch');
});

test('a large batch is loaded in chunks; a failed chunk rejects only its callers', async () => {
  const loads: number[][] = [];
  const get = batched(async (keys: number[]) => {
    loads.push(keys);
    if (keys.includes(3)) throw new Error('relay away');
    return new Map(keys.map((k) => [k, k * 10]));
  }, 2);
  const results = await Promise.allSettled([get(1), get(2), get(3), get(4), get(5)]);
  assert.deepEqual(loads, [[1, 2], [3, 4], [5]]);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [10, 20, 'relay away', 'relay away', 50],
  );
});
