import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { verifyEvent } from 'nostr-tools/pure';
import { type NostrEvent, plainEvent } from '../core/nostr.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import { DvmEventError } from './kinds.ts';
import { buildEncryptedJobRequest, buildJobRequest, decryptJobRequest } from './request.ts';
import { buildResult, parseResult, ResultError } from './result.ts';

const customer = generateLocalSigner();
const provider = generateLocalSigner();
const T = 1_700_000_000;
const request = await customer.signEvent(
  buildJobRequest({
    kind: 5002,
    inputs: [
      { data: 'Hola', type: 'text' },
      { data: 'c'.repeat(64), type: 'event', relay: 'wss://r.example' },
    ],
    params: { language: 'en' },
    createdAt: T,
  }),
);

const signed = (kind: number, tags: string[][], content = 'out'): Promise<NostrEvent> =>
  provider.signEvent({ kind, created_at: T, tags, content });

describe('buildResult', () => {
  test('the NIP-90 shape: request JSON, e with hint, the inputs, p, amount', () => {
    const t = buildResult({
      request,
      content: 'Hello',
      amountMsats: 8000,
      bolt11: 'lnbc80n1',
      relayHint: 'wss://relay.example',
      extraTags: [['t', 'x']],
      createdAt: T,
    });
    assert.equal(t.kind, 6002);
    assert.equal(t.content, 'Hello');
    assert.equal(t.created_at, T);
    assert.deepEqual(t.tags, [
      ['request', JSON.stringify(plainEvent(request))],
      ['e', request.id, 'wss://relay.example'],
      ['i', 'Hola', 'text'],
      ['i', 'c'.repeat(64), 'event', 'wss://r.example'],
      ['p', customer.pubkey],
      ['amount', '8000', 'lnbc80n1'],
      ['t', 'x'],
    ]);
  });

  test('the embedded request is the plain signed event, still verifiable', () => {
    const t = buildResult({ request: { ...request, extra: 1 } as NostrEvent, content: '' });
    const embedded = JSON.parse(t.tags[0]?.[1] ?? '') as NostrEvent;
    assert.deepEqual(Object.keys(embedded), ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig']);
    assert.ok(verifyEvent(embedded));
  });

  test('round trip', async () => {
    const r = parseResult(
      await provider.signEvent(buildResult({ request, content: 'Hello', amountMsats: 8000 })),
    );
    assert.equal(r.requestId, request.id);
    assert.equal(r.requestKind, 5002);
    assert.equal(r.customer, customer.pubkey);
    assert.equal(r.provider, provider.pubkey);
    assert.equal(r.content, 'Hello');
    assert.equal(r.encrypted, false);
    assert.equal(r.amountMsats, 8000);
    assert.equal(r.bolt11, undefined);
    assert.deepEqual(r.request, plainEvent(request));
  });

  test('encrypted output: no i tags, the request as published, an encrypted tag; no plaintext leaks', async () => {
    const secret = 'the secret input';
    const enc = await customer.signEvent(
      await buildEncryptedJobRequest(
        {
          kind: 5050,
          inputs: [{ data: secret, type: 'text' }],
          params: { model: 'm' },
          provider: provider.pubkey,
        },
        customer,
      ),
    );
    const logical = await decryptJobRequest(enc, provider);
    assert.ok(JSON.stringify(logical).includes(secret));
    const content = await provider.nip44.encrypt(customer.pubkey, 'the answer');
    // the caller may pass the decrypted copy or the signed original: same result
    for (const req of [logical, enc]) {
      const t = buildResult({ request: req, content, encrypted: true, amountMsats: 10 });
      assert.equal(t.kind, 6050);
      assert.ok(!JSON.stringify(t).includes(secret), 'no plaintext input');
      assert.ok(!t.tags.some((x) => x[0] === 'i'));
      assert.deepEqual(t.tags.at(-1), ['encrypted']);
      const embedded = JSON.parse(t.tags[0]?.[1] ?? '') as NostrEvent;
      assert.deepEqual(embedded, plainEvent(enc));
      assert.ok(verifyEvent(embedded));
      const r = parseResult(await provider.signEvent(t));
      assert.equal(r.encrypted, true);
      assert.equal(r.requestId, enc.id);
      assert.equal(await customer.nip44.decrypt(provider.pubkey, r.content), 'the answer');
    }
  });

  test('rejects a request that is not a job request, or a bad amount', () => {
    assert.throws(() => buildResult({ request: { ...request, kind: 1 }, content: '' }), RangeError);
    assert.throws(() => buildResult({ request, content: '', amountMsats: -1 }), RangeError);
    assert.throws(() => buildResult({ request, content: '', bolt11: 'lnbc' }), /needs amountMsats/);
  });
});

describe('parseResult', () => {
  test('the NIP-90 example shape, and the minimal one (e and p only)', async () => {
    const full = parseResult(
      await signed(6002, [
        ['request', JSON.stringify(request)],
        ['e', request.id, 'wss://relay.example'],
        ['i', 'Hola'],
        ['p', customer.pubkey],
        ['amount', '1000', 'lnbc10n1'],
      ]),
    );
    assert.deepEqual(
      [full.requestId, full.customer, full.amountMsats, full.bolt11, full.request?.id],
      [request.id, customer.pubkey, 1000, 'lnbc10n1', request.id],
    );
    const min = parseResult(
      await signed(6001, [
        ['e', 'a'.repeat(64)],
        ['p', customer.pubkey],
      ]),
    );
    assert.deepEqual([min.requestId, min.requestKind, min.request], ['a'.repeat(64), 5001, undefined]);
  });

  test('without e or p tags, the request tag supplies them (as NDK reads it)', async () => {
    const r = parseResult(await signed(6002, [['request', JSON.stringify(request)]]));
    assert.equal(r.requestId, request.id);
    assert.equal(r.customer, customer.pubkey);
  });

  test('the customer: the embedded request author, else the first p tag that is not the provider', async () => {
    const r = parseResult(
      await signed(6002, [
        ['e', request.id],
        ['p', provider.pubkey],
        ['p', customer.pubkey],
      ]),
    );
    assert.equal(r.customer, customer.pubkey);
  });

  const other = { ...request, id: 'd'.repeat(64) };
  const bad: [string, number, string[][], RegExp][] = [
    ['another kind', 7000, [], /kind 7000 is not a job result kind .*6000-6999/],
    ['no e tag and no request', 6002, [['p', 'b'.repeat(64)]], /must reference its job request/],
    ['a bad e tag', 6002, [['e', 'nope']], /e tag must hold the job request id/],
    ['no p tag and no request', 6002, [['e', 'a'.repeat(64)]], /must name its customer/],
    [
      'a bad p tag',
      6002,
      [
        ['e', 'a'.repeat(64)],
        ['p', 'x'],
      ],
      /p tag must hold the customer's pubkey/,
    ],
    [
      'a request tag that is not JSON',
      6002,
      [['request', '{oops']],
      /request tag must hold the job request event as JSON/,
    ],
    [
      'a request tag that is not an event',
      6002,
      [['request', '{"id":1}']],
      /does not hold a Nostr event: id is not/,
    ],
    [
      'a request tag for another request',
      6002,
      [
        ['request', JSON.stringify(other)],
        ['e', request.id],
      ],
      /another event than the one the e tag references/,
    ],
    [
      'a request of another kind',
      6001,
      [['request', JSON.stringify(request)]],
      /kind 6001 result answers a kind 5001 request, but .* kind 5002/,
    ],
    [
      'a bad amount',
      6002,
      [
        ['e', 'a'.repeat(64)],
        ['p', 'b'.repeat(64)],
        ['amount', '-3'],
      ],
      /amount tag must hold a non-negative integer/,
    ],
  ];
  for (const [name, kind, tags, re] of bad)
    test(`rejects ${name}`, async () => {
      const e = await signed(kind, tags);
      assert.throws(
        () => parseResult(e),
        (err: unknown) => err instanceof ResultError && err instanceof DvmEventError && re.test(err.message),
      );
    });
});
