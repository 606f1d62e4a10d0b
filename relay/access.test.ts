import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchFilters } from 'nostr-tools';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import { ReadAccess } from './access.ts';
import { MemoryEventStore } from './memory-store.ts';

const keys = Array.from({ length: 3 }, () => generateSecretKey());
const [alice, bob, carol] = keys.map((k) => getPublicKey(k)) as [string, string, string];
const now = Math.floor(Date.now() / 1000);

function ev(author: number, kind: number, p?: string, at = now): NostrEvent {
  return finalizeEvent(
    { kind, created_at: at, tags: p ? [['p', p]] : [], content: `${author}-${kind}-${p}-${Math.random()}` },
    keys[author] as Uint8Array,
  );
}

// alice → bob DM, bob → alice DM, carol → carol note, carol → bob gift wrap, public notes.
const events = [
  ev(0, 4, bob),
  ev(1, 4, alice),
  ev(2, 1),
  ev(2, 1059, bob),
  ev(0, 1, carol),
  ev(1, 7, alice),
  ev(2, 4, carol),
];

const access = new ReadAccess([4, 1059]);

test('restricted events are visible to their author and p-tagged recipients only', () => {
  const dm = events[0] as NostrEvent;
  assert.equal(access.canSee(dm, new Set()), false);
  assert.equal(access.canSee(dm, new Set([alice])), true);
  assert.equal(access.canSee(dm, new Set([bob])), true);
  assert.equal(access.canSee(dm, new Set([carol])), false);
  assert.equal(access.canSee(dm, new Set([carol, bob])), true);
  assert.equal(access.canSee(events[2] as NostrEvent, new Set()), true);
});

test('only filters that name a restricted kind need authentication', () => {
  assert.equal(access.asksRestricted([{ kinds: [1] }, { authors: [alice] }]), false);
  assert.equal(access.asksRestricted([{ kinds: [1, 4] }]), true);
  assert.equal(access.asksRestricted([{}, { kinds: [1059] }]), true);
  assert.equal(new ReadAccess([]).asksRestricted([{ kinds: [4] }]), false);
});

/** What a connection authenticated as `authed` may see of `filters`, computed the slow way. */
function visible(filters: Filter[], authed: Set<string>): string[] {
  return events
    .filter((e) => matchFilters(filters, e) && access.canSee(e, authed))
    .map((e) => e.id)
    .sort();
}

const cases: [string, Filter[], string[]][] = [
  ['all DMs', [{ kinds: [4] }], [bob]],
  ['DMs and wraps', [{ kinds: [4, 1059] }], [bob]],
  ['DMs to me', [{ kinds: [4], '#p': [bob] }], [bob]],
  ['DMs by someone else', [{ kinds: [4], authors: [carol] }], [bob]],
  ['everything', [{}], [bob]],
  ['everything, two keys', [{}], [alice, carol]],
  ['mixed kinds', [{ kinds: [1, 4] }], [alice]],
  ['nothing authed', [{ kinds: [1] }, {}], []],
  ['by author', [{ authors: [alice] }], [carol]],
];

test('scoped queries return exactly what the connection may see', async () => {
  const store = new MemoryEventStore();
  await store.save(events);
  for (const [name, filters, authed] of cases) {
    const set = new Set(authed);
    const got = (await store.query(access.scope(filters, set)))
      .filter((e) => access.canSee(e, set))
      .map((e) => e.id)
      .sort();
    assert.deepEqual(got, visible(filters, set), name);
  }
});

test('a filter on restricted kinds only is narrowed in the query, so limit counts visible events', async () => {
  const store = new MemoryEventStore();
  const noise = Array.from({ length: 20 }, (_, i) => ev(2, 4, carol, now + 10 + i));
  await store.save([...events, ...noise]);
  const got = await store.query(access.scope([{ kinds: [4], limit: 2 }], new Set([alice])));
  assert.deepEqual(got.map((e) => e.pubkey).sort(), [alice, bob].sort());
});

test('COUNT counts exactly what the connection may see', async () => {
  const store = new MemoryEventStore();
  await store.save(events);
  for (const [name, filters, authed] of cases) {
    const set = new Set(authed);
    assert.equal(await access.count(store, filters, set), visible(filters, set).length, name);
  }
  assert.equal(await new ReadAccess([]).count(store, [{}], new Set()), events.length);
});
