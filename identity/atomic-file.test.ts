import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFileAtomic } from './atomic-file.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'timmy-atomic-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const errCode = (code: string) => (e: unknown) => (e as NodeJS.ErrnoException).code === code;

describe('createFileAtomic', () => {
  it('writes the file with the mode asked and leaves no temporary file', async () => {
    const file = join(root, 'a.json');
    await createFileAtomic(file, '{"a":1}\n', 0o600);
    assert.equal(await readFile(file, 'utf8'), '{"a":1}\n');
    if (process.platform !== 'win32') assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(root), ['a.json']);
  });

  it('never replaces an existing file: EEXIST, and the old content stays', async () => {
    const file = join(root, 'b.json');
    await createFileAtomic(file, 'first');
    await assert.rejects(createFileAtomic(file, 'second'), errCode('EEXIST'));
    assert.equal(await readFile(file, 'utf8'), 'first');
  });

  it('of concurrent writers exactly one wins, and the file is whole', async () => {
    const file = join(root, 'c.json');
    const contents = Array.from({ length: 8 }, (_, i) => `writer ${i} `.repeat(10_000));
    const results = await Promise.allSettled(contents.map((c) => createFileAtomic(file, c)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.ok(contents.includes(await readFile(file, 'utf8')));
    assert.deepEqual(
      (await readdir(root)).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('fails with ENOENT when the directory does not exist', async () => {
    await assert.rejects(createFileAtomic(join(root, 'missing', 'd.json'), 'x'), errCode('ENOENT'));
  });
});
