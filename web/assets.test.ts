import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { MemoryLogger } from '../core/logger.ts';
import { AssetBundle } from './assets.ts';

/** A tiny app: an entry that imports a module dynamically (a chunk of its own) and a worker entry. */
async function fixture(dir: string): Promise<Record<string, string>> {
  await writeFile(
    join(dir, 'main.ts'),
    "export const answer: number = 42;\nexport async function later() { return (await import('./heavy.ts')).HEAVY; }\ncustomElements.define('x-el', class extends HTMLElement {});\n",
  );
  await writeFile(join(dir, 'heavy.ts'), `export const HEAVY = ${JSON.stringify('x'.repeat(5000))};\n`);
  await writeFile(join(dir, 'worker.ts'), 'self.onmessage = (e) => self.postMessage(e.data);\n');
  await writeFile(join(dir, 'broken.ts'), 'export const = ;\n');
  return { app: join(dir, 'main.ts'), 'layout-worker': join(dir, 'worker.ts') };
}

async function serve(bundle: AssetBundle): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    bundle.serve(req, res, path).then((ours) => {
      if (!ours) {
        res.writeHead(418);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('the asset bundle', () => {
  let dir = '';
  let entries: Record<string, string> = {};
  const logger = new MemoryLogger();
  let bundle: AssetBundle;
  let server: Server;
  let base = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'timmy-assets-'));
    entries = await fixture(dir);
    bundle = new AssetBundle({ logger, entries, root: dir, extras: async () => ({}) });
    ({ server, base } = await serve(bundle));
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('serves the entries, their source maps and the split chunk, minified, with types and caching', async () => {
    const assets = await bundle.build();
    const paths = [...assets.keys()];
    assert.ok(paths.includes('/assets/app.js'), paths.join(' '));
    assert.ok(paths.includes('/assets/app.js.map'));
    assert.ok(paths.includes('/assets/layout-worker.js'));
    const chunk = paths.find((p) => /^\/assets\/chunks\/heavy-[A-Z0-9]+\.js$/.test(p));
    assert.ok(chunk, `the dynamic import is a chunk of its own: ${paths.join(' ')}`);

    const res = await fetch(`${base}/assets/app.js`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const js = await res.text();
    assert.match(js, /customElements\.define/);
    assert.match(js, /sourceMappingURL=app\.js\.map/);
    assert.doesNotMatch(js, /\n\s+\n/, 'minified');
    assert.ok(!js.includes('x'.repeat(5000)), 'the heavy module is not in the entry');

    const c = await fetch(`${base}${chunk}`);
    assert.equal(c.status, 200);
    assert.match(c.headers.get('cache-control') ?? '', /immutable/);
    assert.ok((await c.text()).includes('x'.repeat(5000)));
    assert.equal(
      (await fetch(`${base}/assets/app.js.map`)).headers.get('content-type'),
      'application/json; charset=utf-8',
    );
  });

  test('ETag answers 304, gzip when accepted, 404 JSON for an unknown asset, not ours outside /assets/', async () => {
    const first = await fetch(`${base}/assets/app.js`);
    const etag = first.headers.get('etag') ?? '';
    assert.match(etag, /^"[\w-]+"$/);
    const again = await fetch(`${base}/assets/app.js`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);

    // node's fetch decodes gzip itself: ask through the raw bytes.
    const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      import('node:http').then(({ get }) =>
        get(`${base}/assets/app.js`, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
          );
        }).on('error', reject),
      );
    });
    assert.equal(raw.encoding, 'gzip');
    assert.match(gunzipSync(raw.body).toString('utf8'), /customElements\.define/);

    const nf = await fetch(`${base}/assets/nope.js`);
    assert.equal(nf.status, 404);
    assert.match((await nf.json()).error, /no such asset/);
    assert.equal((await fetch(`${base}/other`)).status, 418);
  });

  test('builds once however many ask, and logs the build time', async () => {
    const [a, b] = await Promise.all([bundle.build(), bundle.build()]);
    assert.equal(a, b);
    const built = logger.records.filter((r) => r.msg === 'dashboard assets built');
    assert.equal(built.length, 1);
    assert.equal(typeof built[0]?.fields.ms, 'number');
  });

  test('a build error is logged and answered 500 with its text, not a crash', async () => {
    const log = new MemoryLogger();
    const broken = new AssetBundle({
      logger: log,
      entries: { app: join(dir, 'broken.ts') },
      root: dir,
      extras: async () => ({}),
    });
    broken.warm();
    const s = await serve(broken);
    try {
      const res = await fetch(`${s.base}/assets/app.js`);
      assert.equal(res.status, 500);
      assert.match(await res.text(), /failed to build[\s\S]*broken\.ts/);
      assert.ok(log.records.some((r) => r.level === 'error' && /failed to build/.test(r.msg)));
      assert.equal((await fetch(`${s.base}/assets/app.js`)).status, 500, 'and again, without a rebuild');
    } finally {
      s.server.close();
    }
  });
});
