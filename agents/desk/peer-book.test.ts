import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { MemoryLogger } from '../../core/logger.ts';
import type { EventTemplate, NostrEvent } from '../../core/nostr.ts';
import { buildHandlerInfo } from '../../dvm/announcement.ts';
import { buildHeartbeat } from '../../dvm/coordination.ts';
import { buildDeskAnnouncement, DESK_D_TAG } from '../../dvm/desk-announcement.ts';
import { buildDvmHeartbeat } from '../../dvm/dvm-heartbeat.ts';
import { generateLocalSigner, type LocalSigner } from '../../identity/signer.ts';
import { PeerBook, type PeerBookOptions } from './peer-book.ts';

const RELAY = 'ws://127.0.0.1:4848';
const TIMEOUT = 35_000;

function book(over: Partial<PeerBookOptions> = {}) {
  const clock = new ClockAt();
  const logger = new MemoryLogger();
  const b = new PeerBook({
    relay: RELAY,
    clock,
    logger,
    agentTimeoutMs: TIMEOUT,
    maxDesks: 1000,
    maxAgents: 1000,
    maxTags: 2100,
    ...over,
  });
  const reasons = () =>
    logger.records
      .filter((r) => r.level === 'debug' && r.fields.reason !== undefined)
      .map((r) => String(r.fields.reason));
  return { b, clock, reasons };
}

