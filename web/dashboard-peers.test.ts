import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { PeerSet } from '../agents/desk/peer-set.ts';
import { PeerDirectory } from '../agents/desk/peers.ts';
import { systemClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { JobLog } from '../dvm/job-log.ts';
import { encodeNpub } from '../identity/nip19.ts';
import { buildNip98Header } from '../identity/nip98.ts';
import { LocalSigner } from '../identity/signer.ts';
import { RelayClient } from '../relay/client.ts';
import { loginToDashboard } from '../testkit/dashboard-login.ts';
import { closedPort, FakePeer } from '../testkit/fake-peer.ts';
import { until } from '../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../testkit/relay.ts';
import type { PeerList } from './api-types.ts';
import { AssetBundle } from './assets.ts';
import { DashboardApi } from './dashboard-api.ts';
import { DashboardSessions } from './dashboard-session.ts';
import { HttpServer } from './http-server.ts';

/**
 * Peers managed from the dashboard (POST /api/peers, /api/peers/remove) over the real pieces `timmy start`
 * wires: a PeerSet on a peers.json, a PeerDirectory following real relays, the API and its sessions.
 */

const ownerKey = generateSecretKey();
const strangerKey = generateSecretKey();
let dir = '';
let own: TestRelay;
let configured: TestRelay;
let other: TestRelay;
let fake: FakePeer;
const log = JobLog.open({ path: ':memory:' });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'timmy-dashboard-peers-'));
  [own, configured, other] = [await startTestRelay(), await startTestRelay(), await startTestRelay()];
  fake = new FakePeer(other.url, [{ name: 'lyra', kinds: [5050] }], systemClock, 'Desk O');
  await fake.announce();
});
after(async () => {
  fake.close();
  for (const r of [own, configured, other]) await r.close();
  log.close();
  await rm(dir, { recursive: true, force: true });
});

/** One start of the dashboard's side: what `startNetwork` and `startInstance` wire, on `<dir>/peers.json`. */
async function startApi(): Promise<{ base: string; directory: PeerDirectory; close(): Promise<void> }> {
  let base = '';
  const set = await PeerSet.open({
    file: join(dir, 'peers.json'),
    configured: [configured.url],
    ownRelays: () => [own.url, `${base.replace(/^http/, 'ws')}/relay`],
    logger: silentLogger,
  });
  const directory = new PeerDirectory({
    peers: set.all(),
    connect: (url) => new RelayClient({ url, logger: silentLogger, connectTimeoutMs: 5000 }),
    clock: systemClock,
    logger: silentLogger,
    agentTimeoutMs: 60_000,
    retryMs: 50,
    maxRetryMs: 200,
  });
  directory.start();
  set.onChange((c) => {
    if (c.type === 'added') directory.add(c.url);
    else directory.remove(c.url);
  });
  const server = new HttpServer({
    logger: silentLogger,
    view: () => ({
      name: 't',
      version: '0',
      startedAt: 0,
      relayUrl: own.url,
      httpUrl: '',
      domain: 'localhost',
      agents: [],
      peers: [],
      llm: [],
    }),
    nostrJson: () => ({}),
    dashboard: {
      api: new DashboardApi({
        sources: {
          log,
          coordinator: 'ab'.repeat(32),
          agents: () => [],
          peerAgents: () =>
            directory.agents().map((a) => ({
              name: a.name,
              pubkey: a.pubkey,
              desk: a.desk,
              relay: a.relay,
              kinds: a.kinds,
              alive: a.alive,
              onRoster: false,
              score: 50,
            })),
          peers: directory,
          peerAdmin: set,
          reputation: {
            score: () => {
              throw new Error('unused');
            },
          },
          llm: () => [],
          testSats: false,
        },
        sessions: new DashboardSessions({
          owners: [encodeNpub(getPublicKey(ownerKey))],
          sessionSeconds: 600,
          maxSessions: 10,
          challengesPerMinute: 100,
          logger: silentLogger,
        }),
        logger: silentLogger,
      }),
      assets: new AssetBundle({ logger: silentLogger, entries: {}, extras: async () => ({}) }),
    },
  });
  base = await server.listen(0);
  return {
    base,
    directory,
    close: async () => {
      await server.close();
      directory.stop();
    },
  };
}

async function login(base: string, key: Uint8Array): Promise<Record<string, string>> {
  return (await loginToDashboard(base, key)).headers;
}

const post = (base: string, path: string, headers: Record<string, string>, body: unknown) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const relays = (list: PeerList) => list.relays.map((r) => [r.url, r.added]);

