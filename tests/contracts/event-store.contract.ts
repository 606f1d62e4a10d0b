/**
 * The EventStore contract (core/event-store.ts): NIP-01 storage and filters, NIP-09 deletion, NIP-40
 * expiration, NIP-45 counts. `eventStoreContract` registers the same node:test suite for any implementation;
 * tests/contracts/event-store.test.ts runs it against the SQLite store and the in-memory fake.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import type { Clock } from '../../core/clock.ts';
import { ManualClock } from '../../core/clock.ts';
import type { EventStore, QueryOptions, SaveOutcome } from '../../core/event-store.ts';
import type { Filter, NostrEvent } from '../../core/nostr.ts';
import { plainEvent } from '../../core/nostr.ts';

/** What both stores offer beside `EventStore`: each event as its JSON text. */
interface RawQuery {
  queryRaw(filters: readonly Filter[], options?: QueryOptions): Promise<string[]>;
}

/** Builds a fresh, empty store whose wall clock (NIP-40 checks on save, default `nowSeconds`) is `clock`. */
export type MakeEventStore = (options: { clock: Clock }) => EventStore | Promise<EventStore>;

/** Seconds; every event of the suite is dated around it, and each store's clock starts there. */
const NOW = Math.floor(Date.now() / 1000);

class Author {
  readonly sk = generateSecretKey();
  readonly pk = getPublicKey(this.sk);
  sign(kind: number, createdAt: number, tags: string[][] = [], content = ''): NostrEvent {
    const e = finalizeEvent({ kind, created_at: createdAt, tags, content }, this.sk);
    // finalizeEvent marks its result with a symbol; the store hands back plain JSON objects.
    return plainEvent(e);
  }
}

const alice = new Author();
const bob = new Author();
const carol = new Author();

/** Signing is slow (~2 ms an event), so the shared data set is signed once, on first use. */
let dataset: ReturnType<typeof buildDataset> | undefined;
function data(): ReturnType<typeof buildDataset> {
  dataset ??= buildDataset();
  return dataset;
}
function buildDataset() {
  const e1 = alice.sign(1, NOW - 100, [
    ['t', 'nostr'],
    ['p', bob.pk],
  ]);
  const e2 = alice.sign(1, NOW - 90, [
    ['t', 'sqlite'],
    ['e', e1.id, '', 'reply'],
  ]);
  const e3 = bob.sign(1, NOW - 80, [
    ['t', 'nostr'],
    ['t', 'relay'],
  ]);
  const e4 = bob.sign(7, NOW - 70, [['e', e1.id], ['p', alice.pk], ['emoji']], '+');
  const e5 = carol.sign(
    1,
    NOW - 60,
    [
      ['T', 'Upper'],
      ['client', 'timmy'],
      ['p', alice.pk],
    ],
    'quotes " and \\ backslash, unicode ✓ 🙂\nnew line\u0000nul',
  );
  const e6 = carol.sign(30023, NOW - 50, [
    ['d', 'post'],
    ['t', 'nostr'],
  ]);
  const e7 = bob.sign(42, NOW - 40, [['e', e3.id, 'wss://relay.example', 'root']]);
  return { e1, e2, e3, e4, e5, e6, e7, all: [e1, e2, e3, e4, e5, e6, e7] };
}

/** Many events from a few authors (one much busier), a few kinds, and created_at values that collide often. */
let crowdSet: { events: NostrEvent[]; authors: string[] } | undefined;
function crowd(): { events: NostrEvent[]; authors: string[] } {
  if (crowdSet) return crowdSet;
  const people = [alice, bob, carol, new Author()];
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const events: NostrEvent[] = [];
  for (let i = 0; i < 120; i++) {
    const who = people[random() < 0.55 ? 0 : 1 + Math.floor(random() * 3)]!;
    const kind = [1, 6, 7][Math.floor(random() * 3)]!;
    events.push(
      who.sign(kind, NOW - 1000 - Math.floor(random() * 25), [['t', random() < 0.5 ? 'x' : 'y']], `${i}`),
    );
  }
  crowdSet = { events, authors: people.map((p) => p.pk) };
  return crowdSet;
}

