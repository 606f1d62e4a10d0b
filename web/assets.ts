import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { BuildOptions } from 'esbuild';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

/**
 * The dashboard's browser code, bundled by esbuild in memory (nothing written to disk, nothing from a CDN)
 * on the first request or on `warm()`, once: every asset is then answered from memory with an ETag, gzip when
 * the client takes it, and `immutable` caching for the hashed chunks (three.js, imported dynamically by the
 * 3D view, is one of them). A build error is logged and answered as a 500 with its text, never a crash.
 */

export const ASSET_PREFIX = '/assets/';

/** The app's entry points, under the repository root: `<name>.js` under /assets/. */
export const APP_ENTRIES: Record<string, string> = {
  app: 'web/app/main.ts',
  'layout-worker': 'web/app/swarm/layout-worker.ts',
  'talk-worklet': 'web/app/talk-worklet.ts',
};

/** What the app adds to the build (web/app/build-config.ts): aliases of node modules, defines, injects. */
export interface BrowserBuildExtras {
  alias?: Record<string, string>;
  define?: Record<string, string>;
  inject?: string[];
}

export interface AssetBundleOptions {
  logger: Logger;
  /** Entry name → file path (absolute, or relative to `root`). Default APP_ENTRIES. */
  entries?: Record<string, string>;
  /** The repository root. Default: this file's folder's parent. */
  root?: string;
  /** The app's extra build options; default: web/app/build-config.ts's browserBuildOptions() when it exists. */
  extras?: () => Promise<BrowserBuildExtras>;
}

export interface Asset {
  body: Buffer;
  gzip: Buffer;
  etag: string;
  contentType: string;
  /** Named by its content hash: cached for good. */
  immutable: boolean;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export class AssetBundle {
  private built: Promise<Map<string, Asset>> | undefined;
  private readonly log: Logger;
  private readonly root: string;
  private readonly entries: Record<string, string>;

  constructor(private readonly options: AssetBundleOptions) {
    this.log = options.logger.child({ component: 'assets' });
    this.root = options.root ?? ROOT;
    this.entries = options.entries ?? APP_ENTRIES;
  }

  /** Builds now (in the background), so the first page is fast; a failure is logged, and answered later. */
  warm(): void {
    this.build().catch(() => {});
  }

  /** The assets by path (/assets/…), built once; rejects with the build's error (the same one each time). */
  build(): Promise<Map<string, Asset>> {
    this.built ??= this.run().catch((err: unknown) => {
      this.log.error({ err: errorMessage(err) }, 'the dashboard assets failed to build');
      throw err;
    });
    return this.built;
  }

  /** Answers `pathname` when it is under /assets/; false otherwise (not ours). */
  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (!pathname.startsWith(ASSET_PREFIX)) return false;
    let assets: Map<string, Asset>;
    try {
      assets = await this.build();
    } catch (err) {
      sendText(res, 500, `the dashboard's assets failed to build:\n${errorMessage(err)}\n`);
      return true;
    }
    const asset = assets.get(pathname);
    if (!asset) {
      const body = JSON.stringify({ error: `no such asset: ${pathname}` });
      res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    }
    const headers: Record<string, string> = {
      'Content-Type': asset.contentType,
      ETag: asset.etag,
      'Cache-Control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      Vary: 'Accept-Encoding',
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? asset.gzip : asset.body;
    if (gzip) headers['Content-Encoding'] = 'gzip';
    headers['Content-Length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  private async run(): Promise<Map<string, Asset>> {
    const started = performance.now();
    const { build } = await import('esbuild');
    const extras = await (this.options.extras ?? (() => appBuildExtras(this.root)))();
    const entryPoints = Object.entries(this.entries).map(([out, file]) => ({
      in: file.startsWith('/') ? file : join(this.root, file),
      out,
    }));
    const outdir = join(this.root, 'assets-out');
    const options: BuildOptions = {
      entryPoints,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      sourcemap: 'linked',
      write: false,
      outdir,
      entryNames: '[name]',
      chunkNames: 'chunks/[name]-[hash]',
      assetNames: 'media/[name]-[hash]',
      logLevel: 'silent',
      legalComments: 'none',
      ...(extras.alias ? { alias: extras.alias } : {}),
      ...(extras.define ? { define: extras.define } : {}),
      ...(extras.inject ? { inject: extras.inject } : {}),
    };
    const result = await build(options);
    const assets = new Map<string, Asset>();
    for (const file of result.outputFiles ?? []) {
      const name = relative(outdir, file.path).split('\\').join('/');
      const ext = name.slice(name.lastIndexOf('.'));
      const body = Buffer.from(file.contents);
      assets.set(`${ASSET_PREFIX}${name}`, {
        body,
        gzip: gzipSync(body),
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
        contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
        immutable: name.startsWith('chunks/') || name.startsWith('media/'),
      });
    }
    this.log.info(
      { ms: Math.round(performance.now() - started), files: assets.size },
      'dashboard assets built',
    );
    return assets;
  }
}

/** web/app/build-config.ts's browserBuildOptions(), when the app has one; nothing otherwise. */
async function appBuildExtras(root: string): Promise<BrowserBuildExtras> {
  const file = join(root, 'web', 'app', 'build-config.ts');
  if (!existsSync(file)) return {};
  const mod = (await import(pathToFileURL(file).href)) as { browserBuildOptions?: () => BrowserBuildExtras };
  const extras = mod.browserBuildOptions?.() ?? {};
  // Paths the app names relative to the repository resolve from the root.
  const inject = extras.inject?.map((p) => (p.startsWith('/') ? p : join(root, p)));
  return { ...extras, ...(inject ? { inject } : {}) };
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
