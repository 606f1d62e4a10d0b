import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { verifyEvent } from 'nostr-tools/pure';
import { type EventTemplate, type NostrEvent, plainEvent } from '../core/nostr.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import { DvmEventError } from './kinds.ts';
import {
  buildEncryptedJobRequest,
  buildJobRequest,
  DECRYPTED_TAG,
  decryptJobRequest,
  isDecryptedRequest,
  isEncryptedRequest,
  JobRequestError,
  type JobRequestErrorCode,
  parseJobRequest,
  publishedRequest,
} from './request.ts';

const customer = generateLocalSigner();
const provider = generateLocalSigner();
const other = generateLocalSigner();
const T = 1_700_000_000;
const hex = (c: string): string => c.repeat(64);

const sign = (kind: number, tags: string[][], content = ''): Promise<NostrEvent> =>
  customer.signEvent({ kind, created_at: T, tags, content });

/** Asserts that parsing throws a JobRequestError with this code and a message matching `re`. */
function rejects(event: NostrEvent, re: RegExp, code: JobRequestErrorCode = 'invalid', limits = {}): void {
  assert.throws(
    () => parseJobRequest(event, limits),
    (err: unknown) => {
      assert.ok(err instanceof JobRequestError, 'a JobRequestError');
      assert.ok(err instanceof DvmEventError);
      assert.match(err.message, re);
      assert.equal(err.code, code);
      return true;
    },
  );
}

describe('the registry examples (nostr-protocol/data-vending-machines) parse', () => {
  test('5000 text extraction: url input, output, a two-valued param', async () => {
    // the registry's example lacks a comma between the two param tags; fixed here
    const e = await sign(5000, [
      [
        'i',
        'https://chtbl.com/track/E2818G/http://feeds.soundcloud.com/stream/1602940803-bitcoin-and-data-vendetta-ep782.mp3',
        'url',
      ],
      ['output', 'text/plain'],
      ['param', 'range', '300', '360'],
      ['param', 'alignment', 'raw'],
    ]);
    const r = parseJobRequest(e);
    assert.equal(r.inputs.length, 1);
    assert.equal(r.inputs[0]?.type, 'url');
    assert.equal(r.inputs[0]?.relay, '');
    assert.equal(r.output, 'text/plain');
    assert.deepEqual(r.params, { range: '300', alignment: 'raw' });
    assert.deepEqual(r.paramValues.range, ['300', '360']);
    assert.deepEqual(r.paramList, [
      ['range', '300'],
      ['alignment', 'raw'],
    ]);
  });

  test('5001 summarization: four events and a job', async () => {
    const e = await sign(5001, [
      ['i', hex('1'), 'event'],
      ['i', hex('2'), 'event'],
      ['i', hex('3'), 'event'],
      ['i', hex('4'), 'event'],
      ['i', hex('5'), 'job'],
      ['param', 'length', '10 paragraphs'],
    ]);
    const r = parseJobRequest(e);
    assert.deepEqual(
      r.inputs.map((i) => i.type),
      ['event', 'event', 'event', 'event', 'job'],
    );
    assert.equal(r.params.length, '10 paragraphs');
  });

  test('5002 translation and 5250 text-to-speech', async () => {
    const t = parseJobRequest(
      await sign(5002, [
        ['i', hex('a'), 'event'],
        ['param', 'language', 'es'],
      ]),
    );
    assert.equal(t.params.language, 'es');
    const s = parseJobRequest(
      await sign(5250, [
        ['i', 'Mic Check, one, two.', 'text'],
        ['param', 'language', 'en'],
      ]),
    );
    assert.deepEqual(s.inputs, [{ data: 'Mic Check, one, two.', type: 'text', relay: '', marker: '' }]);
  });

  test('5050 text generation: the "prompt" input type reads as text', async () => {
    const e = await sign(5050, [
      ['i', 'what is the capital of France? ', 'prompt'],
      ['param', 'model', 'LLaMA-2'],
      ['param', 'max_tokens', '512'],
      ['param', 'temperature', '0.5'],
      ['param', 'top-k', '50'],
      ['param', 'top-p', '0.7'],
      ['param', 'frequency_penalty', '1'],
    ]);
    const r = parseJobRequest(e);
    assert.equal(r.inputs[0]?.type, 'text');
    assert.equal(r.inputs[0]?.data, 'what is the capital of France? ');
    assert.equal(r.paramList.length, 6);
    assert.equal(r.params.max_tokens, '512');
  });

  test('the NIP-90 request shape: relay and marker, output, relays, bid, t', async () => {
    const e = await sign(
      5001,
      [
        ['i', hex('b'), 'event', 'wss://relay.example', 'source'],
        ['output', 'text/markdown'],
        ['relays', 'wss://a.example', 'ws://b.example'],
        ['bid', '5000'],
        ['t', 'bitcoin'],
        ['p', provider.pubkey],
        ['expiration', String(T + 60)],
      ],
      'please be brief',
    );
    const r = parseJobRequest(e);
    assert.equal(r.id, e.id);
    assert.equal(r.kind, 5001);
    assert.equal(r.customer, customer.pubkey);
    assert.deepEqual(r.inputs, [
      { data: hex('b'), type: 'event', relay: 'wss://relay.example', marker: 'source' },
    ]);
    assert.equal(r.output, 'text/markdown');
    assert.deepEqual(r.relays, ['wss://a.example', 'ws://b.example']);
    assert.equal(r.bidMsats, 5000);
    assert.deepEqual(r.providers, [provider.pubkey]);
    assert.equal(r.expiresAt, T + 60);
    assert.equal(r.encrypted, false);
    assert.equal(r.content, 'please be brief');
    assert.equal(r.event, e);
  });

  test('a request with no tags at all is valid (all tags are optional)', async () => {
    const r = parseJobRequest(await sign(5700, []));
    assert.deepEqual(
      [r.inputs, r.params, r.output, r.bidMsats, r.expiresAt],
      [[], {}, '', undefined, undefined],
    );
  });
});

