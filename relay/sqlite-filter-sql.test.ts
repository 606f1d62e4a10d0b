import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RelayError } from '../core/errors.ts';
import type { Filter } from '../core/nostr.ts';
import { effectiveLimit, fanOut, filterSql, MAX_FAN_OUT, MAX_INLINE_VALUES } from './sqlite-filter-sql.ts';

const NOW = 1_700_000_000;
const hex = (i: number) => i.toString(16).padStart(64, '0');

describe('filterSql', () => {
  test('always tests expiration first; an empty filter is just that', () => {
    assert.deepEqual(filterSql({}, NOW), {
      from: 'events e',
      where: '(e.expiration IS NULL OR e.expiration > ?)',
      createdAt: 'e.created_at',
      params: [NOW],
    });
  });

  test('one value is `=`; lists are padded to a power of two; long lists go through json_each', () => {
    assert.match(filterSql({ kinds: [1, 1] }, NOW)!.where, /e\.kind = \?$/);
    const three = filterSql({ authors: [hex(1), hex(2), hex(3)] }, NOW)!;
    assert.match(three.where, /e\.pubkey IN \(\?,\?,\?,\?\)$/);
    assert.deepEqual(three.params.slice(1), [hex(1), hex(2), hex(3), hex(3)]);
    const max = Array.from({ length: MAX_INLINE_VALUES }, (_, i) => hex(i));
    assert.equal(filterSql({ ids: max }, NOW)!.params.length, 1 + MAX_INLINE_VALUES);
    const many = [...max, hex(999)];
    const long = filterSql({ ids: many }, NOW)!;
    assert.match(long.where, /e\.id IN \(SELECT value FROM json_each\(\?\)\)$/);
    assert.deepEqual(long.params, [NOW, JSON.stringify(many)]);
  });

  test('equal shapes for equal list lengths (so prepared statements are shared)', () => {
    const a = filterSql({ kinds: [1, 2, 3], authors: [hex(1)], since: 5 }, NOW)!;
    const b = filterSql({ since: 9, authors: [hex(2)], kinds: [7, 8, 9] }, NOW)!;
    assert.equal(a.where, b.where);
  });

  test('since and until are inclusive bounds on created_at', () => {
    const sql = filterSql({ since: 10, until: 20 }, NOW)!;
    assert.match(sql.where, /e\.created_at >= \? AND e\.created_at <= \?$/);
    assert.deepEqual(sql.params, [NOW, 10, 20]);
  });

  test('a one-value tag filter joins from tags and orders by its created_at', () => {
    const sql = filterSql({ '#e': [hex(1)], kinds: [7], since: 10 }, NOW)!;
    assert.match(
      sql.from,
      /^tags t JOIN events e ON e\.seq = t\.event_seq AND e\.created_at = t\.created_at$/,
    );
    assert.equal(sql.createdAt, 't.created_at');
    assert.match(sql.where, /t\.name = \? AND t\.value = \? AND t\.created_at >= \?$/);
    assert.deepEqual(sql.params, [NOW, 7, 'e', hex(1), 10]);
  });

  test('other tag filters are seq IN subqueries, with since/until pushed into them', () => {
    const sql = filterSql({ '#p': [hex(1), hex(2)], '#t': ['a', 'b'], until: 50 }, NOW)!;
    assert.equal(sql.from, 'events e');
    assert.match(
      sql.where,
      /e\.seq IN \(SELECT t1\.event_seq FROM tags t1 WHERE t1\.name = \? AND t1\.value IN \(\?,\?\) AND t1\.created_at <= \?\)/,
    );
    assert.match(
      sql.where,
      /e\.seq IN \(SELECT t2\.event_seq FROM tags t2 WHERE t2\.name = \? AND t2\.value IN \(\?,\?\) AND t2\.created_at <= \?\)$/,
    );
    assert.deepEqual(sql.params, [NOW, 50, 'p', hex(1), hex(2), 50, 't', 'a', 'b', 50]);
  });

  test('matches nothing (undefined) for an empty list or a tag name that is not one letter', () => {
    for (const f of [
      { ids: [] },
      { authors: [] },
      { kinds: [] },
      { '#e': [] },
      { '#client': ['x'] },
      { '#': ['x'] },
    ]) {
      assert.equal(filterSql(f as Filter, NOW), undefined, JSON.stringify(f));
    }
  });

  test('ignores unknown fields and absent (undefined/null) ones', () => {
    const sql = filterSql({ search: 'x', kinds: undefined, since: null } as unknown as Filter, NOW);
    assert.deepEqual(sql?.params, [NOW]);
  });

  test('refuses fields of the wrong type with an invalid: RelayError', () => {
    const bad = [
      { ids: 'x' },
      { authors: [1] },
      { kinds: [1.5] },
      { kinds: ['1'] },
      { since: 'x' },
      { '#e': 'x' },
    ];
    for (const f of bad) {
      assert.throws(
        () => filterSql(f as unknown as Filter, NOW),
        (err: unknown) => err instanceof RelayError && err.prefix === 'invalid',
        JSON.stringify(f),
      );
    }
  });
});

describe('effectiveLimit', () => {
  test('the filter limit, capped by maxLimit, which is also the default; never below 0', () => {
    assert.equal(effectiveLimit(undefined, undefined), undefined);
    assert.equal(effectiveLimit(10, undefined), 10);
    assert.equal(effectiveLimit(undefined, 500), 500);
    assert.equal(effectiveLimit(10, 5), 5);
    assert.equal(effectiveLimit(0, 500), 0);
    assert.equal(effectiveLimit(-3, 500), 0);
    assert.equal(effectiveLimit(2.7, undefined), 2);
    assert.throws(() => effectiveLimit('5', undefined), RelayError);
  });
});

describe('fanOut', () => {
  test('splits a limited authors × kinds filter into one filter per pair', () => {
    const parts = fanOut({ authors: [hex(1), hex(2), hex(1)], kinds: [1, 6], since: 5, limit: 10 }, 10);
    assert.deepEqual(parts, [
      { authors: [hex(1)], kinds: [1], since: 5, limit: 10 },
      { authors: [hex(1)], kinds: [6], since: 5, limit: 10 },
      { authors: [hex(2)], kinds: [1], since: 5, limit: 10 },
      { authors: [hex(2)], kinds: [6], since: 5, limit: 10 },
    ]);
  });

  test('leaves other filters whole', () => {
    const many = Array.from({ length: MAX_FAN_OUT + 1 }, (_, i) => hex(i));
    const cases: [Filter, number | undefined][] = [
      [{ authors: [hex(1), hex(2)], kinds: [1] }, undefined],
      [{ authors: [hex(1)], kinds: [1] }, 10],
      [{ authors: [hex(1), hex(2)] }, 10],
      [{ kinds: [1, 2] }, 10],
      [{ authors: [hex(1), hex(2)], kinds: [1], ids: [hex(3)] }, 10],
      [{ authors: [hex(1), hex(2)], kinds: [1], '#e': [hex(3)] }, 10],
      [{ authors: many, kinds: [1] }, 10],
    ];
    for (const [f, limit] of cases) assert.equal(fanOut(f, limit), undefined, JSON.stringify(f).slice(0, 80));
  });
});
