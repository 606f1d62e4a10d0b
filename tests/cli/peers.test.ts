import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closedPort, FakePeer } from '../../testkit/fake-peer.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { FAST_KEYS, firstJson, type Running, runTimmy, spawnTimmy, tempDataDir } from './harness.ts';

/**
 * `timmy peers` as a user runs it, through the real binary: two peer relays where a peer desk announced
 * itself (one of its agents beating), a peer relay that refuses connections, and a real `timmy start`
 * whose desk announcement another data directory finds.
 */

interface PeersJson {
  peers: { url: string; state: string; answered: boolean; error: string | null }[];
  desks: { name: string; pubkey: string; relay: string; kinds: number[]; agents: string[] }[];
  agents: {
    name: string;
    pubkey: string;
    relay: string;
    kinds: number[];
    prices: Record<string, number>;
    alive: boolean;
    beatAgeSeconds: number | null;
    score: number | null;
  }[];
}

describe('timmy peers', () => {
  let a: TestRelay;
  let b: TestRelay;
  let dead = '';
  let pa: FakePeer;
  let pb: FakePeer;
  let stopBeating: () => void = () => {};
  let dataDir = '';

  before(async () => {
    a = await startTestRelay();
    b = await startTestRelay();
    dead = `ws://127.0.0.1:${await closedPort()}`;
    pa = new FakePeer(a.url, [
      { name: 'quill', kinds: [5050], priceMsats: 4000 },
      { name: 'idle', kinds: [5001] },
    ]);
    pb = new FakePeer(b.url, [{ name: 'seer', kinds: [5001] }], undefined, 'Desk B');
    await pa.announce();
    await pb.announce();
    // quill beats while the commands run (its heartbeats are live events: a command hears the next one).
    stopBeating = pa.beatEvery(200, ['quill']);
    dataDir = await tempDataDir();
  });
  after(async () => {
    stopBeating();
    pa.close();
    pb.close();
    await a.close();
    await b.close();
  });

  test('--json: the desks and agents of both peer relays, the dead one unreachable, exit code 0', async () => {
    const r = await runTimmy(
      ['peers', '--peer', a.url, '--peer', dead, '--peer', b.url, '--wait', '4000', '--json'],
      { TIMMY_DATA_DIR: dataDir },
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as PeersJson;
    assert.deepEqual(
      out.peers.map((p) => [p.url, p.state]),
      [
        [a.url, 'open'],
        [dead, 'unreachable'],
        [b.url, 'open'],
      ],
    );
    assert.match(out.peers[1]?.error ?? '', /connection failed/);
    assert.deepEqual(
      out.desks.map((d) => [d.pubkey, d.name, d.relay, d.kinds, d.agents.length]),
      [
        [pa.desk.pubkey, 'Peer desk', a.url, [5050, 5001], 2],
        [pb.desk.pubkey, 'Desk B', b.url, [5001], 1],
      ],
    );
    const byName = new Map(out.agents.map((x) => [x.name.split('@')[0], x]));
    const quill = byName.get('quill');
    assert.equal(quill?.name, `quill@${new URL(a.url).host}`);
    assert.equal(quill?.pubkey, pa.pubkeyOf('quill'));
    assert.equal(quill?.alive, true);
    assert.ok(quill?.beatAgeSeconds !== null && (quill?.beatAgeSeconds ?? 99) <= 5);
    assert.deepEqual(quill?.kinds, [5050]);
    assert.deepEqual(quill?.prices, { '5050': 4000 });
    assert.equal(quill?.score, null, 'no instance running here, so no relay to read labels from: no score');
    assert.equal(byName.get('idle')?.alive, false);
    assert.equal(byName.get('idle')?.beatAgeSeconds, null);
    assert.equal(byName.get('seer')?.relay, b.url);
  });

  test('text: a clear "unreachable" line for the dead relay, the others listed; config and --peer together', async () => {
    const r = await runTimmy(['peers', '--peer', dead, '--wait', '4000'], {
      TIMMY_DATA_DIR: dataDir,
      TIMMY_FEDERATION_PEERS: `${a.url},${b.url}`,
      TIMMY_LOG_LEVEL: 'error',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`relay ${dead}  unreachable \\(.*connection failed\\)`));
    assert.match(r.stdout, new RegExp(`relay ${a.url}  answered`));
    assert.match(r.stdout, /desk {2}Desk B {2}npub1\w+ {2}on ws:/);
    assert.match(
      r.stdout,
      /agent quill@127\.0\.0\.1:\d+ {2}alive, load 0 {2}last heartbeat \d+ s ago {2}score - {2}npub1/,
    );
    assert.match(r.stdout, /agent idle@127\.0\.0\.1:\d+ {2}NOT ALIVE {2}never heard/);
    assert.match(r.stdout, /serves 5050 text-generation/);
  });

  test('no peer relays: says how to name some', async () => {
    const r = await runTimmy(['peers'], { TIMMY_DATA_DIR: dataDir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no peer relays: set federation\.peers/);
    const bad = await runTimmy(['peers', '--peer', 'http://nope'], { TIMMY_DATA_DIR: dataDir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--peer.*ws:\/\//);
  });
});

describe('timmy start --peer, and its desk as a peer sees it', () => {
  let instance: Running;
  let info: Record<string, unknown> = {};
  let dataDir = '';
  let peer: TestRelay;

  before(async () => {
    peer = await startTestRelay();
    dataDir = await tempDataDir();
    instance = spawnTimmy(['start', '--peer', peer.url, '--json'], {
      ...FAST_KEYS,
      TIMMY_DATA_DIR: dataDir,
      TIMMY_RELAY_PORT: '0',
      TIMMY_HTTP_PORT: '0',
      TIMMY_PAYMENTS_ENABLED: 'false',
      TIMMY_DVM_HEARTBEAT_INTERVAL_MS: '300',
      TIMMY_LOG_LEVEL: 'warn',
    });
    info = await firstJson(instance);
  });
  after(async () => {
    if (instance.child.exitCode === null) {
      instance.child.kill('SIGTERM');
      await instance.exited;
    }
    await peer.close();
  });

  test('--peer lands in federation.peers', () => {
    assert.deepEqual(info.peers, [peer.url]);
  });

  test('another data directory finds the desk, its roster and its live agents; its own does not list itself', async () => {
    const relayUrl = String(info.relayUrl);
    const other = await tempDataDir();
    const r = await runTimmy(['peers', '--peer', relayUrl, '--wait', '8000', '--json'], {
      TIMMY_DATA_DIR: other,
    });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as PeersJson;
    const agents = info.agents as { name: string; npub: string }[];
    assert.equal(out.desks.length, 1);
    assert.equal(out.desks[0]?.name, 'Timmy');
    assert.deepEqual(
      [...(out.desks[0]?.agents ?? [])].sort(),
      agents
        .filter((x) => x.name !== 'timmy')
        .map((x) => x.npub)
        .sort(),
    );
    const host = new URL(relayUrl).host;
    const echo = out.agents.find((x) => x.name === `echo@${host}`);
    assert.deepEqual(echo?.kinds, [5700]);
    assert.equal(echo?.alive, true, 'its heartbeats reach the peer');

    const own = await runTimmy(['peers', '--peer', relayUrl, '--wait', '3000', '--json'], {
      TIMMY_DATA_DIR: dataDir,
    });
    assert.equal(own.code, 0, own.stderr);
    assert.deepEqual((JSON.parse(own.stdout) as PeersJson).desks, [], 'its own desk is not a peer');
  });
});
