import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildTinyGguf } from '../tests/fixtures/tiny-gguf.ts';
import {
  defaultModelPath,
  type FetchProgress,
  fetchModel,
  ModelFetchError,
  sha256OfFile,
} from './model-fetch.ts';
import { type LoopbackServer, startLoopbackServer } from './testing/loopback-server.ts';

const model = buildTinyGguf();
const modelSha = createHash('sha256').update(model).digest('hex');
const notGguf = Buffer.from('<html>not a model</html>');
const notGgufSha = createHash('sha256').update(notGguf).digest('hex');
let dir = '';
let server: LoopbackServer;

function send(res: ServerResponse, body: Buffer, chunk = 64 * 1024): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
  let i = 0;
  const next = () => {
    if (i >= body.length) return res.end();
    res.write(body.subarray(i, i + chunk));
    i += chunk;
    setImmediate(next);
  };
  next();
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'timmy-model-fetch-'));
  server = await startLoopbackServer((req, _body, res): void => {
    if (req.url === '/m/tiny.gguf' || req.url === '/page.gguf') {
      send(res, req.url === '/page.gguf' ? notGguf : model);
      return;
    }
    if (req.url === '/moved.gguf') {
      res.writeHead(302, { location: '/m/tiny.gguf' });
      res.end();
      return;
    }
    if (req.url === '/dropped.gguf') {
      res.writeHead(200, { 'content-length': String(model.length) });
      res.write(model.subarray(0, 100_000));
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (req.url === '/chunked.gguf') {
      res.writeHead(200);
      res.end(model);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const leftovers = async (sub: string) =>
  (await readdir(join(dir, sub)).catch(() => [])).filter((f) => f.endsWith('.part'));

test('defaultModelPath names the file after the URL', () => {
  assert.equal(
    defaultModelPath('/d', 'https://h/x/Qwen%20Model.gguf?download=true'),
    '/d/models/Qwen Model.gguf',
  );
  assert.throws(() => defaultModelPath('/d', 'https://h/'), ModelFetchError);
  assert.throws(() => defaultModelPath('/d', 'nope'), /not a URL/);
});

test('downloads with progress, verifies, and places the file; a second fetch finds it present', async () => {
  const out = join(dir, 'ok', 'models', 'tiny.gguf');
  const progress: FetchProgress[] = [];
  const r = await fetchModel({
    url: `${server.url}/m/tiny.gguf`,
    sha256: modelSha.toUpperCase(),
    outPath: out,
    onProgress: (p) => progress.push(p),
  });
  assert.deepEqual(r, { path: out, bytes: model.length, sha256: modelSha, alreadyPresent: false });
  assert.ok((await readFile(out)).equals(model));
  assert.ok(progress.length > 1);
  assert.equal(progress.at(-1)?.receivedBytes, model.length);
  assert.equal(progress[0]?.totalBytes, model.length);
  assert.deepEqual(await leftovers('ok/models'), []);
  const again = await fetchModel({ url: `${server.url}/m/tiny.gguf`, sha256: modelSha, outPath: out });
  assert.equal(again.alreadyPresent, true);
  assert.equal(await sha256OfFile(out), modelSha);
});

test('follows redirects and accepts a body without Content-Length', async () => {
  const cases: [string, string][] = [
    ['moved', '/moved.gguf'],
    ['chunked', '/chunked.gguf'],
  ];
  for (const [name, path] of cases) {
    const out = join(dir, name, 'tiny.gguf');
    const r = await fetchModel({ url: `${server.url}${path}`, sha256: modelSha, outPath: out });
    assert.equal(r.bytes, model.length);
  }
});

test('a checksum mismatch deletes the download and shows both hashes', async () => {
  const out = join(dir, 'bad', 'tiny.gguf');
  const wrong = 'ab'.repeat(32);
  await assert.rejects(
    fetchModel({ url: `${server.url}/m/tiny.gguf`, sha256: wrong, outPath: out }),
    (e: unknown) => {
      assert.ok(e instanceof ModelFetchError);
      assert.ok(e.message.includes(wrong) && e.message.includes(modelSha), e.message);
      return true;
    },
  );
  assert.deepEqual(await readdir(join(dir, 'bad')), []);
});

test('HTTP 404, a dropped connection and a non-GGUF file fail cleanly, leaving nothing behind', async () => {
  const cases: [string, string, RegExp][] = [
    ['/missing.gguf', modelSha, /HTTP 404/],
    ['/dropped.gguf', modelSha, /download (interrupted after \d+ bytes|incomplete)/],
    ['/page.gguf', notGgufSha, /not a GGUF model file/],
  ];
  for (const [path, sha, re] of cases) {
    const out = join(dir, 'fail', 'model.gguf');
    await assert.rejects(
      fetchModel({ url: `${server.url}${path}`, sha256: sha, outPath: out }),
      (e: unknown) => {
        assert.ok(e instanceof ModelFetchError, String(e));
        assert.match(e.message, re);
        return true;
      },
    );
    assert.deepEqual(await readdir(join(dir, 'fail')), [], path);
  }
});

test('refuses to overwrite a different existing file; rejects bad input early', async () => {
  const out = join(dir, 'existing.gguf');
  await writeFile(out, 'something else');
  await assert.rejects(
    fetchModel({ url: `${server.url}/m/tiny.gguf`, sha256: modelSha, outPath: out }),
    /already exists and is a different file/,
  );
  assert.equal(await readFile(out, 'utf8'), 'something else');
  await assert.rejects(
    fetchModel({ url: `${server.url}/m/tiny.gguf`, sha256: 'abc', outPath: out }),
    /64 hexadecimal digits/,
  );
  await assert.rejects(fetchModel({ url: 'ftp://h/x.gguf', sha256: modelSha, outPath: out }), /only http/);
  const gone = await startLoopbackServer(() => {});
  await gone.close();
  await assert.rejects(
    fetchModel({ url: `${gone.url}/x.gguf`, sha256: modelSha, outPath: join(dir, 'x.gguf') }),
    /cannot download .*connection refused/,
  );
});
