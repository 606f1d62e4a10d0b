import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getToken, validateToken } from 'nostr-tools/nip98';
import { getEventHash } from 'nostr-tools/pure';
import type { NostrEvent } from '../core/nostr.ts';
import { buildNip98Header, nip98Template, sha256Hex, verifyNip98 } from './nip98.ts';
import { generateLocalSigner } from './signer.ts';

const NOW = 1_700_000_000;
const URL_ = 'https://api.example.com/api/v1/jobs?limit=10';
const signer = generateLocalSigner();

const decodeHeader = (h: string): NostrEvent =>
  JSON.parse(Buffer.from(h.slice(6), 'base64').toString('utf8'));
const encodeEvent = (e: unknown): string => `Nostr ${Buffer.from(JSON.stringify(e)).toString('base64')}`;

async function expectFail(
  options: Partial<Parameters<typeof verifyNip98>[0]> & { authorization: string | undefined },
  re: RegExp,
): Promise<void> {
  const r = await verifyNip98({ url: URL_, method: 'GET', nowSeconds: NOW, ...options });
  assert.equal(r.ok, false, `expected a failure matching ${re}`);
  if (!r.ok) {
    assert.equal(r.status, 401);
    assert.match(r.reason, re);
  }
}

describe('NIP-98 round trip', () => {
  it('GET without a body', async () => {
    const authorization = await buildNip98Header(signer, URL_, 'get', undefined, { createdAt: NOW });
    const r = await verifyNip98({ authorization, url: URL_, method: 'GET', nowSeconds: NOW });
    assert.ok(r.ok);
    assert.equal(r.pubkey, signer.pubkey);
    assert.deepEqual(r.event.tags, [
      ['u', URL_],
      ['method', 'GET'],
    ]);
    assert.equal(r.event.kind, 27235);
  });

  it('POST with a body: the payload tag is the sha256 of the body bytes (string or bytes)', async () => {
    const body = '{"input":"héllo"}';
    const authorization = await buildNip98Header(signer, URL_, 'POST', body, { createdAt: NOW });
    assert.equal(decodeHeader(authorization).tags.find((t) => t[0] === 'payload')?.[1], sha256Hex(body));
    assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (const b of [body, new TextEncoder().encode(body)]) {
      const r = await verifyNip98({ authorization, url: URL_, method: 'POST', body: b, nowSeconds: NOW });
      assert.ok(r.ok, r.ok ? '' : r.reason);
    }
    // the server may choose not to check the body
    assert.ok((await verifyNip98({ authorization, url: URL_, method: 'POST', nowSeconds: NOW })).ok);
  });

  it('accepts the scheme in any case and created_at at the edge of the window', async () => {
    const h = await buildNip98Header(signer, URL_, 'GET', undefined, { createdAt: NOW - 60 });
    assert.ok(
      (await verifyNip98({ authorization: `nostr ${h.slice(6)}`, url: URL_, method: 'GET', nowSeconds: NOW }))
        .ok,
    );
    const h2 = await buildNip98Header(signer, URL_, 'GET', undefined, { createdAt: NOW - 100 });
    assert.ok(
      (
        await verifyNip98({
          authorization: h2,
          url: URL_,
          method: 'GET',
          nowSeconds: NOW,
          maxAgeSeconds: 120,
        })
      ).ok,
    );
  });

  it('interoperates with nostr-tools getToken / validateToken', async () => {
    const now = Math.floor(Date.now() / 1000);
    const theirs = await getToken(URL_, 'GET', (t) => signer.signEvent(t), true);
    assert.ok((await verifyNip98({ authorization: theirs, url: URL_, method: 'GET', nowSeconds: now })).ok);
    const ours = await buildNip98Header(signer, URL_, 'GET', undefined, { createdAt: now });
    assert.equal(await validateToken(ours, URL_, 'GET'), true);
  });
});

