import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../core/config.ts';
import type { NostrEvent } from '../core/nostr.ts';
import {
  createdAtPolicy,
  isStrfrySource,
  kindPolicy,
  pubkeyPolicy,
  type StandardPolicyOptions,
  sizePolicy,
  standardPolicies,
  standardPolicyOptions,
  writeAuthPolicy,
} from './policies.ts';
import { type Policy, type PolicyDecision, type PolicyInput, runPolicies } from './policy.ts';

const NOW = 1_800_000_000;
const PUBKEY = 'a'.repeat(64);

function event(overrides: Partial<NostrEvent> = {}): NostrEvent {
  return {
    id: 'e'.repeat(64),
    pubkey: PUBKEY,
    created_at: NOW,
    kind: 1,
    tags: [],
    content: 'hello',
    sig: 'f'.repeat(128),
    ...overrides,
  };
}

function input(ev: Partial<NostrEvent> = {}, more: Partial<PolicyInput> = {}): PolicyInput {
  return {
    event: event(ev),
    authedPubkeys: new Set(),
    ip: '127.0.0.1',
    source: 'ws',
    receivedAt: NOW,
    ...more,
  };
}

const run = (policies: readonly Policy[], i: PolicyInput): Promise<PolicyDecision> =>
  runPolicies(policies, i);

function assertReject(decision: PolicyDecision, prefix: string): void {
  assert.equal(decision.action, 'reject');
  assert.ok(
    'message' in decision && decision.message.startsWith(`${prefix}: `),
    `expected a "${prefix}:" message, got ${JSON.stringify(decision)}`,
  );
}

const DEFAULTS: StandardPolicyOptions = standardPolicyOptions(loadConfig().config.relay);

describe('kindPolicy', () => {
  test('accepts every kind when both lists are empty', async () => {
    const p = [kindPolicy({})];
    for (const kind of [0, 1, 4, 1059, 30023, 65535])
      assert.equal((await run(p, input({ kind }))).action, 'accept');
  });

  test('rejectKinds blocks those kinds only', async () => {
    const p = [kindPolicy({ rejectKinds: [4, 1059] })];
    assertReject(await run(p, input({ kind: 4 })), 'blocked');
    assertReject(await run(p, input({ kind: 1059 })), 'blocked');
    assert.equal((await run(p, input({ kind: 1 }))).action, 'accept');
  });

  test('acceptKinds allows only those kinds, and rejectKinds wins over it', async () => {
    const p = [kindPolicy({ acceptKinds: [1, 7], rejectKinds: [7] })];
    assert.equal((await run(p, input({ kind: 1 }))).action, 'accept');
    const d = await run(p, input({ kind: 7 }));
    assertReject(d, 'blocked');
    assert.match((d as { message: string }).message, /kind 7/);
    assertReject(await run(p, input({ kind: 3 })), 'blocked');
  });
});

describe('sizePolicy', () => {
  const p = [sizePolicy({ maxEventTags: 3, maxContentBytes: 10 })];

  test('accepts events at the limits', async () => {
    const tags = [
      ['t', 'a'],
      ['t', 'b'],
      ['p', PUBKEY],
    ];
    assert.equal((await run(p, input({ tags, content: '0123456789' }))).action, 'accept');
  });

  test('rejects too many tags', async () => {
    const tags = [
      ['t', 'a'],
      ['t', 'b'],
      ['t', 'c'],
      ['t', 'd'],
    ];
    const d = await run(p, input({ tags }));
    assertReject(d, 'invalid');
    assert.match((d as { message: string }).message, /tags/);
  });

  test('counts content in UTF-8 bytes, not characters', async () => {
    assert.equal((await run(p, input({ content: 'ééééé' }))).action, 'accept'); // 10 bytes
    const d = await run(p, input({ content: 'éééééé' })); // 6 characters, 12 bytes
    assertReject(d, 'invalid');
    assert.match((d as { message: string }).message, /12 bytes/);
    assertReject(await run(p, input({ content: '01234567890' })), 'invalid');
  });
});

