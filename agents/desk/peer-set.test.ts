import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MemoryLogger } from '../../core/logger.ts';
import {
  type PeerChange,
  PeerFileError,
  PeerSet,
  PeerSetError,
  type PeerSetOptions,
  sameRelay,
} from './peer-set.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function fileIn(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'timmy-peer-set-'));
  dirs.push(dir);
  return join(dir, 'peers.json');
}

function open(file: string, over: Partial<PeerSetOptions> = {}): Promise<PeerSet> {
  return PeerSet.open({
    file,
    configured: ['wss://configured.example'],
    ownRelays: () => ['ws://127.0.0.1:7777', 'ws://127.0.0.1:8080/relay', 'wss://me.example'],
    logger: new MemoryLogger(),
    now: () => 1_700_000_000,
    ...over,
  });
}

async function refused(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof PeerSetError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

test('added peers are written atomically to peers.json and read back by the next start', async () => {
  const file = await fileIn();
  const set = await open(file);
  const changes: PeerChange[] = [];
  set.onChange((c) => {
    changes.push(c);
  });
  assert.deepEqual(set.all(), ['wss://configured.example']);
  assert.equal(await set.add(' wss://peer.example ', 'npub1owner'), 'wss://peer.example');
  assert.equal(await set.add('ws://10.0.0.2:7777'), 'ws://10.0.0.2:7777');
  assert.deepEqual(changes, [
    { type: 'added', url: 'wss://peer.example' },
    { type: 'added', url: 'ws://10.0.0.2:7777' },
  ]);
  assert.equal(set.isAdded('wss://peer.example/'), true);
  assert.equal(set.isAdded('wss://configured.example'), false);
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), {
    version: 1,
    peers: [
      { url: 'wss://peer.example', addedAt: 1_700_000_000, by: 'npub1owner' },
      { url: 'ws://10.0.0.2:7777', addedAt: 1_700_000_000 },
    ],
  });
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.deepEqual(
    (await readdir(join(file, '..'))).sort(),
    ['peers.json'],
    'no temporary file is left behind',
  );

  const again = await open(file);
  assert.deepEqual(again.all(), ['wss://configured.example', 'wss://peer.example', 'ws://10.0.0.2:7777']);
  assert.equal(await again.remove('wss://peer.example/'), 'wss://peer.example');
  assert.deepEqual(changes.length, 2, 'the first set is not told of the second one');
  const third = await open(file);
  assert.deepEqual(third.all(), ['wss://configured.example', 'ws://10.0.0.2:7777']);
});

test('refusals: not a relay URL, our own relay, a repeat, a configured peer, an unknown one, too many', async () => {
  const set = await open(await fileIn(), { maxPeers: 3 });
  for (const bad of [
    42,
    '',
    'http://peer.example',
    'peer.example',
    'ws://',
    'wss://user:secret@peer.example',
    'wss://peer.example/#x',
    `wss://${'a'.repeat(600)}.example`,
  ])
    await refused(set.add(bad), 'invalid', /ws:\/\/|URL|user name|fragment|characters/);
  await refused(set.add('ws://127.0.0.1:7777/'), 'own-relay', /own relay/);
  await refused(set.add('ws://localhost:7777'), 'own-relay', /own relay/);
  await refused(set.add('ws://[::1]:8080/relay'), 'own-relay', /own relay/);
  await refused(set.add('wss://me.example'), 'own-relay', /own relay/);
  await refused(set.add('wss://configured.example/'), 'exists', /already/);
  await set.add('wss://one.example');
  await refused(set.add('wss://one.example'), 'exists', /already/);
  await set.add('wss://two.example');
  await refused(set.add('wss://three.example'), 'full', /at most 3/);
  await refused(set.remove('wss://configured.example'), 'configured', /configuration.*federation\.peers/);
  await refused(set.remove('wss://nobody.example'), 'unknown', /not a peer/);
  await refused(set.remove(null), 'invalid', /string/);
  assert.deepEqual(set.all(), ['wss://configured.example', 'wss://one.example', 'wss://two.example']);
});

test('concurrent changes apply one at a time, in order, each told before the next begins', async () => {
  const set = await open(await fileIn());
  const seen: string[] = [];
  set.onChange(async (c) => {
    seen.push(`${c.type} ${c.url} start`);
    await new Promise((r) => setTimeout(r, 5));
    seen.push(`${c.type} ${c.url} end`);
  });
  const results = await Promise.allSettled([
    set.add('wss://a.example'),
    set.add('wss://a.example'),
    set.remove('wss://a.example'),
    set.add('wss://a.example'),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
  );
  assert.deepEqual(seen, [
    'added wss://a.example start',
    'added wss://a.example end',
    'removed wss://a.example start',
    'removed wss://a.example end',
    'added wss://a.example start',
    'added wss://a.example end',
  ]);
});

test('a peers.json that is not a peer list stops the start, naming the file', async () => {
  const file = await fileIn();
  for (const text of ['{', '[]', '{"peers": {}}', '{"version":1,"peers":[{"url":"http://x"}]}']) {
    await writeFile(file, text);
    await assert.rejects(open(file), (err: unknown) => {
      assert.ok(err instanceof PeerFileError);
      assert.match(err.message, /peers\.json.*delete it/);
      return true;
    });
  }
  // One that is now configured is the configuration's.
  await writeFile(file, JSON.stringify({ version: 1, peers: [{ url: 'wss://configured.example/' }] }));
  const set = await open(file);
  assert.deepEqual(set.all(), ['wss://configured.example']);
  assert.equal(set.isAdded('wss://configured.example'), false);
});

test('sameRelay: spellings of one URL, and loopback names of one port', () => {
  assert.equal(sameRelay('wss://A.example/', 'wss://a.example'), true);
  assert.equal(sameRelay('ws://localhost:7777', 'ws://127.0.0.1:7777'), true);
  assert.equal(sameRelay('ws://localhost:7778', 'ws://127.0.0.1:7777'), false);
  assert.equal(sameRelay('ws://10.0.0.1:7777', 'ws://127.0.0.1:7777'), false);
  assert.equal(sameRelay('ws://127.0.0.1:8080/relay', 'ws://127.0.0.1:8080'), false);
});
