import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { AbstractRelay } from 'nostr-tools/abstract-relay';
import { decode } from 'nostr-tools/nip19';
import { verifyEvent } from 'nostr-tools/pure';
import WebSocket from 'ws';
import { dataFile } from '../../core/data-dir.ts';
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
      ['timmy', 'echo', 'seer', 'quill', 'forge', 'lyra', 'vox'],
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
    // The same facts as /readyz (relay, desk, agents alive, wallet) and the model providers.
    const facts = JSON.parse(status.stdout) as {
      readiness: { ready: boolean; checks: { name: string; ok: boolean }[] } | null;
      providers: unknown[];
    };
    assert.deepEqual(
      facts.readiness?.checks.map((c) => c.name),
      ['relay', 'desk', 'agents', 'wallet'],
    );
    assert.ok(Array.isArray(facts.providers));
    const human = await runTimmy(['status'], { TIMMY_DATA_DIR: dataDir });
    assert.match(human.stdout, /running \(pid \d+/);
    assert.match(human.stdout, /ready {6}(yes|no)\n {4}relay {4}ok/);
    assert.match(human.stdout, /models {5}none configured|model {6}/);
    const keys = await runTimmy(['keys', 'list', '--json'], { TIMMY_DATA_DIR: dataDir });
    assert.equal(keys.code, 0, keys.stderr);
    const names = (JSON.parse(keys.stdout) as { name: string }[]).map((k) => k.name);
    assert.equal(names.filter((n) => !n.startsWith('wallet-')).length, 7, 'one key per agent');
    assert.deepEqual(
      names.filter((n) => n.startsWith('wallet-')).sort(),
      ['wallet-customer', 'wallet-node', 'wallet-service', 'wallet-treasury'],
      'the embedded wallet’s keys, encrypted at rest like the agents’',
    );
  });

  test('a second instance on the same data directory is refused', async () => {
    const second = await runTimmy(['start'], env);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already running/);
  });

  test('SIGTERM stops cleanly and removes the instance record; a restart keeps the same identities', async () => {
    instance.child.kill('SIGTERM');
    assert.equal(await instance.exited, 0);
    assert.ok(!existsSync(dataFile(dataDir, 'instance')));
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
