import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { MemoryLogger } from '../../core/logger.ts';
import { RelayClient } from '../../relay/client.ts';
import { MemoryEventStore } from '../../relay/memory-store.ts';
import { RelayServer } from '../../relay/server.ts';
import { closedPort, FakePeer } from '../../testkit/fake-peer.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { untilAsync } from '../../testkit/until-async.ts';
import { PeerDirectory, type PeerDirectoryOptions } from './peers.ts';

const TIMEOUT = 35_000;
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function relay(): Promise<TestRelay> {
  const r = await startTestRelay();
  cleanups.push(() => r.close());
  return r;
}

/** A relay on a given port (to bring a dead peer up, or back). */
async function relayOn(port: number): Promise<{ url: string; close(): Promise<void> }> {
  const store = new MemoryEventStore();
  const server = new RelayServer({
    logger: new MemoryLogger(),
    info: { name: 'peer', description: 'a peer relay' },
    store,
  });
  const url = await server.listen(port);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
    await store.close();
  };
  cleanups.push(close);
  return { url, close };
}

function peer(url: string, names: string[], clock?: ManualClock, name?: string): FakePeer {
  const p = new FakePeer(
    url,
    names.map((n) => ({ name: n, kinds: [5050], priceMsats: 3000 })),
    clock,
    name,
  );
  cleanups.push(() => p.close());
  return p;
}

function directory(over: Partial<PeerDirectoryOptions> & Pick<PeerDirectoryOptions, 'peers'>) {
  const logger = new MemoryLogger();
  const clock = new ManualClock(Date.now());
  const dir = new PeerDirectory({
    connect: (url) => new RelayClient({ url, logger, connectTimeoutMs: 5000 }),
    clock,
    logger,
    agentTimeoutMs: TIMEOUT,
    retryMs: 50,
    maxRetryMs: 200,
    ...over,
  });
  cleanups.push(() => dir.stop());
  return { dir, logger, clock: (over.clock as ManualClock | undefined) ?? clock };
}

const alive = (dir: PeerDirectory, name: string) =>
  dir.agents().find((a) => a.name.startsWith(`${name}@`))?.alive;

test('desks and agents of two peer relays, beside a dead one that is reported and does not stall them', async () => {
  const [a, b] = [await relay(), await relay()];
  const dead = `ws://127.0.0.1:${await closedPort()}`;
  const pa = peer(a.url, ['quill', 'echo'], undefined, 'Desk A');
  const pb = peer(b.url, ['seer']);
  await pa.announce();
  await pb.announce();
  const { dir, logger } = directory({ peers: [a.url, dead, b.url, `${a.url}/`] });
  let changes = 0;
  dir.onChange(() => changes++);
  dir.start();
  await until(() => dir.settled(), 20_000, 'every peer relay answered or failed');
  assert.deepEqual(
    dir.relayStatus().map((s) => [s.url, s.state, s.answered]),
    [
      [a.url, 'open', true],
      [dead, 'unreachable', false],
      [b.url, 'open', true],
    ],
    'the repeated relay is followed once',
  );
  assert.match(dir.relayStatus()[1]?.error ?? '', /connection failed|ECONNREFUSED/);
  assert.ok(logger.records.some((r) => r.level === 'warn' && r.fields.peerRelay === dead));
  assert.deepEqual(
    dir.desks().map((d) => [d.pubkey, d.name, d.relay, d.kinds, d.agents.length]),
    [
      [pa.desk.pubkey, 'Desk A', a.url, [5050], 2],
      [pb.desk.pubkey, 'Peer desk', b.url, [5050], 1],
    ],
  );
  await until(() => dir.agents().length === 3 && dir.agents().every((x) => x.kinds.length > 0), 20_000);
  assert.equal(alive(dir, 'quill'), false, 'no heartbeat yet');

  await pa.beat(['quill'], 2);
  await pb.beat(['seer']);
  await until(() => alive(dir, 'quill') === true && alive(dir, 'seer') === true, 20_000, 'heartbeats');
  const quill = dir.agents().find((x) => x.pubkey === pa.pubkeyOf('quill'));
  const host = new URL(a.url).host;
  assert.equal(quill?.name, `quill@${host}`);
  assert.equal(quill?.desk, pa.desk.pubkey);
  assert.equal(quill?.load, 2);
  assert.deepEqual([...(quill?.prices ?? [])], [[5050, 3000]]);
  assert.equal(alive(dir, 'echo'), false);
  assert.ok(changes > 0);
});

test('a peer relay down at start is retried with backoff and followed once it is up', async () => {
  const port = await closedPort();
  const url = `ws://127.0.0.1:${port}`;
  const { dir, logger } = directory({ peers: [url] });
  dir.start();
  await until(() => (dir.relayStatus()[0]?.failures ?? 0) >= 3, 20_000, 'a few failed tries');
  assert.equal(dir.relayStatus()[0]?.state, 'unreachable');
  const warnings = logger.records.filter((r) => r.level === 'warn' && r.fields.peerRelay === url);
  assert.equal(warnings.length, 1, 'warned once, then quietly retried');
  const delays = logger.records.filter((r) => r.fields.peerRelay === url).map((r) => r.fields.retryInMs);
  assert.deepEqual(delays.slice(0, 3), [50, 100, 200]);

  await relayOn(port);
  const p = peer(url, ['lyra']);
  await p.announce();
  await until(() => dir.desks().length === 1, 20_000, 'the desk once the relay is up');
  assert.equal(dir.relayStatus()[0]?.state, 'open');
  assert.equal(dir.relayStatus()[0]?.failures, 0);
});

