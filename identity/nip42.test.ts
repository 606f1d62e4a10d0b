import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getEventHash } from 'nostr-tools/pure';
import type { NostrEvent } from '../core/nostr.ts';
import { authEventTemplate, normalizeRelayUrl, verifyAuthEvent } from './nip42.ts';
import { generateLocalSigner } from './signer.ts';

const NOW = 1_700_000_000;
const RELAY = 'wss://relay.example.com/';
const CHALLENGE = 'challengestringhere';
const signer = generateLocalSigner();
const opts = { challenge: CHALLENGE, relayUrl: RELAY, nowSeconds: NOW };

async function auth(
  o: { relay?: string; challenge?: string; createdAt?: number; kind?: number } = {},
): Promise<NostrEvent> {
  const t = authEventTemplate(o.relay ?? RELAY, o.challenge ?? CHALLENGE, o.createdAt ?? NOW);
  return signer.signEvent(o.kind === undefined ? t : { ...t, kind: o.kind });
}
/** As the relay receives it: parsed from the wire, no cached verification. */
const wire = (e: unknown): unknown => JSON.parse(JSON.stringify(e));

function expectReason(r: ReturnType<typeof verifyAuthEvent>, re: RegExp): void {
  assert.equal(r.ok, false, `expected a failure matching ${re}`);
  if (!r.ok) assert.match(r.reason, re);
}

describe('normalizeRelayUrl', () => {
  it('keeps scheme, host, port and path; drops default ports, trailing slashes, query, fragment, case of host', () => {
    assert.equal(normalizeRelayUrl('wss://Relay.Example.com/'), 'wss://relay.example.com');
    assert.equal(normalizeRelayUrl('wss://relay.example.com:443'), 'wss://relay.example.com');
    assert.equal(normalizeRelayUrl('ws://127.0.0.1:80/'), 'ws://127.0.0.1');
    assert.equal(normalizeRelayUrl('ws://127.0.0.1:7777'), 'ws://127.0.0.1:7777');
    assert.equal(normalizeRelayUrl(' ws://[::1]:7777/nostr/?x=1#y '), 'ws://[::1]:7777/nostr');
  });

  it('refuses what is not a ws(s) URL', () => {
    for (const bad of ['', 'relay.example.com', 'https://relay.example.com', 'ws://', 'not a url']) {
      assert.equal(normalizeRelayUrl(bad), undefined, bad);
    }
  });
});

describe('verifyAuthEvent', () => {
  it('accepts the canonical event (the NIP-42 example tags) and returns the pubkey', async () => {
    const r = verifyAuthEvent(wire(await auth()), opts);
    assert.deepEqual(r, { ok: true, pubkey: signer.pubkey });
  });

  it('compares relay URLs normalised, and accepts any of several URLs', async () => {
    const e = wire(await auth({ relay: 'wss://RELAY.example.com:443' }));
    assert.ok(verifyAuthEvent(e, { ...opts, relayUrl: 'wss://relay.example.com' }).ok);
    const local = wire(await auth({ relay: 'ws://127.0.0.1:7777/' }));
    assert.ok(
      verifyAuthEvent(local, { ...opts, relayUrl: ['wss://relay.example.com', 'ws://127.0.0.1:7777'] }).ok,
    );
  });

  it('accepts created_at within ±maxAge (default 600 s)', async () => {
    assert.ok(verifyAuthEvent(wire(await auth({ createdAt: NOW - 600 })), opts).ok);
    assert.ok(verifyAuthEvent(wire(await auth({ createdAt: NOW + 600 })), opts).ok);
  });

  it('wrong challenge → auth-required:', async () => {
    expectReason(
      verifyAuthEvent(wire(await auth({ challenge: 'old-one' })), opts),
      /^auth-required: .*challenge/,
    );
  });

  it('wrong relay: another host, scheme, port or path → invalid:', async () => {
    for (const relay of [
      'wss://evil.example.com',
      'ws://relay.example.com',
      'wss://relay.example.com:444',
      'wss://relay.example.com/other',
      'not a url',
    ]) {
      expectReason(verifyAuthEvent(wire(await auth({ relay })), opts), /^invalid: .*"relay" tag/);
    }
  });

  it('wrong kind → invalid:', async () => {
    expectReason(
      verifyAuthEvent(wire(await auth({ kind: 1 })), opts),
      /^invalid: auth event must be kind 22242/,
    );
  });

  it('created_at out of the window → invalid:', async () => {
    expectReason(verifyAuthEvent(wire(await auth({ createdAt: NOW - 601 })), opts), /^invalid: .*created_at/);
    expectReason(verifyAuthEvent(wire(await auth({ createdAt: NOW + 601 })), opts), /^invalid: .*created_at/);
    const e = wire(await auth({ createdAt: NOW - 30 }));
    expectReason(verifyAuthEvent(e, { ...opts, maxAgeSeconds: 10 }), /^invalid: .*created_at/);
  });

  it('missing tags → invalid:', async () => {
    const noChallenge = await signer.signEvent({
      kind: 22242,
      created_at: NOW,
      tags: [['relay', RELAY]],
      content: '',
    });
    expectReason(verifyAuthEvent(wire(noChallenge), opts), /^invalid: .*no "challenge" tag/);
    const noRelay = await signer.signEvent({
      kind: 22242,
      created_at: NOW,
      tags: [['challenge', CHALLENGE]],
      content: '',
    });
    expectReason(verifyAuthEvent(wire(noRelay), opts), /^invalid: .*no "relay" tag/);
  });

  it('bad signature → invalid:, even on an object whose verification nostr-tools cached', async () => {
    const e = await auth();
    const sig = `${e.sig.slice(0, -1)}${e.sig.endsWith('0') ? '1' : '0'}`;
    expectReason(verifyAuthEvent(wire({ ...e, sig }), opts), /^invalid: .*bad signature/);
    // a forger who re-hashes with someone else's pubkey
    const forged = { ...(wire(e) as NostrEvent), pubkey: generateLocalSigner().pubkey };
    forged.id = getEventHash(forged);
    expectReason(verifyAuthEvent(forged, opts), /^invalid: .*bad signature/);
    // the signed object itself carries nostr-tools' "verified" mark; changing it must not pass
    e.tags = [
      ['relay', RELAY],
      ['challenge', CHALLENGE],
      ['extra', 'x'],
    ];
    expectReason(verifyAuthEvent(e, opts), /^invalid: .*id does not match/);
  });

  it('malformed events → invalid:', () => {
    for (const bad of [null, 'AUTH', [], { kind: 22242 }, { id: 'x'.repeat(64) }]) {
      expectReason(verifyAuthEvent(bad, opts), /^invalid: malformed auth event/);
    }
  });

  it('authEventTemplate builds the canonical tags', () => {
    assert.deepEqual(authEventTemplate(RELAY, CHALLENGE, 5), {
      kind: 22242,
      created_at: 5,
      tags: [
        ['relay', RELAY],
        ['challenge', CHALLENGE],
      ],
      content: '',
    });
  });
});
