import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, utimes } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import { isMediaPath, mediaUrl, serveMedia } from './media-route.ts';
import { MediaStore, MediaTooLargeError } from './media-store.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function store(limits: { maxFileBytes?: number; maxTotalBytes?: number } = {}): Promise<MediaStore> {
  const dir = await mkdtemp(join(tmpdir(), 'timmy-media-'));
  dirs.push(dir);
  return new MediaStore({ dir: join(dir, 'media'), logger: silentLogger, ...limits });
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('put names a file by its sha256, writes it once, and a new store over the folder finds it', async () => {
  const s = await store();
  const bytes = Buffer.from('RIFF....WAVEdata');
  const name = await s.put(bytes);
  assert.equal(name, `${sha(bytes)}.wav`);
  assert.equal(await s.put(bytes), name);
  assert.deepEqual(await readdir(s.dir), [name]);
  const again = new MediaStore({ dir: s.dir, logger: silentLogger });
  assert.equal((await again.find(name))?.bytes, bytes.length);
  assert.deepEqual(await readFile(join(s.dir, name)), bytes);
});

test('limits: a file over the file limit is refused; the oldest files make room under the total', async () => {
  const s = await store({ maxFileBytes: 10, maxTotalBytes: 25 });
  await assert.rejects(s.put(Buffer.alloc(11)), MediaTooLargeError);
  const a = await s.put(Buffer.alloc(10, 1));
  await utimes(join(s.dir, a), new Date(1000), new Date(1000));
  const b = await s.put(Buffer.alloc(10, 2));
  const c = await s.put(Buffer.alloc(10, 3));
  assert.deepEqual((await readdir(s.dir)).sort(), [b, c].sort());
});

test('find refuses any name that is not a media name (no path tricks)', async () => {
  const s = await store();
  await s.put(Buffer.from('x'));
  for (const name of ['../media.wav', 'x.wav', `${'a'.repeat(64)}.mp3`, `${'A'.repeat(64)}.wav`, ''])
    assert.equal(await s.find(name), undefined, name);
});

test('the route: audio/wav with length and ETag, HEAD, 304, 404; urls under a base', async () => {
  const s = await store();
  const bytes = Buffer.from('RIFF-some-wave-bytes');
  const name = await s.put(bytes);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (isMediaPath(path)) void serveMedia(s, req, res, path);
    else res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const url = mediaUrl(base, name);
  assert.equal(url, `${base}media/${name}`);
  const got = await fetch(url);
  assert.equal(got.status, 200);
  assert.equal(got.headers.get('content-type'), 'audio/wav');
  assert.equal(got.headers.get('content-length'), String(bytes.length));
  assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
  assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);
  const etag = got.headers.get('etag') ?? '';
  assert.equal(etag, `"${sha(bytes)}"`);
  assert.equal((await fetch(url, { headers: { 'if-none-match': etag } })).status, 304);
  const head = await fetch(url, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(bytes.length));
  assert.equal((await fetch(mediaUrl(base, `${'0'.repeat(64)}.wav`))).status, 404);
  assert.equal((await fetch(`${base}media/..%2Fx`)).status, 404);
});
