import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterListViolation, filterValueCount, parseFilter } from './filters.ts';

const hex = 'a'.repeat(64);

test('accepts every NIP-01 filter field', () => {
  const f = {
    ids: [hex],
    authors: [hex],
    kinds: [0, 65535],
    since: 0,
    until: 2e9,
    limit: 10,
    '#e': [hex],
    '#T': ['x'],
  };
  assert.deepEqual(parseFilter(f), { ok: true, filter: f });
  assert.deepEqual(parseFilter({}), { ok: true, filter: {} });
  assert.deepEqual(parseFilter({ ids: [] }), { ok: true, filter: { ids: [] } });
});

test('refuses wrong shapes and unknown fields', () => {
  const bad: unknown[] = [
    null,
    [],
    'x',
    { ids: hex },
    { ids: ['ABC'] },
    { ids: [hex.toUpperCase()] },
    { authors: [1] },
    { kinds: [-1] },
    { kinds: [65536] },
    { kinds: [1.5] },
    { kinds: ['1'] },
    { since: -1 },
    { until: 1.5 },
    { limit: '10' },
    { limit: 1e300 },
    { '#e': 'x' },
    { '#e': [1] },
    { '#ee': ['x'] },
    { '#1': ['x'] },
    { search: 'x' },
    JSON.parse('{"__proto__":{"x":1}}'),
  ];
  for (const f of bad) {
    const r = parseFilter(f);
    assert.equal(r.ok, false, JSON.stringify(f));
  }
});

test('filter values are counted over every list; a list over the limit is named', () => {
  assert.equal(filterValueCount({}), 0);
  assert.equal(
    filterValueCount({ ids: [hex], authors: [hex, hex], kinds: [1], '#p': ['a', 'b'], limit: 5, since: 1 }),
    6,
  );
  assert.equal(filterListViolation([{ '#p': ['a', 'b'] }, { kinds: [1, 2] }], 2), undefined);
  assert.equal(
    filterListViolation([{ kinds: [1] }, { '#t': ['zz'], '#p': ['a', 'b', 'c'] }], 2),
    'invalid: filter 1: #p has 3 values, at most 2',
  );
});
