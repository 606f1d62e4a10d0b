import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARCHIVE_MARKER, defaultArchiveDir, fetchArchive, isArchiveName } from './model-archive.ts';
import { ModelFetchError } from './model-fetch.ts';
import { type LoopbackServer, startLoopbackServer } from './testing/loopback-server.ts';

let dir = '';
let server: LoopbackServer;
const served = new Map<string, Buffer>();
const hits = new Map<string, number>();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A .tar.bz2 built with Debian's tar from `files` (path → content) under a top folder `top`. */
async function buildArchive(top: string, files: Record<string, string>, link?: string): Promise<Buffer> {
  const src = await mkdtemp(join(dir, 'src-'));
  for (const [p, content] of Object.entries(files)) {
    await mkdir(join(src, top, p, '..'), { recursive: true });
    await writeFile(join(src, top, p), content);
  }
  if (link) await symlink('/etc/passwd', join(src, top, link));
  const out = join(src, 'a.tar.bz2');
  execFileSync('tar', ['-cjf', out, '-C', src, top]);
  return readFile(out);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'timmy-model-archive-'));
  served.set(
    '/asr/sherpa-onnx-whisper-tiny.en.tar.bz2',
    await buildArchive('sherpa-onnx-whisper-tiny.en', {
      'tiny.en-encoder.int8.onnx': 'encoder',
      'tiny.en-decoder.int8.onnx': 'decoder',
      'tiny.en-tokens.txt': 'a 0\n',
      'test_wavs/trans.txt': 'hello\n',
    }),
  );
  served.set('/linked.tar.bz2', await buildArchive('linked', { 'tokens.txt': 'a 0\n' }, 'evil'));
  served.set('/page.tar.bz2', Buffer.from('<html>404 not found</html>'));
  server = await startLoopbackServer((req, _body, res) => {
    const body = served.get(req.url ?? '');
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    if (!body) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(body);
  });
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const archive = () => served.get('/asr/sherpa-onnx-whisper-tiny.en.tar.bz2')!;

test('an archive is downloaded, verified and extracted into <models>/<name>, its top folder stripped', async () => {
  const url = `${server.url}/asr/sherpa-onnx-whisper-tiny.en.tar.bz2`;
  const models = join(dir, 'data', 'models');
  assert.equal(defaultArchiveDir(join(dir, 'data'), url), join(models, 'sherpa-onnx-whisper-tiny.en'));
  assert.ok(isArchiveName(url) && !isArchiveName(`${server.url}/x.gguf`));
  const out = join(models, 'whisper-tiny-en');
  const r = await fetchArchive({ url, sha256: sha(archive()), outDir: out });
  assert.deepEqual(
    { alreadyPresent: r.alreadyPresent, bytes: r.bytes, files: r.files, path: r.path },
    { alreadyPresent: false, bytes: archive().length, files: 4, path: out },
  );
  assert.deepEqual((await readdir(out)).sort(), [
    ARCHIVE_MARKER,
    'test_wavs',
    'tiny.en-decoder.int8.onnx',
    'tiny.en-encoder.int8.onnx',
    'tiny.en-tokens.txt',
  ]);
  assert.equal(await readFile(join(out, 'tiny.en-encoder.int8.onnx'), 'utf8'), 'encoder');
  assert.deepEqual(await readdir(models), ['whisper-tiny-en'], 'no .part or .extract left beside it');
  // The same archive again: nothing is downloaded.
  const before = hits.get('/asr/sherpa-onnx-whisper-tiny.en.tar.bz2');
  const again = await fetchArchive({ url, sha256: sha(archive()).toUpperCase(), outDir: out });
  assert.equal(again.alreadyPresent, true);
  assert.equal(hits.get('/asr/sherpa-onnx-whisper-tiny.en.tar.bz2'), before);
  // Another archive into the same directory is refused.
  await assert.rejects(
    fetchArchive({ url, sha256: 'e'.repeat(64), outDir: out }),
    (e: unknown) =>
      e instanceof ModelFetchError && /already exists \(from an archive with sha256/.test(e.message),
  );
});

test('a bad checksum, a page that is not an archive, and links inside are refused; nothing is left behind', async () => {
  const models = join(dir, 'refused', 'models');
  const url = `${server.url}/asr/sherpa-onnx-whisper-tiny.en.tar.bz2`;
  const wrong = '0'.repeat(64);
  await assert.rejects(
    fetchArchive({ url, sha256: wrong, outDir: join(models, 'w') }),
    (e: unknown) =>
      e instanceof ModelFetchError &&
      e.message.includes(`expected sha256 ${wrong}, got ${sha(archive())}; the download was deleted`),
  );
  const page = served.get('/page.tar.bz2')!;
  await assert.rejects(
    fetchArchive({ url: `${server.url}/page.tar.bz2`, sha256: sha(page), outDir: join(models, 'p') }),
    /is not a \.tar\.bz2 archive/,
  );
  const linked = served.get('/linked.tar.bz2')!;
  await assert.rejects(
    fetchArchive({ url: `${server.url}/linked.tar.bz2`, sha256: sha(linked), outDir: join(models, 'l') }),
    /holds a symbolic link \(evil\); refusing it/,
  );
  await assert.rejects(
    fetchArchive({ url: `${server.url}/missing.tar.bz2`, sha256: wrong, outDir: join(models, 'm') }),
    /HTTP 404/,
  );
  assert.deepEqual(await readdir(models), []);
});
