import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateLocalSigner } from '../identity/signer.ts';
import {
  buildDeskAnnouncement,
  DESK_D_TAG,
  DeskAnnouncementError,
  isDeskAnnouncement,
  parseDeskAnnouncement,
} from './desk-announcement.ts';

const desk = generateLocalSigner();
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const T = 1_700_000_000;

test('a desk announcement: d timmy-desk, k per kind, p per agent, one relays tag, name and about', async () => {
  const t = buildDeskAnnouncement({
    kinds: [5050, 5700, 5050],
    agents: [A, B, A],
    relays: ['ws://127.0.0.1:7777', 'wss://relay.example.com'],
    name: 'Timmy',
    about: 'the desk',
    createdAt: T,
  });
  assert.equal(t.kind, 31990);
  assert.deepEqual(t.tags, [
    ['d', DESK_D_TAG],
    ['k', '5050'],
    ['k', '5700'],
    ['p', A],
    ['p', B],
    ['relays', 'ws://127.0.0.1:7777', 'wss://relay.example.com'],
  ]);
  assert.deepEqual(JSON.parse(t.content), { name: 'Timmy', about: 'the desk' });
  const e = await desk.signEvent(t);
  assert.ok(isDeskAnnouncement(e));
  assert.deepEqual(parseDeskAnnouncement(e), {
    pubkey: desk.pubkey,
    kinds: [5050, 5700],
    agents: [A, B],
    relays: ['ws://127.0.0.1:7777', 'wss://relay.example.com'],
    name: 'Timmy',
    about: 'the desk',
    createdAt: T,
  });
});

test('the builder refuses what a peer could not read', () => {
  const base = { kinds: [5050], agents: [A], relays: ['ws://x'], name: 'T' };
  assert.throws(() => buildDeskAnnouncement({ ...base, kinds: [] }), RangeError);
  assert.throws(() => buildDeskAnnouncement({ ...base, agents: ['A'.repeat(64)] }), RangeError);
  assert.throws(() => buildDeskAnnouncement({ ...base, relays: ['https://x'] }), RangeError);
});

test('malformed announcements are refused with the reason; other 31990s are not desks', async () => {
  const sign = (tags: string[][], content = '{"name":"x"}') =>
    desk.signEvent({ kind: 31990, created_at: T, tags, content });
  const cases: [string[][], string, RegExp][] = [
    [
      [
        ['d', DESK_D_TAG],
        ['k', 'x'],
      ],
      '{}',
      /k tag/,
    ],
    [
      [
        ['d', DESK_D_TAG],
        ['p', 'nope'],
      ],
      '{}',
      /p tag/,
    ],
    [
      [
        ['d', DESK_D_TAG],
        ['relays', 'http://x'],
      ],
      '{}',
      /relay/,
    ],
    [[['d', DESK_D_TAG]], '[1]', /content/],
  ];
  for (const [tags, content, re] of cases)
    assert.throws(
      () => parseDeskAnnouncement(parseable(tags, content)),
      (e: unknown) => e instanceof DeskAnnouncementError && re.test(e.message),
      JSON.stringify(tags),
    );
  const agent = await sign([
    ['d', 'timmy-quill'],
    ['k', '5050'],
  ]);
  assert.equal(isDeskAnnouncement(agent), false);
  assert.throws(() => parseDeskAnnouncement(agent), DeskAnnouncementError);
});

function parseable(tags: string[][], content: string) {
  return {
    id: '0'.repeat(64),
    pubkey: desk.pubkey,
    sig: '0'.repeat(128),
    kind: 31990,
    created_at: T,
    tags,
    content,
  };
}
