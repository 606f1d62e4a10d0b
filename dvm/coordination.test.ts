import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NostrEvent } from '../core/nostr.ts';
import { isEphemeralKind, isReplaceableKind } from '../core/nostr.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import {
  buildAssignment,
  buildHeartbeat,
  CoordinationError,
  parseAssignment,
  parseHeartbeat,
} from './coordination.ts';
import { ASSIGNMENT_KIND, DvmEventError, HEARTBEAT_KIND } from './kinds.ts';
import { buildJobRequest } from './request.ts';

const coordinator = generateLocalSigner();
const agent = generateLocalSigner();
const customer = generateLocalSigner();
const T = 1_700_000_000;
const request = await customer.signEvent(
  buildJobRequest({ kind: 5050, inputs: [{ data: 'prompt', type: 'text' }], createdAt: T }),
);
const signed = (kind: number, tags: string[][]): Promise<NostrEvent> =>
  agent.signEvent({ kind, created_at: T, tags, content: '' });

function rejects(event: NostrEvent, parse: (e: NostrEvent) => unknown, re: RegExp): void {
  assert.throws(
    () => parse(event),
    (err: unknown) =>
      err instanceof CoordinationError && err instanceof DvmEventError && re.test(err.message),
  );
}

describe('assignment (kind 7600)', () => {
  test('a regular kind; the tags', () => {
    assert.ok(!isEphemeralKind(ASSIGNMENT_KIND) && !isReplaceableKind(ASSIGNMENT_KIND));
    const t = buildAssignment({ request, agent: agent.pubkey, attempt: 1, createdAt: T });
    assert.equal(t.kind, 7600);
    assert.equal(t.content, '');
    assert.deepEqual(t.tags, [
      ['e', request.id],
      ['p', agent.pubkey],
      ['k', '5050'],
      ['attempt', '1'],
      ['customer', customer.pubkey],
    ]);
  });

  test('round trip', async () => {
    const e = await coordinator.signEvent(
      buildAssignment({ request, agent: agent.pubkey, attempt: 2, createdAt: T }),
    );
    assert.deepEqual(parseAssignment(e), {
      coordinator: coordinator.pubkey,
      requestId: request.id,
      agent: agent.pubkey,
      kind: 5050,
      attempt: 2,
      customer: customer.pubkey,
      createdAt: T,
    });
  });

  test('the builder rejects a bad agent, kind or attempt', () => {
    assert.throws(() => buildAssignment({ request, agent: 'npub1', attempt: 1 }), /agent/);
    assert.throws(
      () => buildAssignment({ request: { ...request, kind: 1 }, agent: agent.pubkey, attempt: 1 }),
      /kind 1/,
    );
    assert.throws(() => buildAssignment({ request, agent: agent.pubkey, attempt: -1 }), /attempt/);
    assert.throws(() => buildAssignment({ request, agent: agent.pubkey, attempt: 1.5 }), /attempt/);
  });

  const good = (): string[][] => [
    ['e', request.id],
    ['p', agent.pubkey],
    ['k', '5050'],
    ['attempt', '1'],
    ['customer', customer.pubkey],
  ];
  const without = (name: string): string[][] => good().filter((t) => t[0] !== name);
  const bad: [string, number, string[][], RegExp][] = [
    ['another kind', 7000, good(), /kind 7000 is not an assignment/],
    ['no e tag', ASSIGNMENT_KIND, without('e'), /e tag must hold the job request id/],
    ['no p tag', ASSIGNMENT_KIND, without('p'), /p tag must hold the agent's pubkey/],
    ['no customer tag', ASSIGNMENT_KIND, without('customer'), /customer tag must hold the customer's pubkey/],
    ['no k tag', ASSIGNMENT_KIND, without('k'), /k tag must hold a job request kind/],
    [
      'a k tag out of range',
      ASSIGNMENT_KIND,
      [...without('k'), ['k', '1']],
      /k tag must hold a job request kind, got "1"/,
    ],
    ['no attempt tag', ASSIGNMENT_KIND, without('attempt'), /attempt tag must hold a non-negative integer/],
    ['a bad attempt', ASSIGNMENT_KIND, [...without('attempt'), ['attempt', 'two']], /got "two"/],
  ];
  for (const [name, kind, tags, re] of bad)
    test(`rejects ${name}`, async () => {
      rejects(await signed(kind, tags), parseAssignment, re);
    });
});

describe('heartbeat (kind 20600)', () => {
  test('an ephemeral kind; the tags', () => {
    assert.ok(isEphemeralKind(HEARTBEAT_KIND));
    const t = buildHeartbeat({
      kinds: [5001, 5000, 5001],
      load: 1,
      capacity: 4,
      version: '0.1.0',
      createdAt: T,
    });
    assert.equal(t.kind, 20600);
    assert.deepEqual(t.tags, [
      ['k', '5001'],
      ['k', '5000'],
      ['load', '1'],
      ['capacity', '4'],
      ['version', '0.1.0'],
    ]);
  });

  test('round trip, full and minimal', async () => {
    const full = parseHeartbeat(
      await agent.signEvent(
        buildHeartbeat({ kinds: [5700], load: 0, capacity: 2, version: 'v', createdAt: T }),
      ),
    );
    assert.deepEqual(full, {
      pubkey: agent.pubkey,
      kinds: [5700],
      load: 0,
      capacity: 2,
      version: 'v',
      at: T,
    });
    const min = parseHeartbeat(await agent.signEvent(buildHeartbeat({ kinds: [], load: 3, createdAt: T })));
    assert.deepEqual(min, {
      pubkey: agent.pubkey,
      kinds: [],
      load: 3,
      capacity: undefined,
      version: '',
      at: T,
    });
  });

  test('the builder rejects a bad kind, load or capacity', () => {
    assert.throws(() => buildHeartbeat({ kinds: [1], load: 0 }), /kind 1/);
    assert.throws(() => buildHeartbeat({ kinds: [], load: -1 }), /load/);
    assert.throws(() => buildHeartbeat({ kinds: [], load: 0.5 }), /load/);
    assert.throws(() => buildHeartbeat({ kinds: [], load: 0, capacity: Number.NaN }), /capacity/);
  });

  const bad: [string, number, string[][], RegExp][] = [
    ['another kind', 20601, [['load', '0']], /kind 20601 is not a heartbeat/],
    ['no load', HEARTBEAT_KIND, [['k', '5001']], /needs a load tag/],
    [
      'a bad load',
      HEARTBEAT_KIND,
      [['load', 'high']],
      /load tag must hold a non-negative integer, got "high"/,
    ],
    [
      'a bad capacity',
      HEARTBEAT_KIND,
      [
        ['load', '0'],
        ['capacity', '-2'],
      ],
      /capacity tag/,
    ],
    [
      'a k tag that is not a job kind',
      HEARTBEAT_KIND,
      [
        ['load', '0'],
        ['k', '7000'],
      ],
      /k tag must hold a job request kind/,
    ],
  ];
  for (const [name, kind, tags, re] of bad)
    test(`rejects ${name}`, async () => {
      rejects(await signed(kind, tags), parseHeartbeat, re);
    });
});
