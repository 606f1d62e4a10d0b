import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAST_KEYS, firstJson, runClient, runTimmy, spawnTimmy, tempDataDir } from './harness.ts';

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
    const env = { TIMMY_DATA_DIR: dataDir, ...FAST_KEYS };
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
