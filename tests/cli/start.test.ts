import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AbstractRelay } from 'nostr-tools/abstract-relay';
import { decode } from 'nostr-tools/nip19';
import { verifyEvent } from 'nostr-tools/pure';
import WebSocket from 'ws';
import { firstJson, type Running, runClient, runTimmy, spawnTimmy, tempDataDir } from './harness.ts';

const PORTS = { TIMMY_RELAY_PORT: '0', TIMMY_HTTP_PORT: '0' };

describe('timmy start: the whole instance as a user runs it', () => {
  let dataDir = '';
  let env: Record<string, string> = {};
  let instance: Running;
  let info: Record<string, unknown> = {};

  before(async () => {
    dataDir = await tempDataDir();
    env = { ...PORTS, TIMMY_DATA_DIR: dataDir, TIMMY_LOG_LEVEL: 'info' };
    instance = spawnTimmy(['start', '--json'], env);
    info = await firstJson(instance);
  });
  after(() => {
    if (instance.child.exitCode === null) instance.child.kill('SIGKILL');
  });

  test('prints the real relay and dashboard URLs', () => {
    assert.match(String(info.relayUrl), /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.match(String(info.httpUrl), /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.doesNotMatch(String(info.relayUrl), /:0$/);
    assert.equal(info.embeddedRelay, true);
    assert.equal(info.dataDir, dataDir);
  });

  test('an independent client process publishes and reads back through the printed relay', async () => {
    const r = await runClient('tests/fixtures/roundtrip-client.ts', [String(info.relayUrl)]);
    assert.equal((r.readBack as { id: string }[])[0]?.id, r.published);
  });

  test('every agent has a kind 0 profile on the relay and a NIP-05 name on the HTTP server', async () => {
    const agents = info.agents as { name: string; npub: string; nip05: string }[];
    assert.deepEqual(
      agents.map((a) => a.name),
      ['timmy', 'echo', 'seer', 'quill', 'forge'],
    );
    const pubkeys = agents.map((a) => decode(a.npub).data as string);
    const relay = new AbstractRelay(String(info.relayUrl), {
      verifyEvent,
      websocketImplementation: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    await relay.connect();
    const profiles = await new Promise<{ pubkey: string; content: string }[]>((resolve) => {
      const got: { pubkey: string; content: string }[] = [];
      const sub = relay.subscribe([{ kinds: [0], authors: pubkeys }], {
        onevent: (e) => got.push(e),
        oneose: () => {
          sub.close();
          resolve(got);
        },
      });
    });
    relay.close();
    assert.equal(profiles.length, agents.length);
    for (const p of profiles) {
      const content = JSON.parse(p.content) as { nip05?: string; name?: string };
      const agent = agents[pubkeys.indexOf(p.pubkey)];
      assert.equal(content.nip05, `${agent?.name}@localhost`);
    }
    const res = await fetch(`${String(info.httpUrl)}/.well-known/nostr.json?name=forge`);
    const doc = (await res.json()) as { names: Record<string, string> };
    assert.equal(doc.names.forge, pubkeys[4]);
    const home = await (await fetch(String(info.httpUrl))).text();
    assert.ok(home.includes('forge@localhost'));
  });

  test('other timmy commands find the running instance through the data directory', async () => {
    const status = await runTimmy(['status', '--json'], { TIMMY_DATA_DIR: dataDir });
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as {
      running: boolean;
      relay: { url: string; ok: boolean };
      http: { ok: boolean };
    };
    assert.equal(s.running, true);
    assert.equal(s.relay.url, info.relayUrl);
    assert.ok(s.relay.ok && s.http.ok);
    const human = await runTimmy(['status'], { TIMMY_DATA_DIR: dataDir });
    assert.match(human.stdout, /running \(pid \d+/);
    const keys = await runTimmy(['keys', 'list', '--json'], { TIMMY_DATA_DIR: dataDir });
    assert.equal(keys.code, 0, keys.stderr);
    assert.equal((JSON.parse(keys.stdout) as unknown[]).length, 5);
  });

  test('a second instance on the same data directory is refused', async () => {
    const second = await runTimmy(['start'], env);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already running/);
  });

  test('SIGTERM stops cleanly and removes the instance record; a restart keeps the same identities', async () => {
    instance.child.kill('SIGTERM');
    assert.equal(await instance.exited, 0);
    assert.ok(!existsSync(join(dataDir, 'instance.json')));
    const status = await runTimmy(['status', '--json'], { TIMMY_DATA_DIR: dataDir });
    assert.equal(status.code, 3);
    assert.equal((JSON.parse(status.stdout) as { running: boolean }).running, false);

    const again = spawnTimmy(['start', '--json'], env);
    const info2 = await firstJson(again);
    assert.deepEqual(info2.agents, info.agents);
    // kill -9 leaves a stale record: status says so, and the next start takes over.
    again.child.kill('SIGKILL');
    await again.exited;
    const stale = await runTimmy(['status'], { TIMMY_DATA_DIR: dataDir });
    assert.equal(stale.code, 3);
    assert.match(stale.stdout, /no longer running/);
    const third = spawnTimmy(['start', '--json'], env);
    await firstJson(third);
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0);
  });
});

describe('timmy start: bad configuration and faults', () => {
  test('an invalid value stops start with the field and variable named (exit 2)', async () => {
    const dataDir = await tempDataDir();
    const r = await runTimmy(['start'], { TIMMY_DATA_DIR: dataDir, TIMMY_RELAY_PORT: '70000' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /relay\.port/);
    assert.match(r.stderr, /TIMMY_RELAY_PORT/);
  });

  test('an unknown field in the config file is refused, naming it', async () => {
    const dataDir = await tempDataDir();
    await writeFile(join(dataDir, 'config.json'), JSON.stringify({ relay: { prot: 1 } }));
    const r = await runTimmy(['start'], { TIMMY_DATA_DIR: dataDir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /relay\.prot: unknown field/);
  });

  test('a busy port gives a clear message', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const dataDir = await tempDataDir();
    const r = await runTimmy(['relay', '--port', String(port)], { TIMMY_DATA_DIR: dataDir });
    blocker.close();
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`port ${port} .*already in use.*TIMMY_RELAY_PORT`));
  });

  test('a secret from the environment is used, warned about, and never printed', async () => {
    const dataDir = await tempDataDir();
    const secret = 'correct horse battery staple 42';
    const r = spawnTimmy(['start', '--json'], {
      ...PORTS,
      TIMMY_DATA_DIR: dataDir,
      TIMMY_IDENTITY_PASSPHRASE: secret,
    });
    await firstJson(r);
    r.child.kill('SIGTERM');
    await r.exited;
    assert.match(r.stderr(), /secret was given through an environment variable/);
    assert.match(r.stderr(), /TIMMY_IDENTITY_PASSPHRASE/);
    assert.ok(!r.stderr().includes(secret));
    assert.ok(!r.stdout().includes(secret));
    assert.ok(!existsSync(join(dataDir, 'passphrase')), 'no passphrase file when one is configured');
  });
});

describe('timmy relay and keys', () => {
  test('timmy relay runs the relay alone and records it', async () => {
    const dataDir = await tempDataDir();
    const r = spawnTimmy(['relay', '--json', '--port', '0'], { TIMMY_DATA_DIR: dataDir });
    const info = await firstJson(r);
    const client = await runClient('tests/fixtures/roundtrip-client.ts', [String(info.relayUrl)]);
    assert.equal((client.readBack as unknown[]).length, 1);
    const status = await runTimmy(['status', '--json'], { TIMMY_DATA_DIR: dataDir });
    assert.equal((JSON.parse(status.stdout) as { mode: string }).mode, 'relay');
    r.child.kill('SIGINT');
    assert.equal(await r.exited, 0);
  });

  test('keys new/list/show, with and without --json', async () => {
    const dataDir = await tempDataDir();
    const env = { TIMMY_DATA_DIR: dataDir };
    const created = await runTimmy(['keys', 'new', 'scout', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout) as { name: string; npub: string; pubkey: string };
    assert.equal(key.name, 'scout');
    assert.match(key.npub, /^npub1/);
    const dup = await runTimmy(['keys', 'new', 'scout'], env);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already exists/);
    const bad = await runTimmy(['keys', 'new', 'Bad Name'], env);
    assert.notEqual(bad.code, 0);
    const list = await runTimmy(['keys', 'list'], env);
    assert.match(list.stdout, new RegExp(`scout\\s+${key.npub}`));
    const show = await runTimmy(['keys', 'show', 'scout', '--json'], env);
    const shown = JSON.parse(show.stdout) as Record<string, string>;
    assert.equal(shown.pubkey, key.pubkey);
    assert.equal(shown.nsec, undefined);
    const secret = await runTimmy(['keys', 'show', 'scout', '--secret', '--json'], env);
    const nsec = (JSON.parse(secret.stdout) as { nsec: string }).nsec;
    assert.match(nsec, /^nsec1/);
    const missing = await runTimmy(['keys', 'show', 'nobody'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no key named "nobody"/);
    const wrong = await runTimmy(['keys', 'show', 'scout', '--secret'], {
      ...env,
      TIMMY_IDENTITY_PASSPHRASE: 'wrong',
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /passphrase/i);
  });
});
