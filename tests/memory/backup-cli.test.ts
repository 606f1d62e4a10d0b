import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { FAST_KEYS, runTimmy, tempDataDir } from '../cli/harness.ts';

/**
 * `timmy memory backup` and `restore` through the real binary: an agent's memories published to a relay
 * with its key, restored into another data directory holding the same key (its keys and passphrase copied),
 * twice; and the errors of a missing backup and of a key that does not exist.
 */
describe('timmy memory backup / restore', () => {
  let relay: TestRelay;
  let from = '';
  let to = '';
  const env = (dataDir: string) => ({ TIMMY_DATA_DIR: dataDir, TIMMY_LOG_LEVEL: 'error', ...FAST_KEYS });

  before(async () => {
    relay = await startTestRelay();
    [from, to] = await Promise.all([tempDataDir(), tempDataDir()]);
  });
  after(() => relay.close());

  test('backup, then restore elsewhere with the same key; restoring twice adds nothing', async () => {
    const key = await runTimmy(['keys', 'new', 'quill', '--json'], env(from));
    assert.equal(key.code, 0, key.stderr);
    for (const text of ['Alice wants haiku about the sea.', 'Bob pays in sats over Lightning.']) {
      const add = await runTimmy(['memory', 'add', text, '--agent', 'quill'], env(from));
      assert.equal(add.code, 0, add.stderr);
    }
    const backup = await runTimmy(
      ['memory', 'backup', '--agent', 'quill', '--relay', relay.url, '--json'],
      env(from),
    );
    assert.equal(backup.code, 0, backup.stderr);
    const report = JSON.parse(backup.stdout);
    assert.equal(report.memories, 2);
    assert.equal(report.chunks, 1);
    assert.match(backup.stderr, /published chunk 1\/1/);

    for (const f of ['keys', 'passphrase']) await cp(join(from, f), join(to, f), { recursive: true });
    const restore = () =>
      runTimmy(['memory', 'restore', '--agent', 'quill', '--relay', relay.url, '--json'], env(to));
    const first = await restore();
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual([JSON.parse(first.stdout).imported, JSON.parse(first.stdout).skipped], [2, 0]);
    const second = await restore();
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual([JSON.parse(second.stdout).imported, JSON.parse(second.stdout).skipped], [0, 2]);
    const search = await runTimmy(['memory', 'search', 'poetry of the ocean', '-k', '1', '--json'], env(to));
    assert.equal(search.code, 0, search.stderr);
    assert.equal(JSON.parse(search.stdout).results[0].content, 'Alice wants haiku about the sea.');
  });

  test('no backup on the relay, and an agent without a key, are clear errors', async () => {
    const key = await runTimmy(['keys', 'new', 'seer'], env(from));
    assert.equal(key.code, 0, key.stderr);
    const none = await runTimmy(['memory', 'restore', '--agent', 'seer', '--relay', relay.url], env(from));
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no memory backup of seer/);
    const nokey = await runTimmy(['memory', 'backup', '--agent', 'nobody', '--relay', relay.url], env(from));
    assert.equal(nokey.code, 2);
    assert.match(nokey.stderr, /the key of nobody/);
  });
});