describe('NIP-98 refusals (all 401)', () => {
  it('missing, empty, wrong scheme, oversized header', async () => {
    await expectFail({ authorization: undefined }, /missing/);
    await expectFail({ authorization: '  ' }, /missing/);
    const good = await buildNip98Header(signer, URL_, 'GET', undefined, { createdAt: NOW });
    await expectFail({ authorization: `Bearer ${good.slice(6)}` }, /scheme/);
    await expectFail({ authorization: good.slice(6) }, /scheme/);
    await expectFail({ authorization: `Nostr ${'A'.repeat(20_000)}` }, /too long/);
  });

  it('a token that is not base64 of an event', async () => {
    await expectFail({ authorization: 'Nostr !!!not-base64!!!' }, /not base64 of an event/);
    await expectFail({ authorization: `Nostr ${Buffer.from('hello').toString('base64')}` }, /not base64/);
    await expectFail({ authorization: `Nostr ${Buffer.from('{"kind":').toString('base64')}` }, /not base64/);
    await expectFail({ authorization: encodeEvent({ kind: 27235, tags: [] }) }, /malformed event/);
    await expectFail(
      { authorization: encodeEvent({ ...(await signed()), created_at: '1' }) },
      /malformed event: created_at/,
    );
  });

  it('wrong kind', async () => {
    const e = await signer.signEvent({ ...nip98Template(URL_, 'GET', undefined, NOW), kind: 1 });
    await expectFail({ authorization: encodeEvent(e) }, /wrong kind 1/);
  });

  it('expired or from the future', async () => {
    await expectFail({ authorization: await header({ createdAt: NOW - 61 }) }, /expired/);
    await expectFail({ authorization: await header({ createdAt: NOW + 61 }) }, /future/);
    await expectFail({ authorization: await header({ createdAt: NOW - 10 }), maxAgeSeconds: 5 }, /expired/);
  });

  it('wrong URL: another path, another query, a trailing slash, http instead of https', async () => {
    const authorization = await header({});
    for (const url of [
      'https://api.example.com/api/v1/other?limit=10',
      'https://api.example.com/api/v1/jobs?limit=11',
      'https://api.example.com/api/v1/jobs',
      'https://api.example.com/api/v1/jobs/?limit=10',
      'http://api.example.com/api/v1/jobs?limit=10',
    ]) {
      await expectFail({ authorization, url }, /"u" tag/);
    }
    const noU = await signer.signEvent({
      kind: 27235,
      created_at: NOW,
      tags: [['method', 'GET']],
      content: '',
    });
    await expectFail({ authorization: encodeEvent(noU) }, /"u" tag/);
  });

  it('wrong method', async () => {
    await expectFail({ authorization: await header({}), method: 'POST' }, /"method" tag/);
    await expectFail({ authorization: await header({ method: 'DELETE' }), method: 'PUT' }, /"method" tag/);
  });

  it('a body without a payload tag, or with a payload tag of another body', async () => {
    const noPayload = await header({ method: 'POST' });
    await expectFail({ authorization: noPayload, method: 'POST', body: '{"a":1}' }, /no "payload" tag/);
    const other = await header({ method: 'POST', body: '{"a":1}' });
    await expectFail(
      { authorization: other, method: 'POST', body: '{"a":2}' },
      /"payload" tag does not match/,
    );
  });

  it('bad signature: a changed field, a changed sig, a swapped pubkey', async () => {
    const e = await signed();
    await expectFail({ authorization: encodeEvent({ ...e, content: 'changed' }) }, /id does not match/);
    const sig = `${e.sig.slice(0, -1)}${e.sig.endsWith('0') ? '1' : '0'}`;
    await expectFail({ authorization: encodeEvent({ ...e, sig }) }, /bad signature/);
    const other = generateLocalSigner();
    await expectFail({ authorization: encodeEvent({ ...e, pubkey: other.pubkey }) }, /id does not match/);
    // re-hashed by a forger who lacks the key: the id is right, the signature is not
    const forged = { ...e, pubkey: other.pubkey };
    forged.id = getEventHash(forged);
    await expectFail({ authorization: encodeEvent(forged) }, /bad signature/);
  });
});

async function signed(): Promise<NostrEvent> {
  return signer.signEvent(nip98Template(URL_, 'GET', undefined, NOW));
}

async function header(o: { createdAt?: number; method?: string; body?: string }): Promise<string> {
  return buildNip98Header(signer, URL_, o.method ?? 'GET', o.body, { createdAt: o.createdAt ?? NOW });
}
