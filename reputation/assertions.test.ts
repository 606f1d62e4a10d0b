import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DAY, idFor, keyFor, label, signerFor, T0 } from '../tests/reputation/keys.ts';
import { ASSERTION_KIND, buildAssertion, parseAssertion } from './assertions.ts';
import { computeReputation, SCORE_VERSION } from './score.ts';

const SEED = keyFor('seed');
const X = keyFor('x');
const provider = signerFor('provider');

function scores() {
  const events = [
    label(SEED, { subject: X, type: 'service-quality', jobKind: 5002, request: idFor(1) }),
    label(SEED, { subject: X, type: 'work-completed', jobKind: 5001, request: idFor(2) }),
    label(SEED, { subject: X, type: 'warning', jobKind: 5050, request: idFor(3) }),
  ];
  const rep = computeReputation(events, [SEED], T0 + DAY);
  return { overall: rep.score(X), kinds: rep.kindsOf(X).map((k) => rep.score(X, k)) };
}

test('a kind 30382 per agent: d = the agent, the overall rank first, then one rank per job kind', async () => {
  const s = scores();
  const template = buildAssertion(s, T0 + DAY);
  assert.equal(template.kind, ASSERTION_KIND);
  assert.deepEqual(template.tags, [
    ['d', X],
    ['rank', String(s.overall.rank)],
    ['rank', String(s.kinds[0]?.rank), '5001'],
    ['rank', String(s.kinds[1]?.rank), '5002'],
    ['rank', String(s.kinds[2]?.rank), '5050'],
    ['version', SCORE_VERSION],
  ]);
  const event = await provider.signEvent(template);
  const parsed = parseAssertion(event);
  assert.equal(parsed.subject, X);
  assert.equal(parsed.rank, s.overall.rank);
  assert.deepEqual(
    [...parsed.kinds],
    [
      [5001, s.kinds[0]?.rank],
      [5002, s.kinds[1]?.rank],
      [5050, s.kinds[2]?.rank],
    ],
  );
  assert.equal(parsed.version, SCORE_VERSION);
  assert.equal(parsed.provider, provider.pubkey);
  assert.ok((s.kinds[2]?.rank ?? 100) < 50 && (s.kinds[1]?.rank ?? 0) > 50);
});

test('a plain NIP-85 rank (as other providers write it) parses', () => {
  const parsed = parseAssertion({
    id: idFor('a'),
    pubkey: keyFor('other-provider'),
    created_at: T0,
    kind: ASSERTION_KIND,
    tags: [
      ['d', X],
      ['rank', '89'],
    ],
    content: '',
    sig: '0'.repeat(128),
  });
  assert.equal(parsed.rank, 89);
  assert.equal(parsed.kinds.size, 0);
  assert.equal(parsed.version, undefined);
});

test('malformed assertions are refused with the reason', () => {
  const base = { id: idFor('b'), pubkey: keyFor('p'), created_at: T0, content: '', sig: '0'.repeat(128) };
  const cases: [number, string[][], RegExp][] = [
    [
      1,
      [
        ['d', X],
        ['rank', '1'],
      ],
      /not a trusted assertion/,
    ],
    [ASSERTION_KIND, [['rank', '1']], /d tag/],
    [
      ASSERTION_KIND,
      [
        ['d', 'npub1'],
        ['rank', '1'],
      ],
      /d tag/,
    ],
    [ASSERTION_KIND, [['d', X]], /no overall rank/],
    [
      ASSERTION_KIND,
      [
        ['d', X],
        ['rank', '101'],
      ],
      /within 0..100/,
    ],
    [
      ASSERTION_KIND,
      [
        ['d', X],
        ['rank', '7.5'],
      ],
      /within 0..100/,
    ],
    [
      ASSERTION_KIND,
      [
        ['d', X],
        ['rank', '1'],
        ['rank', '2'],
      ],
      /more than one overall rank/,
    ],
    [
      ASSERTION_KIND,
      [
        ['d', X],
        ['rank', '1'],
        ['rank', '2', '6001'],
      ],
      /not a job kind/,
    ],
    [
      ASSERTION_KIND,
      [
        ['d', X],
        ['rank', '1'],
        ['rank', '2', '5001'],
        ['rank', '3', '5001'],
      ],
      /more than one rank for kind 5001/,
    ],
  ];
  for (const [kind, tags, why] of cases) {
    assert.throws(
      () => parseAssertion({ ...base, kind, tags }),
      (err: unknown) => err instanceof TypeError && why.test(err.message),
    );
  }
});
