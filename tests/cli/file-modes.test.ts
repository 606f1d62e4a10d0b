import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { dataFile } from '../../core/data-dir.ts';
import { FAST_KEYS, type Running, startTimmy, tempDataDir } from './harness.ts';

/**
 * The data directory is private: `jobs.sqlite` holds decrypted requests and hold-invoice preimages. A data
 * directory made by hand with open modes, holding an earlier version's files, is tightened on start (with a
 * warning naming each file), and every file the instance creates is 0600.
 */
test('timmy start makes the data directory 0700 and every file in it 0600, saying what it tightened', async () => {
  const dataDir = join(await tempDataDir(), 'open');
  await mkdir(dataDir, { mode: 0o755 });
  await chmod(dataDir, 0o755);
  const fixture = new URL('../fixtures/previous-version/', import.meta.url).pathname;
  for (const f of ['jobs.sqlite', 'treasury.sqlite']) {
    await copyFile(join(fixture, f), join(dataDir, f));
    await chmod(join(dataDir, f), 0o644);
  }
  let run: Running | undefined;
  try {
    ({ run } = await startTimmy({
      ...FAST_KEYS,
      TIMMY_DATA_DIR: dataDir,
      TIMMY_RELAY_PORT: '0',
      TIMMY_HTTP_PORT: '0',
    }));
    assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
    const loose: string[] = [];
    for (const entry of await readdir(dataDir, { withFileTypes: true })) {
      const mode = (await stat(join(dataDir, entry.name))).mode & 0o777;
      if (mode & 0o077) loose.push(`${entry.name} 0${mode.toString(8)}`);
    }
    assert.deepEqual(loose, [], 'nothing readable by others');
    for (const f of ['jobs', 'work', 'relay', 'wallet'] as const)
      assert.equal((await stat(dataFile(dataDir, f))).mode & 0o777, 0o600, f);
    const warned = run.stderr();
    assert.match(warned, /tightened the access to a data file/);
    assert.match(warned, /jobs\.sqlite/);
  } finally {
    if (run) {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  }
});
