import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyEvent } from 'nostr-tools/pure';
import {
  buildProfileEvent,
  type ExternalIdentity,
  type ParsedProfile,
  ProfileError,
  parseProfile,
  profileTemplate,
} from './profile.ts';
import { generateLocalSigner } from './signer.ts';

const identities: ExternalIdentity[] = [
  // the NIP-39 spec's examples
  { platform: 'github', identity: 'semisol', proof: '9721ce4ee4fceb91c9711ca2a6c9a5ab' },
  { platform: 'mastodon', identity: 'bitcoinhackers.org/@semisol', proof: '109775066355589974' },
];

describe('profileTemplate', () => {
  it('writes kind 0 with NIP-01/NIP-24 fields, bot: true, and NIP-39 i tags', () => {
    const t = profileTemplate(
      {
        name: 'timmy',
        displayName: 'Timmy',
        about: 'Coordinator',
        picture: 'https://example.com/t.png',
        website: 'https://example.com',
        nip05: 'timmy@example.com',
        lud16: 'timmy@getalby.com',
        identities,
      },
      1_700_000_000,
    );
    assert.equal(t.kind, 0);
    assert.equal(t.created_at, 1_700_000_000);
    assert.deepEqual(JSON.parse(t.content), {
      name: 'timmy',
      display_name: 'Timmy',
      about: 'Coordinator',
      picture: 'https://example.com/t.png',
      website: 'https://example.com',
      nip05: 'timmy@example.com',
      lud16: 'timmy@getalby.com',
      bot: true,
    });
    assert.deepEqual(t.tags, [
      ['i', 'github:semisol', '9721ce4ee4fceb91c9711ca2a6c9a5ab'],
      ['i', 'mastodon:bitcoinhackers.org/@semisol', '109775066355589974'],
    ]);
  });

  it('leaves out empty strings (a persona\'s "not set") and keeps bot: false when asked', () => {
    const t = profileTemplate(
      { name: 'echo', displayName: '', about: '', picture: '', lud16: '', bot: false },
      1,
    );
    assert.deepEqual(JSON.parse(t.content), { name: 'echo', bot: false });
    assert.deepEqual(t.tags, []);
  });

  it('accepts a local NIP-05 domain (localhost, with a port)', () => {
    const t = profileTemplate({ name: 'a', nip05: 'a@localhost:8080' }, 1);
    assert.equal(JSON.parse(t.content).nip05, 'a@localhost:8080');
  });

  it('refuses what it cannot publish', () => {
    const bad: [string, Parameters<typeof profileTemplate>[0]][] = [
      ['empty name', { name: ' ' }],
      ['picture not a URL', { name: 'a', picture: 'not a url' }],
      ['picture javascript:', { name: 'a', picture: 'javascript:alert(1)' }],
      ['website ftp', { name: 'a', website: 'ftp://example.com' }],
      ['nip05 without @', { name: 'a', nip05: 'example.com' }],
      ['lud16 with spaces', { name: 'a', lud16: 'a b@c.com' }],
      [
        'platform with colon',
        { name: 'a', identities: [{ platform: 'git:hub', identity: 'x', proof: 'p' }] },
      ],
      ['platform uppercase', { name: 'a', identities: [{ platform: 'GitHub', identity: 'x', proof: 'p' }] }],
      ['empty identity', { name: 'a', identities: [{ platform: 'github', identity: '', proof: 'p' }] }],
    ];
    for (const [what, input] of bad) assert.throws(() => profileTemplate(input, 1), ProfileError, what);
    assert.throws(() => profileTemplate({ name: 'a' }, -1), ProfileError);
  });
});

describe('buildProfileEvent', () => {
  it('signs the template with the agent signer', async () => {
    const signer = generateLocalSigner();
    const event = await buildProfileEvent(signer, { name: 'seer', identities }, { createdAt: 5 });
    assert.equal(event.kind, 0);
    assert.equal(event.pubkey, signer.pubkey);
    assert.equal(event.created_at, 5);
    assert.ok(verifyEvent(JSON.parse(JSON.stringify(event))));
    assert.deepEqual(parseProfile(event).identities, identities);
  });
});

describe('parseProfile', () => {
  it('round-trips what profileTemplate writes', () => {
    const input = {
      name: 'quill',
      displayName: 'Quill',
      about: 'Writer',
      picture: 'https://example.com/q.png',
      banner: 'https://example.com/b.png',
      website: 'https://example.com',
      nip05: 'quill@example.com',
      lud16: 'quill@example.com',
      identities,
    };
    const expected: ParsedProfile = { ...input, bot: true, identities, invalidFields: [] };
    assert.deepEqual(parseProfile(profileTemplate(input, 1)), expected);
  });

  it("reads other clients' profiles: deprecated displayName, extra fields, i tags with extra values", () => {
    const p = parseProfile({
      kind: 0,
      content: JSON.stringify({ name: 'bob', displayName: 'Bob', extra: 1, nip05: '_@bob.com' }),
      tags: [
        ['i', 'telegram:1087295469', 'nostrdirectory/770', 'future'],
        ['i', 'twitter:semisol_public'],
        ['i', 'no-colon', 'x'],
        ['i', ':empty-platform', 'x'],
        ['p', 'ignored'],
      ],
    });
    assert.equal(p.displayName, 'Bob');
    assert.equal(p.nip05, '_@bob.com');
    assert.equal(p.bot, undefined);
    assert.deepEqual(p.identities, [
      { platform: 'telegram', identity: '1087295469', proof: 'nostrdirectory/770' },
      { platform: 'twitter', identity: 'semisol_public', proof: '' },
    ]);
  });

  it('ignores fields of the wrong type and lists them', () => {
    const p = parseProfile({
      kind: 0,
      content: JSON.stringify({ name: 7, about: null, picture: ['x'], bot: 'yes', website: 'https://w' }),
      tags: [],
    });
    assert.deepEqual(p, { website: 'https://w', identities: [], invalidFields: ['name', 'picture', 'bot'] });
  });

  it('bad JSON, a non-object, or another kind is a clear ProfileError', () => {
    const cases: [string, { kind: number; content: string; tags: string[][] }, RegExp][] = [
      ['truncated JSON', { kind: 0, content: '{"name":"a"', tags: [] }, /not valid JSON/],
      ['empty content', { kind: 0, content: '', tags: [] }, /not valid JSON/],
      ['an array', { kind: 0, content: '["a"]', tags: [] }, /not a JSON object/],
      ['null', { kind: 0, content: 'null', tags: [] }, /not a JSON object/],
      ['a string', { kind: 0, content: '"name"', tags: [] }, /not a JSON object/],
      ['kind 1', { kind: 1, content: '{}', tags: [] }, /kind 0/],
    ];
    for (const [what, event, re] of cases) {
      assert.throws(
        () => parseProfile(event),
        (e: unknown) => e instanceof ProfileError && re.test(e.message),
        what,
      );
    }
  });
});
