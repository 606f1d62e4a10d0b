import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import * as nip04 from 'nostr-tools/nip04';
import * as nip44 from 'nostr-tools/nip44';
import { generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure';
import type { Signer } from '../core/signer.ts';
import { decodeNip19As } from './nip19.ts';
import { generateLocalSigner, LocalSigner } from './signer.ts';

// NIP-19 spec vector: this nsec/hex secret key; its public key is derived, not given by the spec.
const SECRET_HEX = '67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa';
const NSEC = 'nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5';
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

describe('LocalSigner', () => {
  it('implements Signer: pubkey, and events that verify', async () => {
    const signer: Signer = new LocalSigner(fromHex(SECRET_HEX));
    const pubkey = await signer.getPublicKey();
    assert.match(pubkey, /^[0-9a-f]{64}$/);
    const event = await signer.signEvent({
      kind: 1,
      created_at: 1_700_000_000,
      tags: [['t', 'x']],
      content: 'hi',
    });
    assert.equal(event.pubkey, pubkey);
    assert.equal(event.kind, 1);
    assert.equal(event.content, 'hi');
    assert.ok(verifyEvent(JSON.parse(JSON.stringify(event))));
  });

  it('does not mutate the template it signs', async () => {
    const signer = generateLocalSigner();
    const template = { kind: 1, created_at: 1, tags: [['p', 'x']], content: '' };
    const copy = structuredClone(template);
    const event = await signer.signEvent(template);
    assert.deepEqual(template, copy);
    event.tags[0]?.push('changed');
    assert.deepEqual(template, copy);
  });

  it('agrees for the same key whatever the input form, and copies the key it was given', async () => {
    const bytes = fromHex(SECRET_HEX);
    const a = new LocalSigner(bytes);
    bytes.fill(0); // the caller zeroes its copy: the signer keeps working
    const b = LocalSigner.fromSecret(NSEC);
    const c = LocalSigner.fromSecret(SECRET_HEX.toUpperCase());
    assert.equal(a.pubkey, b.pubkey);
    assert.equal(b.pubkey, c.pubkey);
    assert.equal(decodeNip19As(a.npub, 'npub').pubkey, a.pubkey);
    const event = await a.signEvent({ kind: 1, created_at: 1, tags: [], content: '' });
    assert.ok(verifyEvent(JSON.parse(JSON.stringify(event))));
  });

  it('never shows the secret key in JSON or inspect output', () => {
    const signer = new LocalSigner(fromHex(SECRET_HEX));
    const shown = `${JSON.stringify(signer)} ${inspect(signer, { showHidden: true, depth: 5 })} ${String(signer)}`;
    assert.ok(!shown.includes(SECRET_HEX));
    assert.ok(!shown.includes(NSEC));
    assert.deepEqual(JSON.parse(JSON.stringify(signer)), { pubkey: signer.pubkey });
  });

  it('refuses keys that are not 32 bytes or not valid secp256k1 secret keys', () => {
    assert.throws(() => new LocalSigner(new Uint8Array(31)), /32 bytes/);
    assert.throws(() => new LocalSigner(new Uint8Array(32)), /not a valid secp256k1/);
    assert.throws(() => new LocalSigner(new Uint8Array(32).fill(0xff)), /not a valid secp256k1/);
    assert.throws(() =>
      LocalSigner.fromSecret('npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg'),
    );
  });

  it('generateLocalSigner gives distinct keys', () => {
    assert.notEqual(generateLocalSigner().pubkey, generateLocalSigner().pubkey);
  });
});

describe('LocalSigner NIP-44 conversation keys', () => {
  it('talks with more peers than it keeps keys for, each message readable by the peer (nostr-tools computes its key afresh)', async () => {
    const me = generateLocalSigner();
    const peers = Array.from({ length: 1030 }, () => generateSecretKey());
    for (const [i, sk] of peers.entries()) {
      const peer = getPublicKey(sk);
      const sealed = await me.nip44.encrypt(peer, `hello ${i}`);
      assert.equal(nip44.v2.decrypt(sealed, nip44.v2.utils.getConversationKey(sk, me.pubkey)), `hello ${i}`);
      const back = nip44.v2.encrypt(`back ${i}`, nip44.v2.utils.getConversationKey(sk, me.pubkey));
      assert.equal(await me.nip44.decrypt(peer, back), `back ${i}`);
    }
    // The first peers' keys were evicted; they are computed again, the same.
    const first = peers[0] as Uint8Array;
    const again = await me.nip44.encrypt(getPublicKey(first), 'again');
    assert.equal(nip44.v2.decrypt(again, nip44.v2.utils.getConversationKey(first, me.pubkey)), 'again');
  });
});

describe('LocalSigner NIP-04 (native ECDH, shared secrets kept per peer)', () => {
  it('reads and writes what nostr-tools does, with many peers and after its kept keys were evicted', async () => {
    const me = generateLocalSigner();
    const peers = Array.from({ length: 1030 }, () => generateSecretKey());
    const text = 'héllo ⚡ {"method":"pay_invoice"} '.repeat(5);
    for (const [i, sk] of peers.entries()) {
      const peer = new LocalSigner(sk);
      const sealed = await me.nip04.encrypt(peer.pubkey, `${text}${i}`);
      assert.equal(await peer.nip04.decrypt(me.pubkey, sealed), `${text}${i}`);
      // nostr-tools (its own pure-JS ECDH) agrees, both ways: checked on every 64th peer (it is slow).
      if (i % 64 === 0) {
        assert.equal(nip04.decrypt(sk, me.pubkey, sealed), `${text}${i}`);
        assert.equal(
          await me.nip04.decrypt(peer.pubkey, nip04.encrypt(sk, me.pubkey, `back ${i}`)),
          `back ${i}`,
        );
      }
    }
    // The first peer's key was evicted: computed again, the same.
    const first = peers[0] as Uint8Array;
    const again = await me.nip04.encrypt(getPublicKey(first), '');
    assert.equal(nip04.decrypt(first, me.pubkey, again), '');
  });

  it('a fresh IV each time; another peer cannot read it', async () => {
    const me = generateLocalSigner();
    const peer = generateSecretKey();
    const other = generateSecretKey();
    const a = await me.nip04.encrypt(getPublicKey(peer), 'same');
    const b = await me.nip04.encrypt(getPublicKey(peer), 'same');
    assert.notEqual(a, b);
    assert.throws(() => {
      const out = nip04.decrypt(other, me.pubkey, a);
      if (out !== 'same') throw new Error('unreadable');
    });
  });

  it('refuses a peer that is not a public key and a ciphertext that is not NIP-04, with a clear error', async () => {
    const me = generateLocalSigner();
    const peer = getPublicKey(generateSecretKey());
    await assert.rejects(me.nip04.encrypt('zz', 'x'), /64-hex public key/);
    await assert.rejects(me.nip04.encrypt('00'.repeat(32), 'x')); // not on the curve
    await assert.rejects(me.nip04.decrypt(peer, 'no iv here'), /base64\(ciphertext\)\?iv=/);
    await assert.rejects(me.nip04.decrypt(peer, 'AAAA?iv=short'), /base64\(ciphertext\)\?iv=/);
    const sealed = await me.nip04.encrypt(peer, 'x');
    // Still readable after the failures (nothing cached for them).
    assert.ok(sealed.includes('?iv='));
  });
});