describe('createdAtPolicy', () => {
  test('rejects created_at too far in the future, relative to receivedAt', async () => {
    const p = [createdAtPolicy({ futureSeconds: 900, pastSeconds: 0 })];
    assert.equal((await run(p, input({ created_at: NOW + 900 }))).action, 'accept');
    assertReject(await run(p, input({ created_at: NOW + 901 })), 'invalid');
    // the same event is fine once the relay's clock has caught up
    assert.equal((await run(p, input({ created_at: NOW + 901 }, { receivedAt: NOW + 10 }))).action, 'accept');
  });

  test('pastSeconds 0 means no limit on old events', async () => {
    const p = [createdAtPolicy({ futureSeconds: 900, pastSeconds: 0 })];
    assert.equal((await run(p, input({ created_at: 0 }))).action, 'accept');
  });

  test('pastSeconds > 0 rejects older events', async () => {
    const p = [createdAtPolicy({ futureSeconds: 900, pastSeconds: 3600 })];
    assert.equal((await run(p, input({ created_at: NOW - 3600 }))).action, 'accept');
    const d = await run(p, input({ created_at: NOW - 3601 }));
    assertReject(d, 'invalid');
    assert.match((d as { message: string }).message, /past/);
  });
});

describe('writeAuthPolicy', () => {
  test('auth none lets everyone write', async () => {
    assert.equal((await run([writeAuthPolicy({ auth: 'none' })], input())).action, 'accept');
  });

  for (const auth of ['write', 'all'] as const) {
    test(`auth ${auth} requires an authenticated connection`, async () => {
      const p = [writeAuthPolicy({ auth })];
      assertReject(await run(p, input()), 'auth-required');
      assert.equal((await run(p, input({}, { authedPubkeys: new Set([PUBKEY]) }))).action, 'accept');
    });

    test(`auth ${auth} trusts strfry's own AUTH for events that came through strfry`, async () => {
      const p = [writeAuthPolicy({ auth })];
      for (const source of ['IP4', 'IP6', 'Import', 'Stream', 'Sync', 'Stored']) {
        assert.equal((await run(p, input({}, { source }))).action, 'accept', source);
      }
    });
  }

  test('isStrfrySource knows only strfry sourceType values', () => {
    assert.equal(isStrfrySource('IP4'), true);
    assert.equal(isStrfrySource('ws'), false);
    assert.equal(isStrfrySource('ip4'), false);
    assert.equal(isStrfrySource(''), false);
  });
});

describe('pubkeyPolicy', () => {
  const other = 'b'.repeat(64);

  test('no lists restrict nothing', async () => {
    assert.equal((await run([pubkeyPolicy({})], input())).action, 'accept');
    assert.equal((await run([pubkeyPolicy({ allow: [], deny: [] })], input())).action, 'accept');
  });

  test('deny blocks listed pubkeys, whatever their case', async () => {
    const p = [pubkeyPolicy({ deny: [PUBKEY.toUpperCase()] })];
    assertReject(await run(p, input()), 'blocked');
    assert.equal((await run(p, input({ pubkey: other }))).action, 'accept');
  });

  test('allow admits only listed pubkeys, and deny wins', async () => {
    const p = [pubkeyPolicy({ allow: [PUBKEY, other], deny: [other] })];
    assert.equal((await run(p, input())).action, 'accept');
    assertReject(await run(p, input({ pubkey: other })), 'blocked');
    assertReject(await run(p, input({ pubkey: 'c'.repeat(64) })), 'blocked');
  });
});