test('an owner adds and removes peer relays; they persist across a restart of the API', async () => {
  const first = await startApi();
  const owner = await login(first.base, ownerKey);
  let res = await post(first.base, '/api/peers', owner, { url: ` ${other.url} ` });
  assert.equal(res.status, 200, await res.clone().text());
  let list = (await res.json()) as PeerList;
  assert.deepEqual(relays(list), [
    [configured.url, false],
    [other.url, true],
  ]);
  assert.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS on writes');
  // The directory follows the new relay at once: its desk and agent appear, no restart.
  await until(
    () => first.directory.desks().some((d) => d.name === 'Desk O') && first.directory.agents().length === 1,
    20_000,
    "the added peer's desk and agent",
  );
  list = (await (await fetch(`${first.base}/api/peers`)).json()) as PeerList;
  assert.equal(list.relays.find((r) => r.url === other.url)?.connected, true);
  assert.deepEqual(
    list.agents.map((a) => [a.pubkey, a.relay]),
    [[fake.pubkeyOf('lyra'), other.url]],
  );
  const saved = JSON.parse(await readFile(join(dir, 'peers.json'), 'utf8')) as {
    peers: { url: string; by?: string }[];
  };
  assert.deepEqual(
    saved.peers.map((p) => [p.url, p.by]),
    [[other.url, encodeNpub(getPublicKey(ownerKey))]],
  );
  await first.close();

  // A new API over the same data directory (a restart): the added peer is back, still removable.
  const second = await startApi();
  try {
    list = (await (await fetch(`${second.base}/api/peers`)).json()) as PeerList;
    assert.deepEqual(relays(list), [
      [configured.url, false],
      [other.url, true],
    ]);
    await until(() => second.directory.agents().length === 1, 20_000, 'followed again after the restart');
    const again = await login(second.base, ownerKey);
    const connections = other.server.stats().connections;
    res = await post(second.base, '/api/peers/remove', again, { url: `${other.url}/` });
    assert.equal(res.status, 200, await res.clone().text());
    list = (await res.json()) as PeerList;
    assert.deepEqual(relays(list), [[configured.url, false]]);
    assert.deepEqual(list.agents, [], "the removed peer's agents are gone");
    assert.deepEqual(list.desks, []);
    await until(
      () => other.server.stats().connections === connections - 1,
      20_000,
      'the connection to the removed relay closed',
    );
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'peers.json'), 'utf8')), { version: 1, peers: [] });
  } finally {
    await second.close();
  }
  const third = await startApi();
  try {
    list = (await (await fetch(`${third.base}/api/peers`)).json()) as PeerList;
    assert.deepEqual(relays(list), [[configured.url, false]], 'the removal persisted too');
  } finally {
    await third.close();
  }
});

test('peer writes: 400 for a bad URL or this relay, 409 for a repeat or a configured one, 404 unknown', async () => {
  const api = await startApi();
  try {
    const owner = await login(api.base, ownerKey);
    const refusal = async (path: string, body: unknown, status: number, error: RegExp) => {
      const res = await post(api.base, path, owner, body);
      assert.equal(res.status, status, `${path} ${JSON.stringify(body)}`);
      assert.match(((await res.json()) as { error: string }).error, error);
    };
    await refusal('/api/peers', { url: 'http://peer.example' }, 400, /ws:\/\/ or wss:\/\//);
    await refusal('/api/peers', { url: 'not a url' }, 400, /not a URL/);
    await refusal('/api/peers', { url: 7 }, 400, /url must be a string/);
    await refusal('/api/peers', {}, 400, /url must be a string/);
    await refusal('/api/peers', [], 400, /JSON object/);
    await refusal('/api/peers', '{nope', 400, /not JSON/);
    await refusal('/api/peers', { url: own.url }, 400, /own relay/);
    await refusal('/api/peers', { url: own.url.replace('127.0.0.1', 'localhost') }, 400, /own relay/);
    await refusal('/api/peers', { url: `${api.base.replace('http', 'ws')}/relay` }, 400, /own relay/);
    await refusal('/api/peers', { url: configured.url }, 409, /already/);
    await refusal('/api/peers/remove', { url: configured.url }, 409, /configuration.*remove it there/);
    await refusal('/api/peers/remove', { url: 'wss://nobody.example' }, 404, /not a peer/);
    const list = (await (await fetch(`${api.base}/api/peers`)).json()) as PeerList;
    assert.deepEqual(relays(list), [[configured.url, false]], 'nothing changed');
  } finally {
    await api.close();
  }
});

test('peer writes are for owners only: 401 without a session, 403 for others or without CSRF; NIP-98 works', async () => {
  const api = await startApi();
  try {
    const stranger = await login(api.base, strangerKey);
    const owner = await login(api.base, ownerKey);
    // A peer that is down (a loopback port nobody listens on): adding it is still allowed.
    const down = `ws://127.0.0.1:${await closedPort()}`;
    const body = { url: down };
    let res = await post(api.base, '/api/peers', {}, body);
    assert.equal(res.status, 401);
    res = await post(api.base, '/api/peers', stranger, body);
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: string }).error, /only the instance owners/);
    res = await post(api.base, '/api/peers/remove', stranger, { url: configured.url });
    assert.equal(res.status, 403, 'no hint about the peer before the owner check');
    res = await post(api.base, '/api/peers', { Cookie: owner.Cookie ?? '' }, body);
    assert.equal(res.status, 403, 'the cookie alone never suffices');
    const url = `${api.base}/api/peers`;
    const text = JSON.stringify(body);
    res = await fetch(url, {
      method: 'POST',
      body: text,
      headers: { Authorization: await buildNip98Header(new LocalSigner(strangerKey), url, 'POST', text) },
    });
    assert.equal(res.status, 403);
    let list = (await (await fetch(`${api.base}/api/peers`)).json()) as PeerList;
    assert.deepEqual(relays(list), [[configured.url, false]], 'nothing was added');
    // An owner's script: NIP-98 for exactly this URL, method and body.
    res = await fetch(url, {
      method: 'POST',
      body: text,
      headers: { Authorization: await buildNip98Header(new LocalSigner(ownerKey), url, 'POST', text) },
    });
    assert.equal(res.status, 200, await res.clone().text());
    list = (await res.json()) as PeerList;
    assert.deepEqual(relays(list), [
      [configured.url, false],
      [down, true],
    ]);
    res = await post(api.base, '/api/peers/remove', owner, body);
    assert.equal(res.status, 200);
  } finally {
    await api.close();
  }
});
