import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { writeInstanceRecord } from '../../cli/instance-record.ts';
import { dataFile } from '../../core/data-dir.ts';
import { FAST_KEYS, firstJson, runTimmy, spawnTimmy, tempDataDir } from './harness.ts';

const PORTS = { TIMMY_RELAY_PORT: '0', TIMMY_HTTP_PORT: '0', ...FAST_KEYS };

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

  test('a persona the profile rules refuse stops start before any key is created', async () => {
    const dataDir = await tempDataDir();
    const personaFile = join(dataDir, 'personas.json');
    await writeFile(
      personaFile,
      JSON.stringify({
        agents: [
          { name: 'boss', displayName: 'Boss', role: 'coordinator' },
          { name: 'web', displayName: 'Web', website: 'example.com' },
        ],
      }),
    );
    const r = await runTimmy(['start'], {
      ...PORTS,
      TIMMY_DATA_DIR: dataDir,
      TIMMY_AGENTS_PERSONA_FILE: personaFile,
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /persona file .*personas\.json: agent "web": /);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!existsSync(join(dataFile(dataDir, 'keys'), 'boss.json')), 'no key was created');
  });

  test('a failure after the servers started closes them and exits instead of hanging', async () => {
    const dataDir = await tempDataDir();
    await mkdir(dataFile(dataDir, 'instance'));
    const r = await runTimmy(['start'], { ...PORTS, TIMMY_DATA_DIR: dataDir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /instance\.json/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
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
    assert.ok(!existsSync(dataFile(dataDir, 'passphrase')), 'no passphrase file when one is configured');
  });
});

describe('timmy start with an external relay that is down', () => {
  test('starts anyway, warns, and publishes the profiles once the relay comes up', async () => {
    // The relay's address is held by this test the whole time, so no other test can take it: first it
    // refuses every connection (the relay is down), then it forwards them to a relay started on a free
    // port (the relay is up).
    let upstream: number | undefined;
    const front = net.createServer((socket) => {
      if (upstream === undefined) {
        socket.destroy();
        return;
      }
      const back = net.connect(upstream, '127.0.0.1');
      socket.pipe(back).pipe(socket);
      socket.on('error', () => back.destroy());
      back.on('error', () => socket.destroy());
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const port = (front.address() as net.AddressInfo).port;
    const relayUrl = `ws://127.0.0.1:${port}`;
    try {
      const dataDir = await tempDataDir();
      const instance = spawnTimmy(['start', '--json'], {
        ...PORTS,
        TIMMY_DATA_DIR: dataDir,
        TIMMY_RELAY_URL: relayUrl,
      });
      const info = await firstJson(instance);
      assert.equal(info.relayUrl, relayUrl);
      assert.equal(info.embeddedRelay, false);
      assert.match(instance.stderr(), /could not publish the agent profile/);
      const status = await runTimmy(['status', '--json'], { TIMMY_DATA_DIR: dataDir });
      assert.equal(status.code, 1, 'status says a part is not answering');
      assert.equal((JSON.parse(status.stdout) as { relay: { ok: boolean } }).relay.ok, false);

      const relayDir = await tempDataDir();
      const relay = spawnTimmy(['relay', '--json', '--port', '0'], {
        TIMMY_DATA_DIR: relayDir,
        TIMMY_RELAY_PUBLIC_URL: relayUrl,
      });
      const relayInfo = await firstJson(relay);
      upstream = Number(new URL(String(relayInfo.localRelayUrl)).port);
      const deadline = Date.now() + 60_000;
      while (!/published after retry/.test(instance.stderr()) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(instance.stderr(), /published after retry/);
      instance.child.kill('SIGTERM');
      relay.child.kill('SIGTERM');
      assert.equal(await instance.exited, 0, instance.stderr().slice(-2000));
      assert.equal(await relay.exited, 0, relay.stderr().slice(-2000));
    } finally {
      front.close();
    }
  });
});

describe('timmy status with a relay that accepts connections and never answers', () => {
  test('reports the relay as not answering within its timeout (exit 1)', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const dataDir = await tempDataDir();
      await writeInstanceRecord(dataDir, {
        pid: process.pid,
        startedAt: Date.now(),
        version: 'test',
        mode: 'relay',
        relayUrl: `ws://127.0.0.1:${port}`,
        localRelayUrl: `ws://127.0.0.1:${port}`,
        embeddedRelay: true,
        httpUrl: '',
        localHttpUrl: '',
        agents: [],
      });
      const status = await runTimmy(['status', '--json'], { TIMMY_DATA_DIR: dataDir });
      assert.equal(status.code, 1, status.stderr);
      const relay = (JSON.parse(status.stdout) as { relay: { ok: boolean; detail: string } }).relay;
      assert.equal(relay.ok, false);
      assert.match(relay.detail, /no answer within 3 s/);
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });
});