test('a peer relay killed later: nothing throws, its agents lapse, and they are back when it is', async () => {
  const port = await closedPort();
  const clock = new ManualClock(Date.now());
  const first = await relayOn(port);
  const p = peer(first.url, ['forge'], clock);
  await p.announce();
  const { dir } = directory({ peers: [first.url], clock });
  dir.start();
  await until(() => dir.settled() && dir.agents().length === 1, 20_000);
  await p.beat();
  await until(() => alive(dir, 'forge') === true, 20_000, 'the first beat');

  await first.close();
  clock.advance(TIMEOUT);
  assert.equal(alive(dir, 'forge'), false, 'lapsed while its relay is gone');
  assert.equal(dir.desks().length, 1, 'what was learnt is kept');

  // The relay back on its port (empty: the agent's heartbeats are live events anyway): the directory's
  // connection comes back by itself and hears the agent again.
  await relayOn(port);
  await untilAsync(
    async () => {
      await p.beat().catch(() => {});
      return alive(dir, 'forge') === true;
    },
    60_000,
    'the agent beating again once its relay is back',
  );
  assert.equal(dir.relayStatus()[0]?.state, 'open');
});

test('only trusted desks, never our own', async () => {
  const r = await relay();
  const [mine, friend, stranger] = [peer(r.url, ['a']), peer(r.url, ['b']), peer(r.url, ['c'])];
  for (const p of [mine, friend, stranger]) await p.announce();
  const { dir } = directory({
    peers: [r.url],
    self: mine.desk.pubkey,
    trustedDesks: [friend.desk.pubkey, mine.desk.pubkey],
  });
  dir.start();
  await until(() => dir.settled(), 20_000);
  assert.deepEqual(
    dir.desks().map((d) => d.pubkey),
    [friend.desk.pubkey],
  );
  await until(() => dir.agents().length === 1 && dir.agents()[0]?.kinds.length === 1, 20_000);
  assert.equal(dir.agents()[0]?.pubkey, friend.pubkeyOf('b'));
});

test('a roster that changes live is followed: the new agent is asked for and heard', async () => {
  const r = await relay();
  const p = peer(r.url, ['one', 'two']);
  await p.announce([p.pubkeyOf('one')]);
  const { dir } = directory({ peers: [r.url] });
  dir.start();
  await until(() => dir.settled() && dir.agents().length === 1, 20_000);
  await p.announce();
  await until(() => dir.agents().length === 2 && dir.settled(), 20_000, 'the second agent');
  await until(() => dir.agents().every((a) => a.kinds.length === 1), 20_000, 'its announcement');
  await p.beat(['two']);
  await until(() => alive(dir, 'two') === true, 20_000, 'its beat');
});

test('a peer relay added at run time is followed; removed, its connection closes and its desks and agents go', async () => {
  const [a, b] = [await relay(), await relay()];
  const pa = peer(a.url, ['first']);
  const pb = peer(b.url, ['later'], undefined, 'Desk B');
  await pa.announce();
  await pb.announce();
  const { dir, logger } = directory({ peers: [a.url] });
  let changes = 0;
  dir.onChange(() => changes++);
  dir.start();
  await until(() => dir.settled() && dir.agents().length === 1, 20_000, 'the configured peer');
  const connectionsOfB = b.server.stats().connections;

  const before = changes;
  assert.equal(dir.add(b.url), true);
  assert.equal(dir.add(`${b.url}/`), false, 'the same relay is followed once');
  assert.ok(changes > before, 'listeners are told at once');
  assert.equal(dir.has(b.url), true);
  await until(() => dir.settled() && dir.agents().length === 2, 20_000, 'the added peer followed');
  assert.deepEqual(
    dir.desks().map((d) => [d.name, d.relay]),
    [
      ['Peer desk', a.url],
      ['Desk B', b.url],
    ],
  );
  assert.equal(b.server.stats().connections, connectionsOfB + 1, 'one connection to the added relay');
  await pb.beat(['later']);
  await until(() => alive(dir, 'later') === true, 20_000, 'its agent beating');
  assert.ok(logger.records.some((r) => r.fields.peerRelay === b.url && /added at run time/.test(r.msg)));

  const beforeRemove = changes;
  assert.equal(dir.remove(`${b.url}/`), true, 'removed by any spelling of its URL');
  assert.ok(changes > beforeRemove, 'listeners are told (the roster drops its agents)');
  assert.equal(dir.has(b.url), false);
  assert.deepEqual(
    dir.desks().map((d) => d.relay),
    [a.url],
  );
  assert.deepEqual(
    dir.agents().map((x) => x.relay),
    [a.url],
  );
  assert.deepEqual(
    dir.relayStatus().map((s) => s.url),
    [a.url],
  );
  await until(() => b.server.stats().connections === connectionsOfB, 20_000, 'its connection closed');
  // The removed relay's new events reach nobody here: its connection is gone.
  const after = changes;
  await pb.beat(['later']);
  await pb.announce();
  assert.equal(changes, after);
  assert.equal(b.server.stats().connections, connectionsOfB);
  assert.equal(dir.remove(b.url), false, 'not followed any more');
  assert.equal(alive(dir, 'first'), false, 'the other peer is untouched (no beat yet)');
  await pa.beat(['first']);
  await until(() => alive(dir, 'first') === true, 20_000, 'the other peer still followed');
});

test('a peer added before start is followed at start', async () => {
  const r = await relay();
  const p = peer(r.url, ['early']);
  await p.announce();
  const { dir } = directory({ peers: [] });
  const connections = r.server.stats().connections;
  assert.equal(dir.add(r.url), true);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(r.server.stats().connections, connections, 'nothing connects before start');
  dir.start();
  await until(() => dir.settled() && dir.agents().length === 1, 20_000, 'followed once started');
});