const saved: SaveOutcome = { status: 'saved' };
const duplicate: SaveOutcome = { status: 'duplicate' };

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function assertRejected(outcome: SaveOutcome | undefined, prefix: string): void {
  assert.ok(outcome, 'an outcome');
  assert.equal(outcome.status, 'rejected', `expected rejected (${prefix}...), got ${outcome.status}`);
  if (outcome.status === 'rejected') assert.ok(outcome.reason.startsWith(`${prefix}: `), outcome.reason);
}

/** Ids newest first, as `query` must order them. */
function ordered(...events: NostrEvent[]): string[] {
  return [...events]
    .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((e) => e.id);
}

export function eventStoreContract(name: string, makeStore: MakeEventStore): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let clock: ManualClock;

    beforeEach(async () => {
      clock = new ManualClock(NOW * 1000);
      store = await makeStore({ clock });
    });
    afterEach(async () => {
      await store.close();
    });

    const ids = async (filters: Filter[], options?: QueryOptions) =>
      (await store.query(filters, options)).map((e) => e.id);
    const loadDataset = async () => {
      const d = data();
      assert.deepEqual(
        await store.save(d.all),
        d.all.map(() => saved),
      );
      return d;
    };

    describe('save', () => {
      test('answers one outcome per event, in order; duplicates within a batch and across calls', async () => {
        const a = alice.sign(1, NOW - 2, [], 'a');
        const b = alice.sign(1, NOW - 1, [], 'b');
        assert.deepEqual(await store.save([a, b, a]), [saved, saved, duplicate]);
        assert.deepEqual(await store.save([b]), [duplicate]);
        assert.deepEqual(await store.save([]), []);
        assert.deepEqual(await ids([{}]), [b.id, a.id]);
      });

      test('a mixed batch gets each outcome at its own position', async () => {
        const old = alice.sign(0, NOW - 10, [], '{"name":"old"}');
        const cur = alice.sign(0, NOW - 5, [], '{"name":"cur"}');
        const expired = alice.sign(1, NOW - 5, [['expiration', String(NOW - 1)]]);
        const plain = bob.sign(1, NOW - 4);
        const outcomes = await store.save([cur, plain, old, expired, plain]);
        assert.deepEqual(outcomes[0], saved);
        assert.deepEqual(outcomes[1], saved);
        assertRejected(outcomes[2], 'duplicate');
        assertRejected(outcomes[3], 'invalid');
        assert.deepEqual(outcomes[4], duplicate);
        assert.deepEqual(await ids([{}]), [plain.id, cur.id]);
      });

      test('a malformed event is refused alone, not with its batch', async () => {
        const before = alice.sign(1, NOW - 3);
        const after = alice.sign(1, NOW - 1);
        const floatTime = { ...alice.sign(1, NOW - 2), created_at: NOW - 1.5 };
        const badTag = { ...alice.sign(1, NOW - 2), tags: [['t', 5]] } as unknown as NostrEvent;
        const outcomes = await store.save([before, floatTime, badTag, after]);
        assert.deepEqual(outcomes[0], saved);
        assertRejected(outcomes[1], 'invalid');
        assertRejected(outcomes[2], 'invalid');
        assert.deepEqual(outcomes[3], saved);
        assert.deepEqual(await ids([{}]), [after.id, before.id]);
      });

      test('returns each event exactly as saved (tags, odd content)', async () => {
        const d = await loadDataset();
        for (const e of d.all) assert.deepEqual(await store.query([{ ids: [e.id] }]), [e]);
        // Optional: the JSON text of each event, for relays that splice it into EVENT messages.
        const raw = (store as Partial<RawQuery>).queryRaw;
        if (raw) {
          const filters: Filter[] = [{ kinds: [1] }, { '#t': ['nostr'] }];
          const texts = await raw.call(store, filters);
          assert.deepEqual(
            texts.map((t) => JSON.parse(t)),
            await store.query(filters),
          );
        }
      });
    });

    describe('query', () => {
      test('orders newest first, equal created_at by id ascending', async () => {
        const same = [1, 2, 3, 4].map((i) => bob.sign(1, NOW - 50, [], `same ${i}`));
        const older = alice.sign(1, NOW - 60);
        const newer = carol.sign(1, NOW - 40);
        await store.save([same[2]!, older, same[0]!, newer, same[3]!, same[1]!]);
        assert.deepEqual(await ids([{}]), ordered(older, newer, ...same));
        assert.deepEqual(await ids([{ limit: 2 }]), ordered(newer, ...same).slice(0, 2));
        const tiedA = alice.sign(1, NOW - 50, [], 'tied');
        const tiedC = carol.sign(1, NOW - 50, [], 'tied');
        await store.save([tiedA, tiedC]);
        const authors = [alice.pk, bob.pk, carol.pk];
        assert.deepEqual(
          await ids([{ authors, kinds: [1], limit: 4 }]),
          ordered(newer, tiedA, tiedC, ...same).slice(0, 4),
        );
      });

      test('no filters: nothing; an empty filter: everything', async () => {
        const d = await loadDataset();
        assert.deepEqual(await ids([]), []);
        assert.deepEqual(await ids([{}]), ordered(...d.all));
      });

      test('ids, authors and kinds', async () => {
        const { e1, e2, e3, e4, e5, e6, e7 } = await loadDataset();
        assert.deepEqual(await ids([{ ids: [e1.id, e3.id, randomHex(32)] }]), [e3.id, e1.id]);
        assert.deepEqual(await ids([{ authors: [alice.pk] }]), [e2.id, e1.id]);
        assert.deepEqual(await ids([{ authors: [bob.pk, carol.pk] }]), ordered(e3, e4, e5, e6, e7));
        assert.deepEqual(await ids([{ kinds: [7, 30023] }]), [e6.id, e4.id]);
        assert.deepEqual(await ids([{ kinds: [1, 1, 1] }]), ordered(e1, e2, e3, e5));
        assert.deepEqual(await ids([{ kinds: [1], authors: [bob.pk, alice.pk] }]), ordered(e1, e2, e3));
        assert.deepEqual(await ids([{ ids: [e1.id, e4.id], kinds: [7] }]), [e4.id]);
      });

      test('since and until are inclusive', async () => {
        const { e1, e2, e3, e4, e7 } = await loadDataset();
        assert.deepEqual(await ids([{ since: NOW - 90, until: NOW - 70 }]), [e4.id, e3.id, e2.id]);
        assert.deepEqual(await ids([{ since: NOW - 40 }]), [e7.id]);
        assert.deepEqual(await ids([{ until: NOW - 100 }]), [e1.id]);
        assert.deepEqual(await ids([{ since: NOW - 70, until: NOW - 80 }]), []);
      });

      test('tag filters: any value, any position, case-sensitive, several tags ANDed', async () => {
        const { e1, e2, e3, e4, e5, e6, e7 } = await loadDataset();
        assert.deepEqual(await ids([{ '#t': ['nostr'] }]), [e6.id, e3.id, e1.id]);
        assert.deepEqual(await ids([{ '#t': ['nostr', 'sqlite'] }]), [e6.id, e3.id, e2.id, e1.id]);
        assert.deepEqual(await ids([{ '#t': ['relay'] }]), [e3.id], 'second t tag of e3');
        assert.deepEqual(await ids([{ '#t': ['NOSTR'] }]), []);
        assert.deepEqual(await ids([{ '#e': [e1.id] }]), [e4.id, e2.id]);
        assert.deepEqual(await ids([{ '#e': [e3.id] }]), [e7.id], 'tag with extra elements');
        assert.deepEqual(await ids([{ '#p': [alice.pk] }]), [e5.id, e4.id]);
        assert.deepEqual(await ids([{ '#T': ['Upper'] }]), [e5.id], 'upper-case tag name');
        assert.deepEqual(await ids([{ '#d': ['post'] }]), [e6.id]);
        assert.deepEqual(await ids([{ '#t': ['nostr'], '#p': [bob.pk] }]), [e1.id]);
        assert.deepEqual(await ids([{ '#e': [e1.id], kinds: [7], authors: [bob.pk] }]), [e4.id]);
        assert.deepEqual(await ids([{ '#t': ['nostr'], since: NOW - 80, until: NOW - 60 }]), [e3.id]);
        assert.deepEqual(
          await ids([{ '#e': ['wss://relay.example'] }]),
          [],
          'only the first value is indexed',
        );
      });

      test('tag filters on names that are not one letter match nothing (they are not indexed)', async () => {
        await loadDataset();
        assert.deepEqual(await ids([{ '#client': ['timmy'] }]), []);
      });

      test('an empty list in any field matches nothing', async () => {
        await loadDataset();
        for (const f of [{ ids: [] }, { authors: [] }, { kinds: [] }, { '#t': [] }] as Filter[]) {
          assert.deepEqual(await ids([f]), [], JSON.stringify(f));
          assert.equal(await store.count([f]), 0, JSON.stringify(f));
        }
      });

      test('limit keeps the newest; limit 0 returns no stored events; maxLimit caps and defaults', async () => {
        const d = await loadDataset();
        const all = ordered(...d.all);
        assert.deepEqual(await ids([{ limit: 3 }]), all.slice(0, 3));
        assert.deepEqual(await ids([{ limit: 0 }]), []);
        assert.deepEqual(await ids([{ limit: 100 }]), all);
        assert.deepEqual(await ids([{ limit: 5 }], { maxLimit: 2 }), all.slice(0, 2));
        assert.deepEqual(await ids([{}], { maxLimit: 4 }), all.slice(0, 4));
        assert.deepEqual(await ids([{ limit: 1 }], { maxLimit: 4 }), all.slice(0, 1));
        assert.deepEqual(await ids([{ kinds: [1], limit: 2 }]), [d.e5.id, d.e3.id]);
      });

      test('a filter on several authors and kinds keeps to its limit across all of them', async () => {
        const { e2, e3, e4, e5 } = await loadDataset();
        const authors = [alice.pk, bob.pk, carol.pk];
        assert.deepEqual(await ids([{ authors, kinds: [1, 7], limit: 3 }]), [e5.id, e4.id, e3.id]);
        assert.deepEqual(
          await ids([{ authors, kinds: [1, 7], since: NOW - 90, limit: 10 }]),
          ordered(e2, e3, e4, e5),
        );
        assert.deepEqual(
          await ids([{ authors: [alice.pk, bob.pk], kinds: [1, 7], limit: 9 }], { maxLimit: 1 }),
          [e4.id],
        );
        assert.deepEqual(
          await ids([{ authors: [alice.pk, bob.pk], kinds: [1, 7] }], { maxLimit: 3 }),
          ordered(e2, e3, e4),
        );
      });

      test('limits over many authors, kinds and equal timestamps agree with a plain sort', async () => {
        const { events, authors } = crowd();
        await store.save(events);
        const filters: Filter[] = [
          { authors, kinds: [1, 6, 7] },
          { authors: authors.slice(1), kinds: [1, 7] },
          { authors: [authors[0]!, authors[3]!], kinds: [6] },
          { authors, kinds: [1, 6, 7], since: NOW - 1012, until: NOW - 1003 },
          { kinds: [1, 7] },
          { '#t': ['x'], authors: authors.slice(0, 2) },
        ];
        const matches = (f: Filter, e: NostrEvent) =>
          (!f.authors || f.authors.includes(e.pubkey)) &&
          (!f.kinds || f.kinds.includes(e.kind)) &&
          (f.since === undefined || e.created_at >= f.since) &&
          (f.until === undefined || e.created_at <= f.until) &&
          (!f['#t'] || e.tags.some((t) => t[0] === 't' && f['#t']!.includes(t[1]!)));
        for (const f of filters) {
          const all = ordered(...events.filter((e) => matches(f, e)));
          for (const limit of [1, 2, 3, 5, 11, 40, 500]) {
            assert.deepEqual(
              await ids([{ ...f, limit }]),
              all.slice(0, limit),
              `${JSON.stringify(f)} limit ${limit}`,
            );
          }
          assert.deepEqual(await ids([f], { maxLimit: 7 }), all.slice(0, 7));
          assert.equal(await store.count([f]), all.length);
        }
      });

      test('several filters: each limit applies to its own filter; the union is deduplicated and ordered', async () => {
        const { e1, e2, e3, e4, e5, e6 } = await loadDataset();
        const got = await ids([
          { authors: [alice.pk], limit: 1 },
          { kinds: [7] },
          { ids: [e1.id, e4.id] },
          { '#t': ['nostr'], limit: 2 },
          { kinds: [1], limit: 0 },
        ]);
        assert.deepEqual(got, ordered(e2, e4, e1, e6, e3));
        assert.deepEqual(
          await ids([
            { kinds: [1], limit: 1 },
            { kinds: [1], limit: 1 },
          ]),
          [e5.id],
        );
        assert.deepEqual(await ids([{ ids: [] }, { ids: [e5.id] }]), [e5.id]);
      });

      test('long value lists (past SQLite variable limits) still match exactly', async () => {
        const { e1, e2, e3, e4, e5 } = await loadDataset();
        const manyAuthors = Array.from({ length: 1000 }, () => randomHex(32));
        assert.deepEqual(await ids([{ authors: [...manyAuthors, alice.pk] }]), [e2.id, e1.id]);
        const manyIds = Array.from({ length: 40_000 }, () => randomHex(32));
        manyIds.splice(20_000, 0, e3.id);
        assert.deepEqual(await ids([{ ids: manyIds }]), [e3.id]);
        assert.equal(await store.count([{ ids: manyIds }]), 1);
        const manyPs = Array.from({ length: 500 }, () => randomHex(32));
        assert.deepEqual(await ids([{ '#p': [...manyPs, alice.pk], kinds: [1, 7] }]), [e5.id, e4.id]);
        const kinds = Array.from({ length: 300 }, (_, i) => i + 1000);
        assert.deepEqual(await ids([{ kinds: [...kinds, 7] }]), [e4.id]);
      });
    });

    describe('replaceable kinds (0, 3, 10000-19999)', () => {
      test('keep only the newest per pubkey and kind; an older version is refused', async () => {
        const v1 = alice.sign(0, NOW - 20, [], '{"name":"v1"}');
        const v2 = alice.sign(0, NOW - 10, [], '{"name":"v2"}');
        assert.deepEqual(await store.save([v1]), [saved]);
        assert.deepEqual(await store.save([v2]), [saved]);
        assert.deepEqual(await ids([{ kinds: [0] }]), [v2.id]);
        assertRejected((await store.save([v1]))[0], 'duplicate');
        const v0 = alice.sign(0, NOW - 30, [], '{"name":"v0"}');
        assertRejected((await store.save([v0]))[0], 'duplicate');
        assert.deepEqual(await ids([{ authors: [alice.pk] }]), [v2.id]);
        assert.equal(await store.count([{ kinds: [0] }]), 1);
      });

      test('on equal created_at the lowest id wins, whatever the arrival order', async () => {
        const [low, high] = [bob.sign(3, NOW - 5, [], 'x'), bob.sign(3, NOW - 5, [], 'y')].sort((a, b) =>
          a.id < b.id ? -1 : 1,
        ) as [NostrEvent, NostrEvent];
        assert.deepEqual(await store.save([high]), [saved]);
        assert.deepEqual(await store.save([low]), [saved]);
        assert.deepEqual(await ids([{ kinds: [3] }]), [low.id]);
        assertRejected((await store.save([high]))[0], 'duplicate');
        assert.deepEqual(await ids([{ kinds: [3] }]), [low.id]);
      });

      test('are kept per author and per kind; the d tag does not matter; kind 1 is not replaceable', async () => {
        const a0 = alice.sign(0, NOW - 9);
        const b0 = bob.sign(0, NOW - 9);
        const a10002 = alice.sign(10002, NOW - 8, [['r', 'wss://a.example']]);
        const a10002b = alice.sign(10002, NOW - 7, [['r', 'wss://b.example']]);
        const a19999x = alice.sign(19999, NOW - 6, [['d', 'x']]);
        const a19999y = alice.sign(19999, NOW - 5, [['d', 'y']]);
        const n1 = alice.sign(1, NOW - 4, [], 'one');
        const n2 = alice.sign(1, NOW - 4, [], 'two');
        const all = [a0, b0, a10002, a10002b, a19999x, a19999y, n1, n2];
        assert.deepEqual(
          await store.save(all),
          all.map(() => saved),
        );
        assert.deepEqual(await ids([{}]), ordered(a0, b0, a10002b, a19999y, n1, n2));
      });

      test('a newer version in the same batch replaces the older one', async () => {
        const v1 = carol.sign(10000, NOW - 3, [['p', alice.pk]]);
        const v2 = carol.sign(10000, NOW - 2, [['p', bob.pk]]);
        assert.deepEqual(await store.save([v1, v2]), [saved, saved]);
        assert.deepEqual(await ids([{ kinds: [10000] }]), [v2.id]);
        assert.deepEqual(await ids([{ '#p': [alice.pk] }]), [], 'the replaced version left the tag index');
        assert.deepEqual(await ids([{ '#p': [bob.pk] }]), [v2.id]);
      });
    });

    describe('addressable kinds (30000-39999)', () => {
      test('keep the newest per pubkey, kind and d tag', async () => {
        const a1 = alice.sign(30023, NOW - 30, [['d', 'a']], 'a1');
        const a2 = alice.sign(30023, NOW - 20, [['d', 'a']], 'a2');
        const b1 = alice.sign(30023, NOW - 25, [['d', 'b']], 'b1');
        const other = alice.sign(30024, NOW - 25, [['d', 'a']], 'other kind');
        const bobs = bob.sign(30023, NOW - 40, [['d', 'a']], 'other author');
        assert.deepEqual(await store.save([a1, b1, other, bobs]), [saved, saved, saved, saved]);
        assert.deepEqual(await store.save([a2]), [saved]);
        assert.deepEqual(await ids([{ kinds: [30023, 30024] }]), ordered(a2, b1, other, bobs));
        assertRejected((await store.save([a1]))[0], 'duplicate');
        const older = alice.sign(30023, NOW - 50, [['d', 'b']]);
        assertRejected((await store.save([older]))[0], 'duplicate');
        assert.deepEqual(await ids([{ '#d': ['a'], authors: [alice.pk] }]), ordered(a2, other));
      });

      test('a missing d tag is the empty d; only the first d tag counts', async () => {
        const none = bob.sign(30000, NOW - 30, []);
        const empty = bob.sign(30000, NOW - 20, [['d', '']]);
        const firstX = bob.sign(30000, NOW - 30, [
          ['d', 'x'],
          ['d', 'y'],
        ]);
        const y = bob.sign(30000, NOW - 20, [['d', 'y']]);
        assert.deepEqual(await store.save([none, empty, firstX, y]), [saved, saved, saved, saved]);
        assert.deepEqual(await ids([{ kinds: [30000] }]), ordered(empty, y, firstX));
      });

      test('on equal created_at the lowest id wins', async () => {
        const [low, high] = [
          carol.sign(30001, NOW - 5, [['d', 'k']], 'p'),
          carol.sign(30001, NOW - 5, [['d', 'k']], 'q'),
        ].sort((a, b) => (a.id < b.id ? -1 : 1)) as [NostrEvent, NostrEvent];
        assert.deepEqual(await store.save([low]), [saved]);
        assertRejected((await store.save([high]))[0], 'duplicate');
        assert.deepEqual(await ids([{ kinds: [30001] }]), [low.id]);
      });
    });

    describe('NIP-09 deletion', () => {
      test('e tags delete the author’s events; the deletion is kept; a deleted id is refused later', async () => {
        const { e1, e2, e3 } = await loadDataset();
        const del = alice.sign(5, NOW, [
          ['e', e1.id],
          ['e', e3.id],
          ['k', '1'],
        ]);
        assert.deepEqual(await store.save([del]), [saved]);
        assert.deepEqual(await ids([{ ids: [e1.id, e2.id, e3.id] }]), [e3.id, e2.id], 'bob’s e3 stays');
        assert.deepEqual(await ids([{ kinds: [5] }]), [del.id]);
        assert.deepEqual(await ids([{ '#t': ['nostr'], authors: [alice.pk] }]), []);
        const again = await store.save([e1]);
        assertRejected(again[0], 'blocked');
        assert.deepEqual(await ids([{ ids: [e1.id] }]), []);
        assert.deepEqual(await store.save([e3]), [duplicate]);
      });

      test('a deletion by another author does nothing, now or later', async () => {
        const target = alice.sign(1, NOW - 10, [], 'mine');
        const future = alice.sign(1, NOW - 9, [], 'not yet here');
        await store.save([target]);
        const del = bob.sign(5, NOW, [
          ['e', target.id],
          ['e', future.id],
          ['a', `30023:${alice.pk}:post`],
        ]);
        assert.deepEqual(await store.save([del]), [saved]);
        assert.deepEqual(await store.save([future]), [saved]);
        const post = alice.sign(30023, NOW - 5, [['d', 'post']]);
        assert.deepEqual(await store.save([post]), [saved]);
        assert.deepEqual(await ids([{ authors: [alice.pk] }]), ordered(target, future, post));
      });

      test('a deletion that arrives first makes the author’s event refused when it arrives', async () => {
        const target = carol.sign(1, NOW - 10, [], 'later');
        const del = carol.sign(5, NOW, [['e', target.id]]);
        assert.deepEqual(await store.save([del]), [saved]);
        assertRejected((await store.save([target]))[0], 'blocked');
        const target2 = carol.sign(1, NOW - 8, [], 'same batch');
        const del2 = carol.sign(5, NOW, [['e', target2.id]]);
        const outcomes = await store.save([del2, target2]);
        assert.deepEqual(outcomes[0], saved);
        assertRejected(outcomes[1], 'blocked');
        assert.deepEqual(await ids([{ authors: [carol.pk] }]), ordered(del, del2));
      });

      test('kind 5 is never deleted by kind 5, before or after it arrives', async () => {
        const note = alice.sign(1, NOW - 10);
        const del1 = alice.sign(5, NOW - 5, [['e', note.id]]);
        const notYet = alice.sign(5, NOW - 4, [['e', randomHex(32)]]);
        const del2 = alice.sign(5, NOW - 3, [
          ['e', del1.id],
          ['e', notYet.id],
        ]);
        assert.deepEqual(await store.save([note, del1, del2]), [saved, saved, saved]);
        assert.deepEqual(await store.save([notYet]), [saved]);
        assert.deepEqual(await ids([{ kinds: [5] }]), ordered(del1, del2, notYet));
        assert.deepEqual(await ids([{ kinds: [1] }]), []);
      });

      test('e tags can delete replaceable and addressable events too', async () => {
        const profile = bob.sign(0, NOW - 10);
        const article = bob.sign(30023, NOW - 10, [['d', 'x']]);
        await store.save([profile, article]);
        await store.save([
          bob.sign(5, NOW, [
            ['e', profile.id],
            ['e', article.id],
          ]),
        ]);
        assert.deepEqual(await ids([{ kinds: [0, 30023] }]), []);
        assertRejected((await store.save([profile]))[0], 'blocked');
      });

      test('a tags delete the author’s versions at that address up to the deletion’s created_at', async () => {
        const old = alice.sign(30023, NOW - 50, [['d', 'post']], 'old');
        const keep = alice.sign(30023, NOW - 50, [['d', 'other']], 'other address');
        await store.save([old, keep]);
        const del = alice.sign(5, NOW - 20, [['a', `30023:${alice.pk}:post`]]);
        assert.deepEqual(await store.save([del]), [saved]);
        assert.deepEqual(await ids([{ kinds: [30023] }]), [keep.id]);
        assertRejected((await store.save([old]))[0], 'blocked');
        const atDeletion = alice.sign(30023, NOW - 20, [['d', 'post']], 'same second as the deletion');
        assertRejected((await store.save([atDeletion]))[0], 'blocked');
        const newer = alice.sign(30023, NOW - 19, [['d', 'post']], 'after the deletion');
        assert.deepEqual(await store.save([newer]), [saved]);
        assert.deepEqual(await ids([{ kinds: [30023] }]), ordered(keep, newer));
      });

      test('an a tag leaves a version newer than the deletion in place', async () => {
        const newer = bob.sign(30023, NOW, [['d', 'colon:in:d']]);
        await store.save([newer]);
        await store.save([bob.sign(5, NOW - 10, [['a', `30023:${bob.pk}:colon:in:d`]])]);
        assert.deepEqual(await ids([{ kinds: [30023] }]), [newer.id]);
        const older = bob.sign(30023, NOW - 20, [['d', 'colon:in:d']]);
        assertRejected((await store.save([older]))[0], 'blocked');
      });

      test('a tags delete replaceable events; a coordinate of a regular kind deletes nothing', async () => {
        const profile = carol.sign(0, NOW - 30);
        const note = carol.sign(1, NOW - 30);
        await store.save([profile, note]);
        await store.save([
          carol.sign(5, NOW - 10, [
            ['a', `0:${carol.pk}:`],
            ['a', `1:${carol.pk}:`],
          ]),
        ]);
        assert.deepEqual(await ids([{ kinds: [0, 1] }]), [note.id]);
        assertRejected((await store.save([carol.sign(0, NOW - 15)]))[0], 'blocked');
        assert.deepEqual(await store.save([carol.sign(0, NOW - 5)]), [saved]);
      });
    });

    describe('NIP-40 expiration', () => {
      test('an event already expired (at or before now) is refused; a malformed tag is no expiration', async () => {
        const past = alice.sign(1, NOW - 10, [['expiration', String(NOW - 1)]]);
        const atNow = alice.sign(1, NOW - 10, [['expiration', String(NOW)]]);
        const malformed = alice.sign(1, NOW - 10, [['expiration', 'soon']]);
        const empty = alice.sign(1, NOW - 10, [['expiration', '']]);
        const fraction = alice.sign(1, NOW - 10, [['expiration', `${NOW - 1}.5`]]);
        const outcomes = await store.save([past, atNow, malformed, empty, fraction]);
        assertRejected(outcomes[0], 'invalid');
        assertRejected(outcomes[1], 'invalid');
        assert.deepEqual(outcomes[2], saved);
        assert.deepEqual(outcomes[3], saved);
        assertRejected(outcomes[4], 'invalid');
        const later = alice.sign(1, NOW - 10, [['expiration', `${NOW + 9}.5`]]);
        assert.deepEqual(await store.save([later]), [saved]);
        assert.deepEqual(await ids([{ ids: [later.id] }], { nowSeconds: NOW + 9 }), [later.id]);
        assert.deepEqual(await ids([{ ids: [later.id] }], { nowSeconds: NOW + 10 }), []);
      });

      test('an event that expires later is returned until then, never after, and purged', async () => {
        const expiring = bob.sign(1, NOW - 10, [['expiration', String(NOW + 100)]]);
        const lasting = bob.sign(1, NOW - 20);
        assert.deepEqual(await store.save([expiring, lasting]), [saved, saved]);
        assert.deepEqual(await ids([{}]), [expiring.id, lasting.id]);
        assert.deepEqual(await ids([{}], { nowSeconds: NOW + 99 }), [expiring.id, lasting.id]);
        assert.deepEqual(await ids([{}], { nowSeconds: NOW + 100 }), [lasting.id]);
        assert.deepEqual(await ids([{ limit: 1 }], { nowSeconds: NOW + 100 }), [lasting.id]);
        clock.set((NOW + 200) * 1000);
        assert.deepEqual(await ids([{}]), [lasting.id], 'the default now is the store’s clock');
        assert.equal(await store.count([{}]), 1);
        assertRejected(
          (await store.save([bob.sign(1, NOW, [['expiration', String(NOW + 150)]])]))[0],
          'invalid',
        );
        assert.equal(await store.purgeExpired(NOW + 99), 0);
        assert.equal(await store.purgeExpired(NOW + 100), 1);
        assert.equal(await store.purgeExpired(NOW + 100), 0);
        assert.deepEqual(await ids([{}], { nowSeconds: NOW }), [lasting.id], 'purged for good');
        assertRejected((await store.save([expiring]))[0], 'invalid');
      });
    });

    describe('count (NIP-45)', () => {
      test('counts distinct matching events across filters and ignores limit', async () => {
        const { e1, e4 } = await loadDataset();
        assert.equal(await store.count([]), 0);
        assert.equal(await store.count([{}]), 7);
        assert.equal(await store.count([{ kinds: [1], limit: 1 }]), 4);
        assert.equal(await store.count([{ kinds: [1], limit: 0 }]), 4);
        assert.equal(await store.count([{ '#t': ['nostr'] }, { authors: [alice.pk] }]), 4);
        assert.equal(await store.count([{ ids: [e1.id] }, { ids: [e1.id, e4.id] }, { ids: [] }]), 2);
        assert.equal(await store.count([{ '#e': [e1.id] }, { '#p': [alice.pk] }]), 3);
      });

      test('counts over many filters', async () => {
        const d = await loadDataset();
        const filters: Filter[] = Array.from({ length: 250 }, () => ({ ids: [randomHex(32)] }));
        filters.push(...d.all.map((e) => ({ ids: [e.id], kinds: [e.kind] })), { kinds: [1] });
        assert.equal(await store.count(filters), 7);
      });
    });
  });
}
