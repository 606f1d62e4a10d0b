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

/** An array that counts reads of its elements and methods (indexOf, includes, iteration...). */
function counted<T>(values: T[]): { array: T[]; reads: () => number; reset: () => void } {
  let reads = 0;
  const array = new Proxy(values, {
    get(target, prop, receiver) {
      if (prop !== 'length') reads++;
      return Reflect.get(target, prop, receiver);
    },
  });
  return { array, reads: () => reads, reset: () => (reads = 0) };
}

test('matching looks values up by hash: an event is not compared with every filter value', () => {
  // Finding 2 of issue 12: {"#t":["zz"],"#p":[many]} subscriptions and events with thousands of p tags made
  // every event cost tags × values per subscription. Filter lists are read when a subscription is added,
  // never when an event is matched.
  const index = new SubscriptionIndex<TestSub>();
  const values = Array.from({ length: 2500 }, (_, i) => `v${i}`);
  const lists = Array.from({ length: 8 }, () => counted([...values]));
  const subs = lists.map((list, name) => ({
    name,
    filters: [{ '#t': ['zz'], '#p': list.array }] as Filter[],
  }));
  for (const s of subs) index.add(s);
  for (const list of lists) list.reset();
  const tags = [['t', 'zz'], ...Array.from({ length: 2499 }, (_, i) => ['p', `miss${i}`])];
  const event = {
    id: ids[0],
    pubkey: keys[0],
    kind: 1,
    created_at: 1,
    tags,
    content: '',
    sig: '',
  } as NostrEvent;
  assert.deepEqual(index.match(event), []);
  const hit = { ...event, tags: [...tags, ['p', 'v2499']] };
  assert.deepEqual(
    index
      .match(hit)
      .map((s) => s.name)
      .sort(),
    subs.map((s) => s.name),
  );
  assert.deepEqual(
    lists.map((l) => l.reads()),
    lists.map(() => 0),
  );
});
