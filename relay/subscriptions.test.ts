import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { matchFilters } from 'nostr-tools';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import { SubscriptionIndex } from './subscriptions.ts';

const hex = (c: string): string => c.repeat(64);
const ids = ['a', 'b', 'c'].map(hex);
const keys = ['1', '2', '3'].map(hex);

const eventArb = fc.record({
  id: fc.constantFrom(...ids),
  pubkey: fc.constantFrom(...keys),
  kind: fc.constantFrom(1, 4, 7),
  created_at: fc.integer({ min: 0, max: 10 }),
  tags: fc.array(fc.tuple(fc.constantFrom('p', 'e', 't', 'relay'), fc.constantFrom('x', 'y', ...keys)), {
    maxLength: 3,
  }),
  content: fc.constant(''),
  sig: fc.constant(''),
}) as fc.Arbitrary<NostrEvent>;

const filterArb = fc.record(
  {
    ids: fc.subarray(ids),
    authors: fc.subarray(keys),
    kinds: fc.subarray([1, 4, 7]),
    '#p': fc.subarray(['x', ...keys]),
    '#t': fc.subarray(['x', 'y']),
    since: fc.integer({ min: 0, max: 10 }),
    until: fc.integer({ min: 0, max: 10 }),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Filter>;

interface TestSub {
  name: number;
  filters: Filter[];
}

test('the index finds exactly the subscriptions whose filters match', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(filterArb, { minLength: 1, maxLength: 3 }), { maxLength: 8 }),
      fc.array(eventArb, { minLength: 1, maxLength: 5 }),
      fc.nat(),
      (filterSets, events, removeAt) => {
        const index = new SubscriptionIndex<TestSub>();
        const subs = filterSets.map((filters, name) => ({ name, filters }));
        for (const s of subs) index.add(s);
        const removed = subs[removeAt % Math.max(1, subs.length)];
        if (removed) index.remove(removed);
        const live = subs.filter((s) => s !== removed);
        assert.equal(index.size, live.length);
        for (const e of events) {
          const got = index
            .match(e)
            .map((s) => s.name)
            .sort();
          const want = live
            .filter((s) => matchFilters(s.filters, e))
            .map((s) => s.name)
            .sort();
          assert.deepEqual(got, want);
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('re-adding a subscription replaces its filters; removing twice is harmless', () => {
  const index = new SubscriptionIndex<TestSub>();
  const sub = { name: 1, filters: [{ kinds: [1] }] as Filter[] };
  index.add(sub);
  sub.filters = [{ kinds: [7] }];
  index.add(sub);
  const e = {
    id: ids[0],
    pubkey: keys[0],
    kind: 1,
    created_at: 1,
    tags: [],
    content: '',
    sig: '',
  } as NostrEvent;
  assert.deepEqual(index.match(e), []);
  assert.deepEqual(index.match({ ...e, kind: 7 }), [sub]);
  index.remove(sub);
  index.remove(sub);
  assert.equal(index.size, 0);
  assert.deepEqual(index.match({ ...e, kind: 7 }), []);
});
