import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryLogger } from '../core/logger.ts';
import { ensurePassphrase as fromKeystore } from './keystore.ts';
import { ensurePassphrase, PassphraseFileError } from './passphrase.ts';

const posix = process.platform !== 'win32';
let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'timmy-passphrase-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('ensurePassphrase', () => {
  it('creates 32 random bytes as base64url, mode 0600, in a new 0700 directory; then reads it back', async () => {
    const file = join(root, 'new', 'deeper', 'passphrase');
    const first = await ensurePassphrase(file);
    assert.equal(first.created, true);
    assert.match(first.passphrase, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(first.passphrase, 'base64url').length, 32);
    if (posix) {
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(join(root, 'new', 'deeper'))).mode & 0o777, 0o700);
    }
    const second = await ensurePassphrase(file);
    assert.deepEqual(second, { passphrase: first.passphrase, created: false });
    assert.notEqual((await ensurePassphrase(join(root, 'other'))).passphrase, first.passphrase);
  });

  it('is re-exported by keystore.ts', () => {
    assert.equal(fromKeystore, ensurePassphrase);
  });

  it('reads a file a person wrote, ignoring the trailing newline', async () => {
    const file = join(root, 'mine');
    await writeFile(file, '  my own passphrase\n', { mode: 0o600 });
    assert.deepEqual(await ensurePassphrase(file), { passphrase: 'my own passphrase', created: false });
  });

  it('refuses an empty file, naming it', async () => {
    const file = join(root, 'empty');
    await writeFile(file, '\n');
    await assert.rejects(ensurePassphrase(file), (e: unknown) => {
      assert.ok(e instanceof PassphraseFileError);
      assert.ok(e.message.includes(file));
      return true;
    });
  });

  it('concurrent first runs agree on one passphrase', async () => {
    const file = join(root, 'race');
    const results = await Promise.all([
      ensurePassphrase(file),
      ensurePassphrase(file),
      ensurePassphrase(file),
    ]);
    const onDisk = (await readFile(file, 'utf8')).trim();
    for (const r of results) assert.equal(r.passphrase, onDisk);
    assert.equal(results.filter((r) => r.created).length, 1);
  });

  it('warns when an existing file is readable by others, without logging the passphrase', {
    skip: !posix,
  }, async () => {
    const file = join(root, 'open');
    await writeFile(file, 'secret-words');
    await chmod(file, 0o644);
    const logger = new MemoryLogger();
    await ensurePassphrase(file, { logger });
    assert.ok(logger.records.some((r) => r.level === 'warn' && r.fields.file === file));
    assert.ok(!JSON.stringify(logger.records).includes('secret-words'));
  });

  it('reports a path it cannot use', async () => {
    const blocker = join(root, 'blocker');
    await writeFile(blocker, 'x');
    await assert.rejects(ensurePassphrase(join(blocker, 'passphrase')), PassphraseFileError);
  });
});
