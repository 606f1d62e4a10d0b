import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NostrEvent } from '../core/nostr.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import {
  buildHandlerInfo,
  HandlerInfoError,
  MAX_PARAM_SCHEMA_CHARS,
  parseHandlerInfo,
  sameHandlerInfo,
} from './announcement.ts';
import { DvmEventError } from './kinds.ts';

const agent = generateLocalSigner();
const T = 1_700_000_000;
const spec = {
  d: 'seer',
  kinds: [5001, 5000],
  metadata: { name: 'seer', display_name: 'Seer', about: 'Summarizer', lud16: 'seer@example.com' },
  pricing: [
    { kind: 5001, msats: 1000 },
    { kind: 5000, msats: 2, unit: 'second' as const },
  ],
  createdAt: T,
};

const signed = (tags: string[][], content = '{"name":"x"}', kind = 31990): Promise<NostrEvent> =>
  agent.signEvent({ kind, created_at: T, tags, content });

describe('buildHandlerInfo / parseHandlerInfo', () => {
  test('tags: d, one k per kind, price tags; content: the metadata as JSON', () => {
    const t = buildHandlerInfo({ ...spec, extraTags: [['t', 'summaries']] });
    assert.equal(t.kind, 31990);
    assert.equal(t.created_at, T);
    assert.deepEqual(t.tags, [
      ['d', 'seer'],
      ['k', '5001'],
      ['k', '5000'],
      ['price', '5001', '1000', 'job'],
      ['price', '5000', '2', 'second'],
      ['t', 'summaries'],
    ]);
    assert.deepEqual(JSON.parse(t.content), spec.metadata);
  });

  test('round trip', async () => {
    const info = parseHandlerInfo(
      await agent.signEvent(buildHandlerInfo({ ...spec, kinds: [5001, 5000, 5001] })),
    );
    assert.equal(info.pubkey, agent.pubkey);
    assert.equal(info.d, 'seer');
    assert.deepEqual(info.kinds, [5001, 5000]);
    assert.deepEqual(info.metadata, spec.metadata);
    assert.deepEqual(info.pricing, [
      { kind: 5001, msats: 1000, unit: 'job' },
      { kind: 5000, msats: 2, unit: 'second' },
    ]);
    assert.equal(info.createdAt, T);
  });

  test('the data-vending-machines registry example (content fixed to JSON), encryptionSupported kept', async () => {
    const e = await signed(
      [
        ['d', 'td51xbgxwbt5116r'],
        ['k', '5100'],
      ],
      JSON.stringify({
        name: 'Dali Vending Machine',
        image:
          'https://cdn.nostr.build/i/fb207be87d748ad927f52a063c221d1d97ef6d75e670003cb6e85baf2cd2d64e.jpg',
        about: "I'm Dali re-incarnated, faster and cheaper",
        encryptionSupported: true,
      }),
    );
    const info = parseHandlerInfo(e);
    assert.deepEqual(info.kinds, [5100]);
    assert.deepEqual(info.metadata, {
      name: 'Dali Vending Machine',
      about: "I'm Dali re-incarnated, faster and cheaper",
      encryptionSupported: true,
    });
    assert.deepEqual(info.pricing, []);
  });

  test('empty content means "see the kind 0": metadata with an empty name', async () => {
    const info = parseHandlerInfo(await signed([['d', 'x']], ''));
    assert.deepEqual(info.metadata, { name: '' });
  });

  const bad: [string, string[][], string, RegExp, number?][] = [
    ['another kind', [['d', 'x']], '', /kind 0 is not a handler announcement/, 0],
    // the NIP-90 appendix example has no d tag, which an addressable kind needs
    [
      'no d tag (the NIP-90 appendix example)',
      [
        ['k', '5005'],
        ['t', 'bitcoin'],
      ],
      '{"name":"Translating DVM"}',
      /needs a d tag/,
    ],
    [
      'a k tag that is not a kind',
      [
        ['d', 'x'],
        ['k', 'five'],
      ],
      '',
      /k tag "five" is not an event kind/,
    ],
    [
      'a k tag out of range',
      [
        ['d', 'x'],
        ['k', '70000'],
      ],
      '',
      /not an event kind/,
    ],
    [
      'a price without msats',
      [
        ['d', 'x'],
        ['price', '5001'],
      ],
      '',
      /price tag .* must be \["price"/,
    ],
    [
      'a price with an unknown unit',
      [
        ['d', 'x'],
        ['price', '5001', '5', 'byte'],
      ],
      '',
      /price tag/,
    ],
    // the registry's own example content is not JSON (Python's True)
    [
      'content that is not JSON',
      [['d', 'x']],
      '{"name": "Dali", "encryptionSupported": True}',
      /content .* must be empty or a JSON object/,
    ],
    ['content that is a JSON array', [['d', 'x']], '[]', /JSON object/],
  ];
  for (const [name, tags, content, re, kind] of bad)
    test(`rejects ${name}`, async () => {
      const e = await signed(tags, content, kind);
      assert.throws(
        () => parseHandlerInfo(e),
        (err: unknown) =>
          err instanceof HandlerInfoError && err instanceof DvmEventError && re.test(err.message),
      );
    });

  test('the builder rejects what it cannot publish', () => {
    assert.throws(() => buildHandlerInfo({ ...spec, d: '' }), /d tag/);
    assert.throws(() => buildHandlerInfo({ ...spec, kinds: [] }), /at least one kind/);
    assert.throws(() => buildHandlerInfo({ ...spec, kinds: [5000.5] }), RangeError);
    assert.throws(() => buildHandlerInfo({ ...spec, pricing: [{ kind: 5050, msats: 1 }] }), /not announced/);
    assert.throws(() => buildHandlerInfo({ ...spec, pricing: [{ kind: 5001, msats: -1 }] }), RangeError);
  });
});

describe('param-schema tags', () => {
  const schema = {
    type: 'object',
    properties: { length: { type: 'integer', minimum: 1 }, words: { type: 'integer' } },
  };

  test('one per kind, canonical JSON text after the prices; parsed back as the same object', async () => {
    const t = buildHandlerInfo({ ...spec, paramSchemas: [{ kind: 5001, schema }] });
    const tag = t.tags.find((x) => x[0] === 'param-schema');
    assert.deepEqual(tag, [
      'param-schema',
      '5001',
      '{"properties":{"length":{"minimum":1,"type":"integer"},"words":{"type":"integer"}},"type":"object"}',
    ]);
    assert.ok(t.tags.indexOf(tag as string[]) > t.tags.findIndex((x) => x[0] === 'price'));
    const info = parseHandlerInfo(await agent.signEvent(t));
    assert.deepEqual(info.paramSchemas, [{ kind: 5001, schema }]);
    assert.deepEqual(parseHandlerInfo(await agent.signEvent(buildHandlerInfo(spec))).paramSchemas, []);
  });

  test('a schema changes the announcement (it is republished)', async () => {
    const published = await agent.signEvent(buildHandlerInfo(spec));
    assert.ok(sameHandlerInfo(buildHandlerInfo(spec), published));
    assert.ok(
      !sameHandlerInfo(buildHandlerInfo({ ...spec, paramSchemas: [{ kind: 5001, schema }] }), published),
    );
  });

  const k = (kind: string): string[] => ['k', kind];
  const malformed: [string, string[][], RegExp][] = [
    ['a kind that is not a number', [k('5001'), ['param-schema', 'x', '{}']], /must be \["param-schema"/],
    ['no schema text', [k('5001'), ['param-schema', '5001']], /must be \["param-schema"/],
    ['text that is not JSON', [k('5001'), ['param-schema', '5001', '{type:']], /is not a JSON object/],
    ['JSON that is not an object', [k('5001'), ['param-schema', '5001', '[1,2]']], /is not a JSON object/],
    ['JSON null', [k('5001'), ['param-schema', '5001', 'null']], /is not a JSON object/],
    [
      'two schemas for one kind',
      [k('5001'), ['param-schema', '5001', '{}'], ['param-schema', '5001', '{}']],
      /two param-schema tags for kind 5001/,
    ],
    ['a kind not announced', [k('5001'), ['param-schema', '5002', '{}']], /no k tag for/],
    [
      'text over the limit',
      [k('5001'), ['param-schema', '5001', `{"d":"${'x'.repeat(MAX_PARAM_SCHEMA_CHARS)}"}`]],
      /at most 16384/,
    ],
  ];
  for (const [name, tags, re] of malformed)
    test(`rejects ${name}`, async () => {
      const e = await signed([['d', 'seer'], ...tags]);
      assert.throws(
        () => parseHandlerInfo(e),
        (err: unknown) => err instanceof HandlerInfoError && re.test(err.message),
      );
    });

  test('the builder refuses a schema it could not publish', () => {
    const build = (paramSchemas: { kind: number; schema: Record<string, unknown> }[]) => () =>
      buildHandlerInfo({ ...spec, paramSchemas });
    assert.throws(build([{ kind: 5050, schema }]), /not announced/);
    assert.throws(
      build([
        { kind: 5001, schema },
        { kind: 5001, schema },
      ]),
      /two parameter schemas/,
    );
    assert.throws(build([{ kind: 5001, schema: [] as unknown as Record<string, unknown> }]), /JSON object/);
    assert.throws(build([{ kind: 5001, schema: { d: 'x'.repeat(MAX_PARAM_SCHEMA_CHARS) } }]), /at most/);
  });
});

describe('sameHandlerInfo', () => {
  test('true for the same announcement at another time, k and other tags in any order, keys reordered', async () => {
    const published = await agent.signEvent(buildHandlerInfo(spec));
    assert.ok(sameHandlerInfo(buildHandlerInfo({ ...spec, createdAt: T + 999 }), published));
    const reordered = buildHandlerInfo({
      ...spec,
      kinds: [5000, 5001],
      pricing: [...spec.pricing].reverse(),
      metadata: { lud16: 'seer@example.com', about: 'Summarizer', display_name: 'Seer', name: 'seer' },
    });
    assert.ok(sameHandlerInfo(reordered, published));
  });

  test('false when anything else changed', async () => {
    const published = await agent.signEvent(buildHandlerInfo(spec));
    const changes = [
      { kinds: [5001], pricing: [{ kind: 5001, msats: 1000 }] },
      { kinds: [5001, 5000, 5002] },
      { metadata: { ...spec.metadata, about: 'Summarizer and more' } },
      { pricing: [{ kind: 5001, msats: 2000 }] },
      { d: 'seer-2' },
      { extraTags: [['t', 'new']] },
    ];
    for (const change of changes)
      assert.ok(
        !sameHandlerInfo(buildHandlerInfo({ ...spec, ...change }), published),
        JSON.stringify(change),
      );
    assert.ok(!sameHandlerInfo({ ...buildHandlerInfo(spec), kind: 31989 }, published));
  });
});
