import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import type { SwarmSnapshot } from '../../api-types.ts';
import { SwarmGraph } from './graph-model.ts';
import { readSwarmEvent, swarmFilters } from './swarm-events.ts';

const desk = generateSecretKey();
const agent = generateSecretKey();
const customer = generateSecretKey();
const peer = generateSecretKey();
const DESK = getPublicKey(desk);
const AGENT = getPublicKey(agent);
const CUSTOMER = getPublicKey(customer);
const PEER = getPublicKey(peer);

function signed(key: Uint8Array, kind: number, tags: string[][], content = '') {
  return finalizeEvent({ kind, tags, content, created_at: Math.floor(Date.now() / 1000) }, key);
}

function apply(g: SwarmGraph, e: ReturnType<typeof signed>, now: number) {
  const ev = readSwarmEvent(e);
  assert.ok(ev, `kind ${e.kind} is read`);
  return g.apply(ev, now);
}

const snapshot: SwarmSnapshot = {
  nodes: [
    { id: DESK, type: 'desk', label: 'timmy', score: 50, state: 'alive' },
    { id: AGENT, type: 'agent', label: '<img src=x onerror=alert(1)>', score: 80, state: 'alive' },
  ],
  edges: [{ source: DESK, target: AGENT, type: 'assignment' }],
};

test('a snapshot loads as nodes and edges; the desk is home; structure edges never fade', () => {
  const g = new SwarmGraph();
  g.load(snapshot, 1000);
  assert.equal(g.home, DESK);
  assert.equal(g.nodes.size, 2);
  const c = g.compile();
  assert.equal(c.edges.length, 1);
  assert.equal(c.nodes[c.source[0] ?? -1]?.id, DESK);
  assert.equal(c.nodes[c.target[0] ?? -1]?.id, AGENT);
  g.prune(1000 + 60 * 60_000);
  assert.equal(g.edges.size, 1, 'the desk-agent structure edge stays');
  assert.equal(g.compile(), g.compile(), 'compile is cached until the structure changes');
});

test("a job's life adds a customer, job, assignment and payment edges that pulse, then fade and go", () => {
  const g = new SwarmGraph({ edgeTtlMs: 60_000, pulseMs: 3000 });
  g.load(snapshot, 0);
  const t = 10_000;
  const request = signed(customer, 5050, [['i', 'hi', 'text']]);
  const change = apply(g, request, t);
  assert.equal(change?.href, `/jobs/${request.id}`);
  assert.equal(g.nodes.get(CUSTOMER)?.type, 'customer');
  const jobEdge = g.edges.get(`job|${CUSTOMER}|${DESK}`);
  assert.equal(jobEdge?.job, request.id);
  assert.ok(g.pulse(jobEdge, t + 100) >= 0, 'pulsing just after the event');
  assert.equal(g.pulse(jobEdge, t + 3500), -1, 'no longer pulsing after pulseMs');

  apply(
    g,
    signed(desk, 7600, [
      ['e', request.id],
      ['p', AGENT],
      ['attempt', '1'],
      ['customer', CUSTOMER],
    ]),
    t + 1000,
  );
  assert.equal(g.nodes.get(AGENT)?.state, 'busy');
  assert.equal(g.edges.get(`assignment|${DESK}|${AGENT}`)?.job, request.id);

  apply(
    g,
    signed(desk, 7000, [
      ['status', 'payment-required'],
      ['e', request.id],
      ['p', CUSTOMER],
      ['amount', '1000'],
    ]),
    t + 1100,
  );
  assert.ok(g.edges.has(`payment|${CUSTOMER}|${DESK}`));

  apply(
    g,
    signed(
      agent,
      6050,
      [
        ['e', request.id],
        ['p', CUSTOMER],
        ['amount', '1000'],
      ],
      'hello',
    ),
    t + 2000,
  );
  assert.equal(g.nodes.get(AGENT)?.state, 'alive', 'a result frees the agent');
  assert.ok(g.edges.has(`payment|${DESK}|${AGENT}`), 'the desk pays the agent');

  const v = g.version;
  g.prune(t + 30_000);
  assert.equal(g.version, v, 'nothing dropped before the TTL');
  assert.ok(g.edgeAlpha(jobEdge, t + 30_000) < 1, 'fading');
  g.prune(t + 2000 + 61_000);
  assert.equal(g.edges.size, 1, 'only the structure edge is left');
  assert.equal(g.nodes.has(CUSTOMER), false, 'the customer without edges left too');
});

