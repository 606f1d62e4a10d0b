/**
 * A real browser for tests: Debian's chromium driven by playwright-core (no browser download), a fresh profile
 * per launch, every request that is not to loopback aborted and recorded (tests never leave the machine), a
 * NIP-07 `window.nostr` backed by a key held in the test process, and screenshots that are checked not to be
 * blank. Launch once per test file; a context per scenario.
 */
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as nip04 from 'nostr-tools/nip04';
import * as nip44 from 'nostr-tools/nip44';
import { finalizeEvent, getPublicKey } from 'nostr-tools/pure';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { EventTemplate } from '../core/nostr.ts';

export const CHROMIUM_PATH = process.env.TIMMY_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that keep chromium offline and quiet. No GPU flags: they make 2D canvas 5x slower here. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--no-default-browser-check',
];

/** Where screenshots go (git-ignored). */
export const SCREENSHOT_DIR = join(dirname(new URL(import.meta.url).pathname), '..', 'tmp', 'screenshots');

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (cookies, storage) that aborts and records every request not to loopback. */
  context(options?: { viewport?: { width: number; height: number } }): Promise<TestContext>;
  close(): Promise<void>;
}

export interface TestContext {
  context: BrowserContext;
  page: Page;
  /** URLs the page tried to reach that were not loopback (aborted). */
  offOrigin: string[];
  /** Every request URL the page made, in order. */
  requests: string[];
  /** Console errors and uncaught page errors. */
  errors: string[];
  close(): Promise<void>;
}

const LOOPBACK_URL = /^(https?|wss?):\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i;

export async function launchBrowser(): Promise<TestBrowser> {
  // playwright gives every launch a fresh temporary profile of its own (and removes it on close).
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
  });
  return {
    browser,
    context: async (options = {}) => {
      const context = await browser.newContext({
        viewport: options.viewport ?? { width: 1280, height: 800 },
      });
      const offOrigin: string[] = [];
      const requests: string[] = [];
      const errors: string[] = [];
      await context.route('**/*', async (route) => {
        const url = route.request().url();
        if (LOOPBACK_URL.test(url) || url.startsWith('data:') || url.startsWith('blob:'))
          await route.continue();
        else {
          offOrigin.push(url);
          await route.abort('blockedbyclient');
        }
      });
      context.on('request', (r) => requests.push(r.url()));
      context.on('weberror', (e) => errors.push(`pageerror: ${e.error().message}`));
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      page.on('websocket', (ws) => {
        if (!LOOPBACK_URL.test(ws.url())) offOrigin.push(ws.url());
      });
      return { context, page, offOrigin, requests, errors, close: () => context.close() };
    },
    close: () => browser.close(),
  };
}

export interface FakeNip07 {
  pubkey: string;
  /** Every template the page asked to sign, in order. */
  signed: EventTemplate[];
  /** When set, signEvent rejects with this message (a user who clicks "deny"). */
  deny?: string;
}

/**
 * Gives the context's pages a NIP-07 `window.nostr` whose key stays in this process: getPublicKey,
 * signEvent, nip04 and nip44 encrypt/decrypt, all through `exposeFunction`. Call before `page.goto`.
 */
export async function injectNip07(context: BrowserContext, secretKey: Uint8Array): Promise<FakeNip07> {
  const pubkey = getPublicKey(secretKey);
  const fake: FakeNip07 = { pubkey, signed: [] };
  await context.exposeFunction('__timmyNip07', async (op: string, a: unknown, b: unknown) => {
    switch (op) {
      case 'getPublicKey':
        return pubkey;
      case 'signEvent': {
        if (fake.deny) throw new Error(fake.deny);
        const t = a as EventTemplate;
        fake.signed.push(t);
        return finalizeEvent(
          { kind: t.kind, tags: t.tags, content: t.content, created_at: t.created_at },
          secretKey,
        );
      }
      case 'nip44.encrypt':
        return nip44.encrypt(String(b), nip44.getConversationKey(secretKey, String(a)));
      case 'nip44.decrypt':
        return nip44.decrypt(String(b), nip44.getConversationKey(secretKey, String(a)));
      case 'nip04.encrypt':
        return nip04.encrypt(secretKey, String(a), String(b));
      case 'nip04.decrypt':
        return nip04.decrypt(secretKey, String(a), String(b));
      default:
        throw new Error(`unknown NIP-07 call ${op}`);
    }
  });
  await context.addInitScript({
    content: `(() => {
      const call = (op, a, b) => window.__timmyNip07(op, a, b);
      window.nostr = {
        getPublicKey: () => call('getPublicKey'),
        signEvent: (t) => call('signEvent', t),
        nip44: { encrypt: (pk, s) => call('nip44.encrypt', pk, s), decrypt: (pk, s) => call('nip44.decrypt', pk, s) },
        nip04: { encrypt: (pk, s) => call('nip04.encrypt', pk, s), decrypt: (pk, s) => call('nip04.decrypt', pk, s) },
      };
    })();`,
  });
  return fake;
}

/**
 * Saves a full-page screenshot as tmp/screenshots/<name>.png and fails when it is blank: a page whose
 * pixels are (nearly) all one colour did not render.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  const size = (await stat(file)).size;
  const distinct = await page.evaluate(
    async (dataUrl: string) => {
      const img = new Image();
      img.src = dataUrl;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = Math.min(img.width, 400);
      c.height = Math.min(img.height, 400);
      const g = c.getContext('2d');
      if (!g) return 0;
      g.drawImage(img, 0, 0, c.width, c.height);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < px.length; i += 4 * 7)
        seen.add(((px[i] ?? 0) << 16) | ((px[i + 1] ?? 0) << 8) | (px[i + 2] ?? 0));
      return seen.size;
    },
    `data:image/png;base64,${(await page.screenshot({ fullPage: false })).toString('base64')}`,
  );
  if (size < 2000 || distinct < 8)
    throw new Error(`screenshot ${name} looks blank (${size} bytes, ${distinct} colours)`);
  return file;
}

/**
 * A browser-side bundle for component tests: esbuild of `entry` as one ESM script (no splitting), with the
 * dashboard's browser options (web/app/build-config.ts: node:crypto and friends shimmed, Buffer injected).
 */
export async function bundleForBrowser(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  const { browserBuildOptions } = await import('../web/app/build-config.ts');
  const out = await build({
    ...browserBuildOptions(),
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error(`esbuild produced nothing for ${entry}`);
  return file.text;
}

/**
 * Serves `html` (and `script` at /app.js, and `files` by path, e.g. a worker at /worker.js) on loopback for a
 * component test and opens it: the page's origin is http://127.0.0.1:<port>. Returns the URL; the server
 * closes with the context.
 */
export async function openComponentPage(
  ctx: TestContext,
  script: string,
  body: string,
  files: Record<string, string> = {},
): Promise<string> {
  const { createServer } = await import('node:http');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>test</title></head><body>${body}<script type="module" src="/app.js"></script></body></html>`;
  const server = createServer((req, res) => {
    const js = req.url === '/app.js' ? script : req.url ? files[req.url] : undefined;
    if (js !== undefined) {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(js);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(html);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  ctx.page.context().once('close', () => server.close());
  const url = `http://127.0.0.1:${port}/`;
  await ctx.page.goto(url);
  return url;
}