class ClockAt extends ManualClock {
  constructor() {
    super(1_750_000_000_000);
  }
  get seconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

const sign = (s: LocalSigner, t: EventTemplate): Promise<NostrEvent> => s.signEvent(t);
const deskEvent = (s: LocalSigner, agents: string[], at: number, kinds = [5050]) =>
  sign(s, buildDeskAnnouncement({ kinds, agents, relays: [RELAY], name: 'Peer', createdAt: at }));
const infoEvent = (s: LocalSigner, name: string, at: number, kinds = [5050], msats = 7000) =>
  sign(
    s,
    buildHandlerInfo({
      d: `timmy-${name}`,
      kinds,
      metadata: { name: name.toUpperCase() },
      pricing: kinds.map((kind) => ({ kind, msats })),
      createdAt: at,
    }),
  );
const beatEvent = (s: LocalSigner, at: number, load = 0, kinds = [5050]) =>
  sign(s, buildHeartbeat({ kinds, load, createdAt: at }));

test('a peer desk, its agents, their kinds and prices, alive while they beat', async () => {
  const { b, clock } = book();
  const desk = generateLocalSigner();
  const quill = generateLocalSigner();
  const idle = generateLocalSigner();
  assert.equal(b.apply(await deskEvent(desk, [quill.pubkey, idle.pubkey], clock.seconds)), 'roster');
  assert.deepEqual(b.agentPubkeys().sort(), [quill.pubkey, idle.pubkey].sort());
  assert.equal(b.apply(await infoEvent(quill, 'quill', clock.seconds, [5050, 5001])), 'changed');
  assert.equal(b.apply(await beatEvent(quill, clock.seconds, 2)), 'changed');
  assert.equal(b.apply(await beatEvent(quill, clock.seconds, 3)), 'unchanged', 'another beat: no news');
  const [d] = b.desks();
  assert.equal(d?.pubkey, desk.pubkey);
  assert.equal(d?.name, 'Peer');
  assert.deepEqual(d?.kinds, [5050]);
  assert.equal(d?.lastSeen, clock.now());
  const q = b.agents().find((a) => a.pubkey === quill.pubkey);
  assert.equal(q?.name, 'quill@127.0.0.1:4848');
  assert.equal(q?.desk, desk.pubkey);
  assert.equal(q?.relay, RELAY);
  assert.deepEqual(q?.kinds, [5001, 5050]);
  assert.deepEqual(
    [...(q?.prices ?? [])],
    [
      [5050, 7000],
      [5001, 7000],
    ],
  );
  assert.equal(q?.alive, true);
  assert.equal(q?.load, 3);
  assert.equal(q?.lastBeatAt, clock.now());
  const i = b.agents().find((a) => a.pubkey === idle.pubkey);
  assert.equal(i?.alive, false, 'never beat');
  assert.equal(i?.name, `${idle.pubkey.slice(0, 8)}@127.0.0.1:4848`, 'no announcement yet');

  clock.advance(TIMEOUT);
  assert.equal(b.agents().find((a) => a.pubkey === quill.pubkey)?.alive, false, 'its heartbeats lapsed');
  assert.equal(b.apply(await beatEvent(quill, clock.seconds)), 'changed', 'alive again');
  assert.equal(b.agents().find((a) => a.pubkey === quill.pubkey)?.alive, true);
});

test('a newer desk announcement replaces the roster; an older one changes nothing', async () => {
  const { b, clock } = book();
  const desk = generateLocalSigner();
  const [x, y] = [generateLocalSigner(), generateLocalSigner()];
  b.apply(await deskEvent(desk, [x.pubkey], clock.seconds));
  b.apply(await infoEvent(x, 'x', clock.seconds));
  assert.equal(b.apply(await deskEvent(desk, [y.pubkey], clock.seconds - 10)), 'unchanged');
  assert.equal(b.apply(await deskEvent(desk, [y.pubkey], clock.seconds + 1)), 'roster');
  assert.deepEqual(
    b.agents().map((a) => a.pubkey),
    [y.pubkey],
  );
  assert.equal(b.apply(await beatEvent(x, clock.seconds)), 'unchanged', 'x left the roster');
  assert.equal(b.apply(await deskEvent(desk, [y.pubkey], clock.seconds + 2, [5050, 5002])), 'changed');
  assert.deepEqual(b.desks()[0]?.kinds, [5050, 5002]);
});

test('its own desk, strangers on a trusted-only setup, and unknown authors are ignored with a reason', async () => {
  const self = generateLocalSigner();
  const friend = generateLocalSigner();
  const stranger = generateLocalSigner();
  const agent = generateLocalSigner();
  const { b, clock, reasons } = book({ self: self.pubkey, trusted: new Set([friend.pubkey, self.pubkey]) });
  assert.equal(b.apply(await deskEvent(self, [agent.pubkey], clock.seconds)), 'unchanged');
  assert.equal(b.apply(await deskEvent(stranger, [agent.pubkey], clock.seconds)), 'unchanged');
  assert.equal(b.apply(await infoEvent(agent, 'a', clock.seconds)), 'unchanged');
  assert.equal(b.apply(await beatEvent(agent, clock.seconds)), 'unchanged');
  assert.deepEqual(b.desks(), []);
  assert.deepEqual(b.agents(), []);
  assert.deepEqual(reasons(), [
    'our own desk',
    'not a trusted desk',
    'not an agent of a followed desk',
    'not an agent of a followed desk',
  ]);
  assert.equal(b.apply(await deskEvent(friend, [agent.pubkey], clock.seconds)), 'roster');
});

test('malformed events, stale heartbeats and huge events are ignored with a reason', async () => {
  const { b, clock, reasons } = book({ maxTags: 50 });
  const desk = generateLocalSigner();
  const agent = generateLocalSigner();
  const bad = (s: LocalSigner, kind: number, tags: string[][], content = '') =>
    sign(s, { kind, created_at: clock.seconds, tags, content });
  b.apply(
    await bad(
      desk,
      31990,
      [
        ['d', DESK_D_TAG],
        ['p', 'not-a-pubkey'],
      ],
      '{}',
    ),
  );
  b.apply(await bad(desk, 31990, [['d', DESK_D_TAG], ...Array.from({ length: 60 }, () => ['t', 'x'])], '{}'));
  assert.deepEqual(b.desks(), []);
  b.apply(await deskEvent(desk, [agent.pubkey], clock.seconds));
  b.apply(
    await bad(
      agent,
      31990,
      [
        ['d', 'timmy-a'],
        ['k', 'five'],
      ],
      '{}',
    ),
  );
  b.apply(await bad(agent, 31990, [['d', 'timmy-a']], 'x'.repeat(20_000)));
  b.apply(await bad(agent, 20600, [['k', '5050']]));
  b.apply(await beatEvent(agent, clock.seconds - 60));
  b.apply(await bad(agent, 1, []));
  assert.equal(b.agents()[0]?.alive, false);
  assert.deepEqual(b.agents()[0]?.kinds, []);
  const r = reasons();
  assert.match(r[0] ?? '', /^malformed: .*p tag/);
  assert.match(r[1] ?? '', /61 tags, more than 50/);
  assert.match(r[2] ?? '', /^malformed: .*k tag/);
  assert.match(r[3] ?? '', /content of 20000 characters/);
  assert.match(r[4] ?? '', /^malformed: .*load/);
  assert.equal(r[5], 'a stale heartbeat');
  assert.equal(r[6], 'kind 1 is not followed');
});

test('bounded: desks per relay, agents per relay, announcements per agent', async () => {
  const { b, clock, reasons } = book({ maxDesks: 3, maxAgents: 5 });
  const agents = Array.from({ length: 6 }, () => generateLocalSigner().pubkey);
  const desks = Array.from({ length: 4 }, () => generateLocalSigner());
  for (const [i, d] of desks.entries()) b.apply(await deskEvent(d, [agents[i] as string], clock.seconds));
  assert.equal(b.desks().length, 3);
  assert.equal(reasons().at(-1), 'already 3 desks on this relay');
  const first = desks[0] as LocalSigner;
  assert.equal(b.apply(await deskEvent(first, agents, clock.seconds + 1)), 'unchanged');
  assert.match(reasons().at(-1) ?? '', /past 5 agents/);
  assert.equal(
    b.apply(await deskEvent(first, [agents[0], agents[3], agents[4]] as string[], clock.seconds + 1)),
    'roster',
  );
  assert.equal(b.agents().length, 5);

  const agent = generateLocalSigner();
  const { b: b2, clock: c2, reasons: r2 } = book();
  b2.apply(await deskEvent(generateLocalSigner(), [agent.pubkey], c2.seconds));
  for (let i = 0; i < 10; i++) b2.apply(await infoEvent(agent, `n${i}`, c2.seconds, [5000 + i]));
  assert.equal(b2.agents()[0]?.kinds.length, 8);
  assert.equal(r2().at(-1), 'too many announcements from one agent');
});

test('a stored heartbeat (kind 11998) is the last known sign of life; an expired one is ignored', async () => {
  const { b, clock, reasons } = book();
  const desk = generateLocalSigner();
  const agent = generateLocalSigner();
  b.apply(await deskEvent(desk, [agent.pubkey], clock.seconds));
  const dvmBeat = (at: number, intervalSeconds = 300, load = 1) =>
    sign(agent, buildDvmHeartbeat({ d: 'timmy-a', intervalSeconds, load, capacity: 4, createdAt: at }));
  assert.equal(b.apply(await dvmBeat(clock.seconds - 700)), 'unchanged');
  assert.equal(reasons().at(-1), 'an expired DVM heartbeat');
  assert.equal(b.apply(await dvmBeat(clock.seconds - 100)), 'changed');
  let a = b.agents()[0];
  assert.equal(a?.lastBeatAt, (clock.seconds - 100) * 1000);
  assert.equal(a?.alive, false, 'known, but older than the agent timeout');
  assert.equal(a?.load, 1);
  assert.equal(b.apply(await dvmBeat(clock.seconds - 10, 300, 2)), 'changed');
  a = b.agents()[0];
  assert.equal(a?.alive, true, 'dated within the agent timeout');
  assert.equal(a?.load, 2);
  assert.equal(b.apply(await dvmBeat(clock.seconds - 50)), 'unchanged', 'an older one changes nothing');
  b.apply(await beatEvent(agent, clock.seconds, 3));
  assert.equal(b.agents()[0]?.lastBeatAt, clock.now(), 'a live beat is newer');
  assert.equal(b.agents()[0]?.load, 3);
});