test('auctions, failures, labels, heartbeats and forwards', () => {
  const g = new SwarmGraph({ deadAfterMs: 30_000 });
  g.load(snapshot, 0);
  const job = signed(customer, 5001, []).id;
  const open = apply(
    g,
    signed(desk, 7610, [
      ['e', job],
      ['k', '5001'],
      ['deadline', '1'],
      ['p', CUSTOMER],
      ['bidder', AGENT],
    ]),
    1,
  );
  assert.match(open?.text ?? '', /auction opened/);
  apply(
    g,
    signed(agent, 7611, [
      ['e', 'a'.repeat(64)],
      ['job', job],
      ['commitment', 'b'.repeat(64)],
      ['prev', 'a'.repeat(64)],
    ]),
    2,
  );
  assert.ok(g.edges.has(`bid|${AGENT}|${DESK}`));
  const record = apply(
    g,
    signed(desk, 7613, [
      ['e', 'a'.repeat(64)],
      ['job', job],
      ['winner', AGENT, '900'],
      ['price', '2000'],
    ]),
    3,
  );
  assert.match(record?.text ?? '', /won job .* at 2 sats/);
  apply(
    g,
    signed(agent, 7000, [
      ['status', 'error', 'boom'],
      ['e', job],
      ['p', CUSTOMER],
    ]),
    4,
  );
  assert.equal(g.edges.get(`assignment|${DESK}|${AGENT}`)?.failed, true);
  apply(
    g,
    signed(desk, 1985, [
      ['L', 'ai.wot'],
      ['l', 'work-completed', 'ai.wot'],
      ['p', AGENT],
      ['payment', 'lnbc1', 'ff'],
      ['e', job, '', 'request'],
    ]),
    5,
  );
  assert.equal(g.edges.get(`payment|${DESK}|${AGENT}`)?.job, job);

  const beat = apply(
    g,
    signed(peer, 20600, [
      ['k', '5001'],
      ['load', '1'],
    ]),
    10,
  );
  assert.match(beat?.text ?? '', /is alive/);
  assert.equal(g.nodes.get(PEER)?.state, 'busy');
  assert.equal(apply(g, signed(peer, 20600, [['load', '0']]), 20), undefined, 'a routine beat is not news');
  assert.equal(g.nodes.get(PEER)?.state, 'alive');
  g.prune(20 + 31_000);
  assert.equal(g.nodes.get(PEER)?.state, 'dead', 'no beat for deadAfterMs');
  apply(g, signed(peer, 11998, [['d', 'x']], '{"status":"busy"}'), 40_000);
  assert.equal(g.nodes.get(PEER)?.state, 'busy');

  const fwd = signed(
    desk,
    7620,
    [
      ['e', job],
      ['p', PEER],
      ['hops', '2'],
    ],
    '{}',
  );
  apply(g, fwd, 41_000);
  assert.equal(g.nodes.get(PEER)?.type, 'agent', 'an agent seen first stays what it was');
  assert.ok(g.edges.has(`federation|${DESK}|${PEER}`));
});

test('events the graph cannot use are skipped, never thrown on', () => {
  assert.equal(
    readSwarmEvent(
      signed(agent, 7000, [
        ['status', 'nonsense'],
        ['e', 'a'.repeat(64)],
      ]),
    ),
    undefined,
  );
  assert.equal(readSwarmEvent(signed(agent, 7600, [['e', 'not hex']])), undefined);
  assert.equal(
    readSwarmEvent(
      signed(agent, 1985, [
        ['L', 'other'],
        ['p', AGENT],
      ]),
    ),
    undefined,
  );
  assert.equal(readSwarmEvent(signed(agent, 1, [])), undefined);
  const filters = swarmFilters(100);
  assert.ok(filters.every((f) => f.since === 100));
  assert.ok(filters.flatMap((f) => f.kinds).includes(5050));
  assert.ok(filters.flatMap((f) => f.kinds).length < 100, 'a handful of filter values, not every kind');
});

test('bounded: beyond maxNodes the least recently seen go, customers first, the home desk never', () => {
  const g = new SwarmGraph({ maxNodes: 20 });
  g.load(snapshot, 0);
  for (let i = 0; i < 60; i++) apply(g, signed(generateSecretKey(), 5050, []), 100 + i);
  assert.ok(g.nodes.size <= 20, `${g.nodes.size} nodes`);
  assert.ok(g.nodes.has(DESK));
  assert.ok(g.nodes.has(AGENT), 'customers went first');
  for (const e of g.edges.values())
    assert.ok(g.nodes.has(e.source) && g.nodes.has(e.target), 'no dangling edge');
});
