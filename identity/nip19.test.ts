import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeBytes } from 'nostr-tools/nip19';
import {
  decodeNip19,
  decodeNip19As,
  encodeNaddr,
  encodeNevent,
  encodeNote,
  encodeNprofile,
  encodeNpub,
  encodeNsec,
  Nip19Error,
  type Nip19ErrorCode,
  parsePubkey,
  parseSecretKey,
} from './nip19.ts';

// Test vectors from the "Examples" section of NIP-19 (nostr-protocol/nips, 19.md).
const SPEC = {
  npub: 'npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg',
  pubkey: '7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e',
  nsec: 'nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5',
  secret: '67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa',
  nprofile:
    'nprofile1qqsrhuxx8l9ex335q7he0f09aej04zpazpl0ne2cgukyawd24mayt8gpp4mhxue69uhhytnc9e3k7mgpz4mhxue69uhkg6nzv9ejuumpv34kytnrdaksjlyr9p',
  nprofilePubkey: '3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d',
  nprofileRelays: ['wss://r.x.com', 'wss://djbas.sadkb.com'],
  // from the "Bare keys and ids" section
  npub2: 'npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6',
};
const ID = '44e1fdac7dd8ec1f0ee992a8e5cdd3a14ebef8e5cf5486f178f449252e548c5d';

function throwsCode(fn: () => unknown, code: Nip19ErrorCode, secret?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Nip19Error, `expected Nip19Error, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (secret !== undefined)
      assert.ok(!err.message.includes(secret), 'the message must not repeat the input');
    return true;
  });
}

describe('NIP-19 spec vectors', () => {
  it('npub decodes to the hex pubkey and back', () => {
    assert.deepEqual(decodeNip19(SPEC.npub), { type: 'npub', pubkey: SPEC.pubkey });
    assert.equal(encodeNpub(SPEC.pubkey), SPEC.npub);
    assert.equal(encodeNpub(SPEC.nprofilePubkey), SPEC.npub2);
  });

  it('nsec decodes to the secret key and back', () => {
    const e = decodeNip19As(SPEC.nsec, 'nsec');
    assert.equal(Buffer.from(e.secretKey).toString('hex'), SPEC.secret);
    assert.equal(encodeNsec(Uint8Array.from(Buffer.from(SPEC.secret, 'hex'))), SPEC.nsec);
  });

  it('nprofile decodes to the pubkey and two relays, and encodes byte for byte', () => {
    assert.deepEqual(decodeNip19(SPEC.nprofile), {
      type: 'nprofile',
      pubkey: SPEC.nprofilePubkey,
      relays: SPEC.nprofileRelays,
    });
    assert.equal(encodeNprofile({ pubkey: SPEC.nprofilePubkey, relays: SPEC.nprofileRelays }), SPEC.nprofile);
  });
});

describe('decodeNip19', () => {
  it('round-trips note, nevent (with and without author/kind) and naddr', () => {
    assert.deepEqual(decodeNip19(encodeNote(ID)), { type: 'note', id: ID });
    const full = { id: ID, relays: ['wss://a.example'], author: SPEC.pubkey, kind: 1 };
    assert.deepEqual(decodeNip19(encodeNevent(full)), { type: 'nevent', ...full });
    assert.deepEqual(decodeNip19(encodeNevent({ id: ID })), { type: 'nevent', id: ID, relays: [] });
    const addr = { identifier: 'my-article', pubkey: SPEC.pubkey, kind: 30023, relays: ['wss://b.example'] };
    assert.deepEqual(decodeNip19(encodeNaddr(addr)), { type: 'naddr', ...addr });
    assert.deepEqual(decodeNip19(encodeNaddr({ identifier: '', pubkey: SPEC.pubkey, kind: 30000 })), {
      type: 'naddr',
      identifier: '',
      pubkey: SPEC.pubkey,
      kind: 30000,
      relays: [],
    });
  });

  it('accepts a nostr: URI prefix, surrounding spaces and an all-uppercase string', () => {
    assert.equal(decodeNip19As(`nostr:${SPEC.npub}`, 'npub').pubkey, SPEC.pubkey);
    assert.equal(decodeNip19As(`  ${SPEC.npub}\n`, 'npub').pubkey, SPEC.pubkey);
    assert.equal(decodeNip19As(SPEC.npub.toUpperCase(), 'npub').pubkey, SPEC.pubkey);
  });

  it('bad checksum: a changed last character, an extra one, a truncated copy', () => {
    throwsCode(() => decodeNip19(`${SPEC.npub.slice(0, -1)}h`), 'checksum');
    throwsCode(() => decodeNip19(`${SPEC.npub}q`), 'checksum');
    throwsCode(() => decodeNip19(SPEC.npub.slice(0, -3)), 'checksum');
    // a typo in an nsec: the error must not repeat it
    const typo = `${SPEC.nsec.slice(0, 20)}x${SPEC.nsec.slice(21)}`;
    throwsCode(() => decodeNip19(typo), 'checksum', typo.slice(5));
  });

  it('malformed: empty, no separator, mixed case, a character outside the alphabet, too long', () => {
    throwsCode(() => decodeNip19(''), 'malformed');
    throwsCode(() => decodeNip19('hello'), 'malformed');
    throwsCode(() => decodeNip19(`npub1${SPEC.npub.slice(5).toUpperCase()}`), 'malformed');
    throwsCode(() => decodeNip19(`npub1${'b'.repeat(58)}`), 'malformed'); // "b" is not in bech32
    throwsCode(() => decodeNip19(`npub1${'q'.repeat(6000)}`), 'malformed');
    throwsCode(() => decodeNip19(42 as unknown as string), 'malformed');
  });

  it('wrong or unknown prefix', () => {
    throwsCode(() => decodeNip19(encodeBytes('nfoo', new Uint8Array(32))), 'unknown-prefix');
    throwsCode(() => decodeNip19(encodeBytes('ncryptsec', new Uint8Array(91))), 'unknown-prefix');
    throwsCode(() => decodeNip19('lnbc1qqqqqqqqqq'), 'unknown-prefix');
    // swapping the prefix breaks the checksum, which covers it
    throwsCode(() => decodeNip19(SPEC.npub.replace('npub', 'nsec')), 'checksum');
    throwsCode(() => decodeNip19As(SPEC.npub, 'nsec'), 'wrong-type');
  });

  it('wrong length of a bare key or id', () => {
    throwsCode(() => decodeNip19(encodeBytes('npub', new Uint8Array(31))), 'length');
    throwsCode(() => decodeNip19(encodeBytes('nsec', new Uint8Array(33))), 'length');
    throwsCode(() => decodeNip19(encodeBytes('note', new Uint8Array(0))), 'length');
  });

  it('malformed TLV: missing or short special, truncated record', () => {
    throwsCode(() => decodeNip19(encodeBytes('nprofile', Uint8Array.from([1, 1, 65]))), 'tlv');
    throwsCode(() => decodeNip19(encodeBytes('nprofile', Uint8Array.from([0, 3, 1, 2, 3]))), 'tlv');
    throwsCode(() => decodeNip19(encodeBytes('nevent', Uint8Array.from([0, 32, 1, 2]))), 'tlv');
    const noKind = Buffer.concat([Buffer.from([0, 1, 97, 2, 32]), Buffer.alloc(32, 1)]);
    throwsCode(() => decodeNip19(encodeBytes('naddr', noKind)), 'tlv');
  });
});

describe('encoders', () => {
  it('refuse values that are not what they take', () => {
    throwsCode(() => encodeNpub('abc'), 'invalid-value');
    throwsCode(() => encodeNpub(`${SPEC.pubkey.slice(0, 63)}g`), 'invalid-value');
    throwsCode(() => encodeNsec(new Uint8Array(31)), 'invalid-value');
    throwsCode(() => encodeNote(''), 'invalid-value');
    throwsCode(() => encodeNprofile({ pubkey: SPEC.pubkey, relays: [''] }), 'invalid-value');
    throwsCode(
      () => encodeNprofile({ pubkey: SPEC.pubkey, relays: [`wss://${'a'.repeat(300)}`] }),
      'invalid-value',
    );
    throwsCode(() => encodeNevent({ id: ID, kind: -1 }), 'invalid-value');
    throwsCode(
      () => encodeNaddr({ identifier: 'x'.repeat(256), pubkey: SPEC.pubkey, kind: 1 }),
      'invalid-value',
    );
  });

  it('accept uppercase hex and write lowercase', () => {
    assert.equal(encodeNpub(SPEC.pubkey.toUpperCase()), SPEC.npub);
  });
});