describe('buildJobRequest', () => {
  test('round trip through sign and parse', async () => {
    const template = buildJobRequest({
      kind: 5002,
      inputs: [
        { data: 'Hello', type: 'text' },
        { data: hex('c'), type: 'job', relay: 'wss://r.example' },
        { data: 'https://example.com/a.txt', type: 'url', marker: 'text/plain' },
      ],
      params: { language: 'fr', style: 'formal' },
      output: 'text/plain',
      bidMsats: 2000,
      relays: ['wss://r.example'],
      providers: [provider.pubkey, other.pubkey],
      content: 'hi',
      expiresAt: T + 3600,
      extraTags: [['t', 'test']],
      createdAt: T,
    });
    assert.equal(template.created_at, T);
    assert.deepEqual(template.tags[2], ['i', 'https://example.com/a.txt', 'url', '', 'text/plain']);
    assert.deepEqual(template.tags[0], ['i', 'Hello', 'text']);
    const r = parseJobRequest(await customer.signEvent(template));
    assert.deepEqual(r.inputs, [
      { data: 'Hello', type: 'text', relay: '', marker: '' },
      { data: hex('c'), type: 'job', relay: 'wss://r.example', marker: '' },
      { data: 'https://example.com/a.txt', type: 'url', relay: '', marker: 'text/plain' },
    ]);
    assert.deepEqual(r.params, { language: 'fr', style: 'formal' });
    assert.equal(r.output, 'text/plain');
    assert.equal(r.bidMsats, 2000);
    assert.deepEqual(r.relays, ['wss://r.example']);
    assert.deepEqual(r.providers, [provider.pubkey, other.pubkey]);
    assert.equal(r.expiresAt, T + 3600);
    assert.equal(r.content, 'hi');
  });

  test('params as pairs keep their order and repeats; the last one wins in params', async () => {
    const t = buildJobRequest({
      kind: 5050,
      inputs: [],
      params: [
        ['a', '1'],
        ['b', '2'],
        ['a', '3'],
      ],
    });
    const r = parseJobRequest(await customer.signEvent(t));
    assert.deepEqual(r.paramList, [
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
    assert.deepEqual(r.params, { a: '3', b: '2' });
  });

  test('created_at defaults to now', () => {
    const before = Math.floor(Date.now() / 1000);
    const t = buildJobRequest({ kind: 5700, inputs: [{ data: 'x', type: 'text' }] });
    assert.ok(t.created_at >= before && t.created_at <= before + 2);
    assert.equal(t.content, '');
  });

  test('rejects a kind or bid out of range', () => {
    assert.throws(() => buildJobRequest({ kind: 6001, inputs: [] }), RangeError);
    assert.throws(() => buildJobRequest({ kind: 5001, inputs: [], bidMsats: -1 }), /bidMsats/);
    assert.throws(() => buildJobRequest({ kind: 5001, inputs: [], bidMsats: 1.5 }), RangeError);
  });
});

describe('parseJobRequest rejects malformed requests with a message for the customer', () => {
  const cases: [string, number, string[][], RegExp][] = [
    ['a kind outside 5000-5999', 6001, [], /kind 6001 is not a job request kind .*5000-5999/],
    ['an input without data', 5001, [['i']], /input 1 .* has no data/],
    ['an input with empty data', 5001, [['i', '', 'text']], /has no data/],
    ['an input without type', 5001, [['i', 'hello']], /has no input type: use text, url, event or job/],
    ['an unknown input type', 5001, [['i', 'hello', 'blob']], /unknown input type "blob": use text, url/],
    [
      'an event input that is not an id',
      5001,
      [['i', 'note1abc', 'event']],
      /event input's data must be an event id/,
    ],
    [
      'a job input with uppercase hex',
      5001,
      [['i', hex('A'), 'job']],
      /job input's data must be an event id/,
    ],
    [
      'a url input with another scheme',
      5000,
      [['i', 'ftp://x.example/a', 'url']],
      /http:\/\/ or https:\/\/ URL/,
    ],
    ['a url input that is not a URL', 5000, [['i', 'example.com/a', 'url']], /http:\/\/ or https:\/\/ URL/],
    [
      'an input relay hint that is not ws(s)',
      5001,
      [['i', hex('d'), 'event', 'https://relay.example']],
      /relay hint and must be a ws:\/\/ or wss:\/\/ URL/,
    ],
    [
      'the second input is wrong',
      5001,
      [
        ['i', 'ok', 'text'],
        ['i', 'x'],
      ],
      /input 2/,
    ],
    ['a negative bid', 5001, [['bid', '-1']], /bid must be a non-negative whole number of millisats.*"-1"/],
    ['a fractional bid', 5001, [['bid', '1.5']], /bid must be/],
    ['a bid that is not a number', 5001, [['bid', 'lots']], /bid must be/],
    ['an empty bid tag', 5001, [['bid']], /bid must be/],
    [
      'a relays tag with an http URL',
      5001,
      [['relays', 'wss://ok.example', 'https://x.example']],
      /relays tag lists "https:\/\/x.example"/,
    ],
    [
      'a p tag that is not a pubkey',
      5001,
      [['p', 'npub1xyz']],
      /p tag .* must name a service provider by its pubkey/,
    ],
    [
      'a bad expiration',
      5001,
      [['expiration', 'tomorrow']],
      /expiration tag \(NIP-40\) must hold a unix time/,
    ],
    ['a param without a name', 5001, [['param']], /param .* has no name/],
  ];
  for (const [name, kind, tags, re] of cases)
    test(name, async () => {
      rejects(await sign(kind, tags), re);
    });
});

describe('limits', () => {
  test('at most 20 inputs by default, or maxInputs', async () => {
    const inputs = (n: number) => Array.from({ length: n }, (_, i) => ['i', `input ${i}`, 'text']);
    assert.equal(parseJobRequest(await sign(5001, inputs(20))).inputs.length, 20);
    rejects(
      await sign(5001, inputs(21)),
      /has 21 inputs; this service provider accepts at most 20/,
      'too-large',
    );
    rejects(await sign(5001, inputs(3)), /has 3 inputs; .* at most 2/, 'too-large', { maxInputs: 2 });
  });

  test('input bytes: 65536 by default, or maxInputBytes; the message gives both sizes', async () => {
    const ok = 'x'.repeat(32768);
    assert.equal(
      parseJobRequest(
        await sign(5001, [
          ['i', ok, 'text'],
          ['i', ok, 'text'],
        ]),
      ).inputs.length,
      2,
    );
    rejects(
      await sign(5001, [
        ['i', ok, 'text'],
        ['i', `${ok}y`, 'text'],
      ]),
      /the inputs total 65537 bytes; this service provider accepts at most 65536 bytes/,
      'too-large',
    );
    // bytes are UTF-8 bytes, not characters
    rejects(
      await sign(5001, [['i', 'é'.repeat(6), 'text']]),
      /total 12 bytes; .* at most 10 bytes/,
      'too-large',
      {
        maxInputBytes: 10,
      },
    );
  });
});

describe('encrypted requests', () => {
  // The NIP-90 spec's example of encrypted params (the tags the customer keeps private).
  const specPrivateTags = [
    ['i', 'what is the capital of France? ', 'text'],
    ['param', 'model', 'LLaMA-2'],
    ['param', 'max_tokens', '512'],
    ['param', 'temperature', '0.5'],
    ['param', 'top-k', '50'],
    ['param', 'top-p', '0.7'],
    ['param', 'frequency_penalty', '1'],
  ];

  async function encryptedBy(
    scheme: 'nip04' | 'nip44',
    to: string,
    privateTags: unknown = specPrivateTags,
    publicTags: string[][] = [['p', to]],
  ): Promise<NostrEvent> {
    const content = await customer[scheme].encrypt(to, JSON.stringify(privateTags));
    return sign(5050, [...publicTags, ['encrypted']], content);
  }

  function checkSpecExample(r: ReturnType<typeof parseJobRequest>): void {
    assert.equal(r.encrypted, true);
    assert.deepEqual(r.inputs, [
      { data: 'what is the capital of France? ', type: 'text', relay: '', marker: '' },
    ]);
    assert.equal(r.params.model, 'LLaMA-2');
    assert.equal(r.params.frequency_penalty, '1');
    assert.equal(r.paramList.length, 6);
    assert.deepEqual(r.providers, [provider.pubkey]);
    assert.equal(r.content, '', 'the ciphertext is not content');
  }

  for (const scheme of ['nip04', 'nip44'] as const)
    test(`the spec's example encrypted with ${scheme} decrypts and parses`, async () => {
      const e = await encryptedBy(scheme, provider.pubkey);
      assert.ok(isEncryptedRequest(e));
      rejects(e, /encrypted .* has not been decrypted yet/, 'not-decrypted');
      const d = await decryptJobRequest(e, provider);
      assert.ok(isDecryptedRequest(d) && !isDecryptedRequest(e));
      assert.equal(d.id, e.id);
      assert.equal(d.sig, e.sig);
      // the signer's cached verification mark is not carried over to the changed copy
      assert.ok(verifyEvent(e));
      assert.equal(verifyEvent(d), false);
      assert.deepEqual(d.tags.at(-1), [DECRYPTED_TAG, '7']);
      checkSpecExample(parseJobRequest(d));
      // the decrypted copy is self-describing: it survives JSON
      checkSpecExample(parseJobRequest(JSON.parse(JSON.stringify(d)) as NostrEvent));
      // decrypting again changes nothing
      assert.equal(await decryptJobRequest(d, provider), d);
      // publishedRequest gives back the signed original
      const back = publishedRequest(d);
      assert.deepEqual(back, plainEvent(e));
      assert.ok(verifyEvent({ ...back }));
    });

  test('buildEncryptedJobRequest: i and param encrypted (NIP-44) for the provider, the rest public', async () => {
    const template: EventTemplate = await buildEncryptedJobRequest(
      {
        kind: 5050,
        inputs: [{ data: 'secret prompt', type: 'text' }],
        params: { model: 'x' },
        output: 'text/plain',
        bidMsats: 1000,
        relays: ['wss://r.example'],
        provider: provider.pubkey,
        createdAt: T,
      },
      customer,
    );
    assert.ok(!template.content.includes('secret'));
    assert.ok(!template.content.includes('?iv='), 'NIP-44, not NIP-04');
    assert.deepEqual(template.tags, [
      ['output', 'text/plain'],
      ['bid', '1000'],
      ['relays', 'wss://r.example'],
      ['p', provider.pubkey],
      ['encrypted'],
    ]);
    const e = await customer.signEvent(template);
    const r = parseJobRequest(await decryptJobRequest(e, provider));
    assert.deepEqual(r.inputs, [{ data: 'secret prompt', type: 'text', relay: '', marker: '' }]);
    assert.deepEqual(r.params, { model: 'x' });
    assert.equal(r.bidMsats, 1000);
    assert.equal(r.output, 'text/plain');
    assert.ok(r.encrypted);
    await assert.rejects(
      buildEncryptedJobRequest({ kind: 5050, inputs: [], provider: 'nope' }, customer),
      RangeError,
    );
  });

  test('decrypted params are validated like public ones', async () => {
    const d = await decryptJobRequest(
      await encryptedBy('nip44', provider.pubkey, [['i', 'x', 'blob']]),
      provider,
    );
    rejects(d, /unknown input type "blob"/);
  });

  test('structural tags inside the ciphertext are dropped', async () => {
    const e = await encryptedBy('nip44', provider.pubkey, [
      ['i', 'a', 'text'],
      ['encrypted'],
      [DECRYPTED_TAG, '99'],
    ]);
    const d = await decryptJobRequest(e, provider);
    assert.deepEqual(d.tags.slice(e.tags.length), [
      ['i', 'a', 'text'],
      [DECRYPTED_TAG, '1'],
    ]);
    assert.deepEqual(publishedRequest(d), plainEvent(e));
  });

  async function decryptFails(e: NostrEvent, re: RegExp, code: JobRequestErrorCode, signer = provider) {
    await assert.rejects(decryptJobRequest(e, signer), (err: unknown) => {
      assert.ok(err instanceof JobRequestError);
      assert.match(err.message, re);
      assert.equal(err.code, code);
      return true;
    });
  }

  test('encrypted for another provider: not-addressed when the p tag says so, else undecryptable', async () => {
    await decryptFails(
      await encryptedBy('nip44', other.pubkey),
      /encrypted for another service provider/,
      'not-addressed',
    );
    // no p tag: the wrong key is found out by decrypting, with either scheme
    await decryptFails(
      await encryptedBy('nip44', other.pubkey, specPrivateTags, []),
      /cannot decrypt the request: .* not NIP-44 or NIP-04 encrypted to this service provider's key/,
      'undecryptable',
    );
    // NIP-04 has no MAC: a wrong key may yield garbage instead of an error (then the JSON check fails)
    await decryptFails(
      await encryptedBy('nip04', other.pubkey, specPrivateTags, []),
      /^cannot decrypt the request: /,
      'undecryptable',
    );
    // a p tag naming us, but the ciphertext was made for another key
    await decryptFails(
      await encryptedBy('nip44', other.pubkey, specPrivateTags, [['p', provider.pubkey]]),
      /cannot decrypt/,
      'undecryptable',
    );
  });

  test('plaintext that is not a JSON array of tags, or an empty content: undecryptable', async () => {
    for (const plain of [{ i: 'x' }, ['i', 'x', 'text'], [[]], [[1, 2]]])
      await decryptFails(
        await encryptedBy('nip44', provider.pubkey, plain),
        /not a JSON array of tags/,
        'undecryptable',
      );
    const notJson = await sign(
      5050,
      [['p', provider.pubkey], ['encrypted']],
      await customer.nip44.encrypt(provider.pubkey, 'not json'),
    );
    await decryptFails(notJson, /not a JSON array of tags/, 'undecryptable');
    await decryptFails(
      await sign(5050, [['p', provider.pubkey], ['encrypted']], ''),
      /content .* is empty/,
      'undecryptable',
    );
  });

  test('a request that is not encrypted is returned as is', async () => {
    const e = await sign(5001, [['i', 'x', 'text']]);
    assert.equal(await decryptJobRequest(e, provider), e);
    assert.equal(publishedRequest(e), e);
  });
});