describe('standardPolicies', () => {
  test('the configuration defaults accept an ordinary event', async () => {
    assert.deepEqual(DEFAULTS, {
      acceptKinds: [],
      rejectKinds: [],
      maxEventTags: 2500,
      maxContentBytes: 131072,
      createdAtFutureSeconds: 900,
      createdAtPastSeconds: 0,
      auth: 'none',
    });
    assert.equal((await run(standardPolicies(DEFAULTS), input())).action, 'accept');
  });

  test('standardPolicyOptions follows the configuration', () => {
    const { config } = loadConfig({
      env: { TIMMY_RELAY_REJECT_KINDS: '4,1059', TIMMY_RELAY_AUTH: 'write' },
      fileContent: { relay: { limits: { maxEventTags: 10, createdAtPastSeconds: 60 } } },
    });
    const o = standardPolicyOptions(config.relay);
    assert.deepEqual(o.rejectKinds, [4, 1059]);
    assert.equal(o.auth, 'write');
    assert.equal(o.maxEventTags, 10);
    assert.equal(o.createdAtPastSeconds, 60);
  });

  test('each option reaches its policy', async () => {
    const p = standardPolicies({
      ...DEFAULTS,
      rejectKinds: [4],
      maxEventTags: 1,
      maxContentBytes: 5,
      createdAtPastSeconds: 60,
    });
    assertReject(await run(p, input({ kind: 4 })), 'blocked');
    assertReject(
      await run(
        p,
        input({
          tags: [
            ['t', 'a'],
            ['t', 'b'],
          ],
        }),
      ),
      'invalid',
    );
    assertReject(await run(p, input({ content: '123456' })), 'invalid');
    assertReject(await run(p, input({ created_at: NOW + 901 })), 'invalid');
    assertReject(await run(p, input({ created_at: NOW - 61 })), 'invalid');
    assert.equal((await run(p, input({ content: '12345' }))).action, 'accept');
  });

  test('authentication is checked first', async () => {
    const p = standardPolicies({ ...DEFAULTS, auth: 'write', rejectKinds: [4] });
    // a blocked kind from an unauthenticated client learns only that it must authenticate
    assertReject(await run(p, input({ kind: 4 })), 'auth-required');
    assertReject(await run(p, input({ kind: 4 }, { authedPubkeys: new Set([PUBKEY]) })), 'blocked');
  });
});

describe('chain order and next()', () => {
  test('policies run in order and the first decision wins', async () => {
    const seen: string[] = [];
    const tracer =
      (name: string): Policy =>
      (_i, next) => {
        seen.push(name);
        return next();
      };
    const d = await run(
      [tracer('a'), kindPolicy({ rejectKinds: [1] }), tracer('never'), kindPolicy({ rejectKinds: [] })],
      input(),
    );
    assertReject(d, 'blocked');
    assert.deepEqual(seen, ['a']);
  });

  test('a policy can decide after the rest of the chain', async () => {
    // turns every rejection further down into a shadowReject (OK true, stored nowhere)
    const shadow: Policy = async (_i, next) => {
      const d = await next();
      return d.action === 'reject' ? { action: 'shadowReject', message: d.message } : d;
    };
    const p = [shadow, sizePolicy({ maxEventTags: 10, maxContentBytes: 3 })];
    assert.deepEqual(await run(p, input({ content: 'ab' })), { action: 'accept' });
    const d = await run(p, input({ content: 'abcd' }));
    assert.equal(d.action, 'shadowReject');
  });

  test('a policy can decide before the rest of the chain without calling next()', async () => {
    let reached = false;
    const gate: Policy = () => ({ action: 'reject', message: 'blocked: closed' });
    const after: Policy = (_i, next) => {
      reached = true;
      return next();
    };
    assertReject(await run([gate, after], input()), 'blocked');
    assert.equal(reached, false);
  });

  test('async policies keep the chain order', async () => {
    const seen: string[] = [];
    const slow =
      (name: string, ms: number): Policy =>
      async (_i, next) => {
        await new Promise((r) => setTimeout(r, ms));
        seen.push(name);
        const d = await next();
        seen.push(`${name}:after`);
        return d;
      };
    assert.equal((await run([slow('a', 20), slow('b', 1), slow('c', 10)], input())).action, 'accept');
    assert.deepEqual(seen, ['a', 'b', 'c', 'c:after', 'b:after', 'a:after']);
  });

  test('a policy that throws rejects with error:', async () => {
    const broken: Policy = () => {
      throw new Error('boom');
    };
    assertReject(await run([broken, ...standardPolicies(DEFAULTS)], input()), 'error');
  });

  test('the end of the chain accepts', async () => {
    assert.deepEqual(await run([], input()), { action: 'accept' });
  });
});