describe('parsePubkey', () => {
  it('accepts hex (any case), npub, nprofile, nostr: URIs; returns lowercase hex', () => {
    assert.equal(parsePubkey(SPEC.pubkey), SPEC.pubkey);
    assert.equal(parsePubkey(SPEC.pubkey.toUpperCase()), SPEC.pubkey);
    assert.equal(parsePubkey(SPEC.npub), SPEC.pubkey);
    assert.equal(parsePubkey(` nostr:${SPEC.nprofile} `), SPEC.nprofilePubkey);
  });

  it('refuses short hex, an nsec (without echoing it), a note, garbage', () => {
    throwsCode(() => parsePubkey(SPEC.pubkey.slice(2)), 'length');
    throwsCode(() => parsePubkey(SPEC.nsec), 'wrong-type', SPEC.nsec);
    throwsCode(() => parsePubkey(encodeNote(ID)), 'wrong-type');
    throwsCode(() => parsePubkey('not a key'), 'malformed');
  });
});

describe('parseSecretKey', () => {
  it('accepts hex and nsec', () => {
    assert.equal(Buffer.from(parseSecretKey(SPEC.secret)).toString('hex'), SPEC.secret);
    assert.equal(Buffer.from(parseSecretKey(SPEC.nsec)).toString('hex'), SPEC.secret);
  });

  it('refuses an npub, short hex, a corrupted nsec, never repeating the input', () => {
    throwsCode(() => parseSecretKey(SPEC.npub), 'wrong-type');
    throwsCode(() => parseSecretKey(SPEC.secret.slice(1)), 'length', SPEC.secret.slice(1));
    const bad = `${SPEC.nsec.slice(0, -1)}q`;
    throwsCode(() => parseSecretKey(bad), 'checksum', bad.slice(5));
  });
});
