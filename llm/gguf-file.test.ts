import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkGgufFile, GgufFileError, hasGgufMagic } from './gguf-file.ts';

const dir = await mkdtemp(join(tmpdir(), 'timmy-gguf-file-'));
after(() => rm(dir, { recursive: true, force: true }));

function header(version: number, extra = 0): Buffer {
  const b = Buffer.alloc(8 + extra);
  b.write('GGUF', 0, 'ascii');
  b.writeUInt32LE(version, 4);
  return b;
}

test('hasGgufMagic', () => {
  assert.equal(hasGgufMagic(Buffer.from('GGUF')), true);
  assert.equal(hasGgufMagic(Buffer.from('GGU')), false);
  assert.equal(hasGgufMagic(Buffer.from('GGML')), false);
});

test('accepts a GGUF header and reports version and size', async () => {
  const p = join(dir, 'ok.gguf');
  await writeFile(p, header(3, 24));
  assert.deepEqual(await checkGgufFile(p), { version: 3, bytes: 32 });
});

test('explains a missing file, a directory, a non-GGUF file, a short file and a bad version', async () => {
  const cases: [string, RegExp][] = [
    [join(dir, 'missing.gguf'), /model file not found: .*missing\.gguf/],
    [dir, /is a directory/],
  ];
  const html = join(dir, 'page.gguf');
  await writeFile(html, '<!doctype html><html>');
  cases.push([html, /is not a GGUF model file/]);
  const short = join(dir, 'short.gguf');
  await writeFile(short, 'GGUF');
  cases.push([short, /is not a GGUF model file/]);
  const v9 = join(dir, 'v9.gguf');
  await writeFile(v9, header(9));
  cases.push([v9, /unsupported GGUF version 9/]);
  for (const [p, re] of cases) {
    await assert.rejects(checkGgufFile(p), (e: unknown) => {
      assert.ok(e instanceof GgufFileError);
      assert.equal(e.path, p);
      assert.match(e.message, re);
      return true;
    });
  }
});

test('an unreadable file says so', {
  skip: process.getuid?.() === 0 ? 'root reads anything' : false,
}, async () => {
  const p = join(dir, 'locked.gguf');
  await writeFile(p, header(3));
  await chmod(p, 0o000);
  await assert.rejects(checkGgufFile(p), /permission denied/);
});
