import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateLocalSigner } from '../identity/signer.ts';
import { buildRelayList, parseRelayList, RELAY_LIST_KIND, RelayListError } from './relay-list.ts';

test('kind 10002: r tags, normalized as nostr-tools does (a trailing slash on a bare host), merged, read/write markers only when one-sided', async () => {
  const t = buildRelayList(
    [
      'ws://127.0.0.1:7777/',
      { url: 'wss://a.example', use: 'read' },
      { url: 'wss://a.example/', use: 'write' },
      { url: 'wss://b.example:443', use: 'write' },
    ],
    1000,
  );
  assert.equal(t.kind, RELAY_LIST_KIND);
  assert.equal(t.kind, 10002);
  assert.deepEqual(t.tags, [
    ['r', 'ws://127.0.0.1:7777/'],
    ['r', 'wss://a.example/'],
    ['r', 'wss://b.example/', 'write'],
  ]);
  const e = await generateLocalSigner().signEvent(t);
  assert.deepEqual(parseRelayList(e), [
    { url: 'ws://127.0.0.1:7777/', use: 'both' },
    { url: 'wss://a.example/', use: 'both' },
    { url: 'wss://b.example/', use: 'write' },
  ]);
});

test('bad relays: refused when building, skipped when reading', async () => {
  assert.throws(() => buildRelayList(['https://x']), RangeError);
  const signer = generateLocalSigner();
  const e = await signer.signEvent({
    kind: 10002,
    created_at: 1,
    tags: [['r', 'http://x'], ['r'], ['x', 'ws://y'], ['r', 'ws://ok']],
    content: '',
  });
  assert.deepEqual(parseRelayList(e), [{ url: 'ws://ok/', use: 'both' }]);
  assert.throws(() => parseRelayList({ ...e, kind: 3 }), RelayListError);
});
