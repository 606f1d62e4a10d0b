import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { verifyEvent as pureVerify } from 'nostr-tools/pure';
import { nativeNwcCrypto } from './nwc-native.ts';

describe('nativeNwcCrypto', () => {
  const crypto = nativeNwcCrypto();
  const secret = randomBytes(32).toString('hex');

  test('signs NIP-47 requests that any client verifies, as the connection secret’s pubkey', async () => {
    const signer = crypto.signer(secret);
    const event = await signer.signEvent({
      kind: 23194,
      created_at: 1_700_000_000,
      tags: [['p', 'ab']],
      content: 'x',
    });
    assert.equal(event.pubkey, signer.pubkey);
    assert.ok(pureVerify({ ...event }), 'nostr-tools accepts it');
    assert.ok(crypto.verify(event));
  });

  test('refuses a tampered event, a wrong signature and a malformed one without throwing', async () => {
    const event = await crypto
      .signer(secret)
      .signEvent({ kind: 23195, created_at: 1, tags: [], content: 'ok' });
    assert.equal(crypto.verify({ ...event, content: 'changed' }), false, 'id no longer matches');
    const other = await crypto
      .signer(randomBytes(32).toString('hex'))
      .signEvent({ kind: 23195, created_at: 1, tags: [], content: 'ok' });
    assert.equal(crypto.verify({ ...event, sig: other.sig }), false, 'signature of another key');
    assert.equal(crypto.verify({ ...event, pubkey: 'zz' } as typeof event), false, 'not hex');
    assert.equal(crypto.verify({ id: event.id } as unknown as typeof event), false, 'fields missing');
  });

  test('a secret that is not a key is refused with a clear error', () => {
    assert.throws(() => crypto.signer('00'.repeat(32)), /not a valid secp256k1 secret key/);
  });
});
