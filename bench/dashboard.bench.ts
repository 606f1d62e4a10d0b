import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import type { Page } from 'playwright-core';
import { type RunningInstance, startInstance } from '../cli/compose.ts';
import { loadConfig } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { chromiumAvailable, launchBrowser, type TestBrowser } from '../testkit/browser.ts';

/**
 * The dashboard as a user meets it: a real instance (`startInstance`, what `timmy start` runs: embedded relay,
 * agents, desk, HTTP server with the /relay bridge; temporary data dir, ports 0, fast key derivation) in this
 * process, and Debian's headless chromium (no GPU flags) through testkit/browser.ts.
 *
 * - **Time to interactive of `/`**: from navigation start (the page's `performance.timeOrigin`) to the first
 *   animation frame in which <timmy-app> has rendered its navigation and the chat page (the home page) its
 *   heading, its message box and the job kinds read from /api/status. A probe installed before any script
 *   (`addInitScript`) checks once a frame. The assets are built first with `assets.build()` (what
 *   `timmy start`'s `assets.warm()` starts after its banner), so the esbuild build is not in the numbers.
 *   Cold: a fresh browser context per load (empty cache); warm: reloads in one context (app.js revalidated:
 *   304). Baseline, same run, interleaved: a static page of the same bytes (HTML padded to the home page's
 *   size, one module script of app.js's size whose code sits in a function never called, so it is fetched and
 *   parsed but not run; gzip and ETag like the app's), from a plain node:http server on loopback, to its load
 *   event.
 * - **Live update latency**: the /monitor page watching this origin's /relay (what the dashboard's pages use),
 *   and a job request (kind 5700, signed beforehand) published through a second WebSocket in the same page to
 *   the same /relay; measured entirely in the page (one clock): `performance.now()` before `send` → a
 *   MutationObserver sees the request's row in "Latest events" (DOM) → the next animation frame (painted).
 *   Baseline, same run, alternating sample by sample: a bare page with one WebSocket subscribed to the same
 *   /relay with the monitor's filter (`{since: now}`) that appends a row on `onmessage`, the same publish path
 *   and the same two clocks.
 */

const LOADS = 10;
const SAMPLES = 30;
const WARMUP_SAMPLES = 3;
/** Between live samples: the echo job the request starts settles before the next one. */
const SAMPLE_GAP_MS = 300;

export interface Quantiles {
  n: number;
  p50: number;
  p95: number;
  mean: number;
}

export function quantiles(xs: number[]): Quantiles {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number =>
    s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
  return { n: s.length, p50: at(0.5), p95: at(0.95), mean: s.reduce((a, b) => a + b, 0) / (s.length || 1) };
}

/** Installed before any script of the app's page: the first frame showing the shell and the home page. */
const TTI_PROBE = `(() => {
  const ready = () => {
    const app = document.querySelector('timmy-app');
    const root = app && app.shadowRoot;
    if (!root || root.querySelectorAll('nav a').length < 9) return false;
    const page = root.querySelector('timmy-chat-page');
    const pr = page && page.shadowRoot;
    if (!pr || !pr.querySelector('h1') || !pr.querySelector('textarea')) return false;
    const options = [...pr.querySelectorAll('select option')].map((o) => o.value);
    return options.length > 0 && !(options.length === 1 && options[0] === '5050');
  };
  const tick = () => {
    if (ready()) window.__tti = performance.now();
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`;

/** The navigation's load event, relative to navigation start. */
const LOAD_EVENT = `(() => {
  const n = performance.getEntriesByType('navigation')[0];
  return n ? n.loadEventStart : -1;
})()`;

interface LoadTimes {
  /** Navigation start → the app ready (app) or the load event (baseline). */
  ready: number;
  load: number;
}

async function appLoad(page: Page, url: string, reload: boolean): Promise<LoadTimes> {
  if (reload) await page.reload({ waitUntil: 'load' });
  else await page.goto(url, { waitUntil: 'load' });
  // A function, not a string: the dashboard's CSP forbids eval, which a string predicate uses.
  await page.waitForFunction(() => (window as Window & { __tti?: number }).__tti !== undefined, undefined, {
    timeout: 30_000,
  });
  const ready = Number(await page.evaluate('window.__tti'));
  const load = Number(await page.evaluate(LOAD_EVENT));
  return { ready, load };
}

async function staticLoad(page: Page, url: string, reload: boolean): Promise<LoadTimes> {
  if (reload) await page.reload({ waitUntil: 'load' });
  else await page.goto(url, { waitUntil: 'load' });
  const load = Number(await page.evaluate(LOAD_EVENT));
  return { ready: load, load };
}

/** A static page of the given sizes: HTML text padded to `htmlBytes`, a module script of `scriptBytes`. */
function staticSite(htmlBytes: number, scriptBytes: number): Map<string, { body: Buffer; type: string }> {
  const head =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Static baseline</title>' +
    '<script type="module" src="/pad.js"></script></head><body><h1>Static baseline</h1>';
  const tail = '</body></html>';
  const para = '<p>Timmy Time is a network of agents that sell work to each other over Nostr.</p>\n';
  let html = head;
  while (html.length + para.length + tail.length <= htmlBytes) html += para;
  html += `${' '.repeat(Math.max(0, htmlBytes - html.length - tail.length))}${tail}`;
  // The bytes inside one function that is never called: parsed (pre-parsed), not run.
  let js = 'function pad(a) {\n';
  for (let i = 0; js.length < scriptBytes - 40; i++) js += `  if (a === ${i}) return a * ${i} + 1;\n`;
  js += '}\nwindow.__padded = typeof pad;\n';
  return new Map([
    ['/', { body: Buffer.from(html), type: 'text/html; charset=utf-8' }],
    ['/pad.js', { body: Buffer.from(js), type: 'text/javascript; charset=utf-8' }],
    [
      '/bare',
      { body: Buffer.from('<!doctype html><title>bare</title><ul id="rows"></ul>'), type: 'text/html' },
    ],
  ]);
}

async function serveStatic(files: Map<string, { body: Buffer; type: string }>): Promise<Server> {
  const prepared = new Map(
    [...files].map(([path, f]) => [
      path,
      {
        ...f,
        gzip: gzipSync(f.body),
        etag: `"${createHash('sha256').update(f.body).digest('hex').slice(0, 16)}"`,
      },
    ]),
  );
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const f = prepared.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    const headers: Record<string, string> = {
      'Content-Type': f.type,
      ETag: f.etag,
      'Cache-Control': 'no-cache',
    };
    if (req.headers['if-none-match'] === f.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (gzip) headers['Content-Encoding'] = 'gzip';
    const body = gzip ? f.gzip : f.body;
    headers['Content-Length'] = String(body.length);
    res.writeHead(200, headers).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/**
 * The page side of a live sample, installed once per page: a publishing WebSocket to the relay bridge, and
 * `__live.sample(event, marker)` resolving with ms from `send` to the row in the DOM and to the next frame.
 * `__live.root()` is where rows appear (the monitor's shadow root, or the bare page's document).
 */
function liveScript(bridge: string, rootExpr: string): string {
  return `(() => {
  const pub = new WebSocket(${JSON.stringify(bridge)});
  const oks = new Map();
  pub.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg[0] === 'OK') { const f = oks.get(msg[1]); if (f) f(msg); }
  };
  const root = () => ${rootExpr};
  window.__live = {
    opened: new Promise((resolve, reject) => { pub.onopen = resolve; pub.onerror = () => reject(new Error('publisher did not connect')); }),
    sample: (event, marker) => new Promise((resolve, reject) => {
      const r = root();
      if (!r) { reject(new Error('no root to watch')); return; }
      let t0 = 0;
      let ok;
      const timer = setTimeout(() => { obs.disconnect(); reject(new Error('not visible within 10 s (OK: ' + JSON.stringify(ok) + ')')); }, 10000);
      const obs = new MutationObserver(() => {
        if (!(r.textContent || '').includes(marker)) return;
        const dom = performance.now() - t0;
        obs.disconnect();
        requestAnimationFrame(() => {
          clearTimeout(timer);
          resolve({ dom, frame: performance.now() - t0, ok });
        });
      });
      obs.observe(r, { childList: true, subtree: true, characterData: true });
      oks.set(event.id, (msg) => { ok = msg; oks.delete(event.id); if (msg[2] !== true) { clearTimeout(timer); obs.disconnect(); reject(new Error('relay refused: ' + msg[3])); } });
      t0 = performance.now();
      pub.send(JSON.stringify(['EVENT', event]));
    }),
  };
})()`;
}

/** The bare baseline page: one subscription to the bridge, the monitor's filter, a row appended per event. */
function bareSubscriber(bridge: string): string {
  return `new Promise((resolve, reject) => {
  const ws = new WebSocket(${JSON.stringify(bridge)});
  const rows = document.getElementById('rows');
  ws.onerror = () => reject(new Error('bare subscriber did not connect'));
  ws.onopen = () => ws.send(JSON.stringify(['REQ', 'bare', { since: Math.floor(Date.now() / 1000) }]));
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg[0] === 'EOSE') resolve(true);
    else if (msg[0] === 'EVENT') {
      const li = document.createElement('li');
      li.textContent = 'kind ' + msg[2].kind + ' ' + msg[2].content.slice(0, 200);
      rows.prepend(li);
    }
  };
})`;
}

interface LiveSample {
  dom: number;
  frame: number;
}

async function liveSample(page: Page, event: NostrEvent, marker: string): Promise<LiveSample> {
  const r = (await page.evaluate(
    `window.__live.sample(${JSON.stringify(event)}, ${JSON.stringify(marker)})`,
  )) as {
    dom: number;
    frame: number;
  };
  return { dom: r.dom, frame: r.frame };
}

const MONITOR_ROOT =
  "document.querySelector('timmy-app')?.shadowRoot?.querySelector('timmy-monitor-page')?.shadowRoot ?? null";

export async function benchDashboard(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<string> {
  const title = '## Dashboard: time to interactive and live update latency (headless chromium)';
  if (!chromiumAvailable()) return `${title}\n\nskipped: no chromium at /usr/bin/chromium`;
  const loads = options.quick ? 3 : LOADS;
  const samples = options.quick ? 10 : SAMPLES;
  const dir = await mkdtemp(join(tmpdir(), 'timmy-bench-dashboard-'));
  const { config } = loadConfig({
    overrides: { dataDir: dir, 'relay.port': 0, 'http.port': 0, 'identity.scryptLogN': 8 },
  });
  let instance: RunningInstance | undefined;
  let baseServer: Server | undefined;
  let browser: TestBrowser | undefined;
  try {
    options.log('dashboard benchmark: starting an instance (embedded relay, agents, HTTP) in this process');
    instance = await startInstance(config, dir, silentLogger);
    const origin = instance.localHttpUrl.replace(/\/+$/, '');
    const bridge = `${origin.replace(/^http/, 'ws')}/relay`;
    const t0 = performance.now();
    await instance.assets.build();
    const buildMs = performance.now() - t0;
    const homeBytes = Buffer.byteLength(await (await fetch(`${origin}/`)).text());
    const appRes = await fetch(`${origin}/assets/app.js`, { headers: { 'accept-encoding': 'identity' } });
    const appBytes = (await appRes.arrayBuffer()).byteLength;
    baseServer = await serveStatic(staticSite(homeBytes, appBytes));
    const baseOrigin = `http://127.0.0.1:${(baseServer.address() as AddressInfo).port}`;
    options.log(
      `  assets built in ${buildMs.toFixed(0)} ms; / is ${homeBytes} bytes, app.js ${appBytes} bytes (uncompressed)`,
    );

    browser = await launchBrowser();
    const b = browser;

    // Time to interactive, cold: a fresh context (empty cache) per load, app and baseline interleaved.
    const cold: LoadTimes[] = [];
    const coldBase: LoadTimes[] = [];
    for (let i = 0; i < loads + 1; i++) {
      const ctx = await b.context();
      await ctx.context.addInitScript({ content: TTI_PROBE });
      const r = await appLoad(ctx.page, `${origin}/`, false);
      if (ctx.errors.length > 0) throw new Error(`the dashboard failed: ${ctx.errors.join('; ')}`);
      await ctx.close();
      const cb = await b.context();
      const rb = await staticLoad(cb.page, `${baseOrigin}/`, false);
      await cb.close();
      // The first of each is the browser's own first navigation (process start-up): not counted.
      if (i === 0) continue;
      cold.push(r);
      coldBase.push(rb);
    }
    options.log(`  TTI cold: ${cold.map((r) => r.ready.toFixed(0)).join(', ')} ms`);

    // Warm: reloads in one context each.
    const warm: LoadTimes[] = [];
    const warmBase: LoadTimes[] = [];
    const ctxApp = await b.context();
    await ctxApp.context.addInitScript({ content: TTI_PROBE });
    await appLoad(ctxApp.page, `${origin}/`, false);
    const ctxBase = await b.context();
    await staticLoad(ctxBase.page, `${baseOrigin}/`, false);
    for (let i = 0; i < loads; i++) {
      warm.push(await appLoad(ctxApp.page, `${origin}/`, true));
      warmBase.push(await staticLoad(ctxBase.page, `${baseOrigin}/`, true));
    }
    if (ctxApp.errors.length > 0) throw new Error(`the dashboard failed: ${ctxApp.errors.join('; ')}`);
    await ctxApp.close();
    await ctxBase.close();
    options.log(`  TTI warm: ${warm.map((r) => r.ready.toFixed(0)).join(', ')} ms`);

    // Live update: the monitor page watching /relay, and the bare baseline page, both open; samples alternate.
    const mon = await b.context();
    await mon.page.goto(`${origin}/monitor`, { waitUntil: 'load' });
    await mon.page.locator('textarea#urls').fill(bridge);
    await mon.page.getByRole('button', { name: 'Start monitoring' }).click();
    await mon.page.locator('timmy-monitor-page timmy-state[state="alive"]').waitFor({ timeout: 15_000 });
    await mon.page.evaluate(liveScript(bridge, MONITOR_ROOT));
    await mon.page.evaluate('window.__live.opened');
    const bare = await b.context();
    await bare.page.goto(`${baseOrigin}/bare`, { waitUntil: 'load' });
    await bare.page.evaluate(bareSubscriber(bridge));
    await bare.page.evaluate(liveScript(bridge, "document.getElementById('rows')"));
    await bare.page.evaluate('window.__live.opened');

    const sk = generateSecretKey();
    const request = (marker: string): NostrEvent =>
      finalizeEvent(
        {
          kind: 5700,
          created_at: Math.floor(Date.now() / 1000),
          tags: [['i', marker, 'text']],
          content: marker,
        },
        sk,
      ) as NostrEvent;
    const live: LiveSample[] = [];
    const liveBase: LiveSample[] = [];
    for (let i = 0; i < samples + WARMUP_SAMPLES; i++) {
      for (const [page, into, name] of [
        [mon.page, live, 'app'],
        [bare.page, liveBase, 'bare'],
      ] as const) {
        const marker = `bench-${name}-${i}-${Math.random().toString(36).slice(2, 10)}`;
        const s = await liveSample(page, request(marker), marker);
        if (i >= WARMUP_SAMPLES) into.push(s);
        await new Promise((r) => setTimeout(r, SAMPLE_GAP_MS));
      }
    }
    if (mon.errors.length > 0) throw new Error(`the monitor page failed: ${mon.errors.join('; ')}`);
    await mon.close();
    await bare.close();
    options.log(`  live update (frame): ${live.map((s) => s.frame.toFixed(0)).join(', ')} ms`);

    return report({
      title,
      loads,
      samples,
      buildMs,
      homeBytes,
      appBytes,
      cold,
      coldBase,
      warm,
      warmBase,
      live,
      liveBase,
    });
  } finally {
    await browser?.close();
    await new Promise<void>((resolve) => (baseServer ? baseServer.close(() => resolve()) : resolve()));
    await instance?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function report(r: {
  title: string;
  loads: number;
  samples: number;
  buildMs: number;
  homeBytes: number;
  appBytes: number;
  cold: LoadTimes[];
  coldBase: LoadTimes[];
  warm: LoadTimes[];
  warmBase: LoadTimes[];
  live: LiveSample[];
  liveBase: LiveSample[];
}): string {
  const f = (x: number): string => x.toFixed(1);
  const row = (
    what: string,
    ours: Quantiles,
    base: Quantiles,
    baseWhat: string,
    target: { limit: number; label: string } | undefined,
  ): string =>
    `| ${what} | ${ours.n} | ${f(ours.p50)} | ${f(ours.p95)} | ${baseWhat} | ${f(base.p50)} | ${f(base.p95)} | ${(ours.p50 / base.p50).toFixed(1)}x | ${(ours.p95 / base.p95).toFixed(1)}x | ${
      target ? `${ours.p95 < target.limit ? 'yes' : 'NO'} (${target.label})` : '-'
    } |`;
  const ready = (xs: LoadTimes[]): Quantiles => quantiles(xs.map((x) => x.ready));
  const appLoadEvent = quantiles(r.cold.map((x) => x.load));
  const lines = [
    r.title,
    '',
    '| measure | n | p50 ms | p95 ms | baseline | baseline p50 ms | baseline p95 ms | p50 ratio | p95 ratio | target met (p95) |',
    '| ------- | - | ------ | ------ | -------- | --------------- | --------------- | --------- | --------- | ---------------- |',
    row(
      'time to interactive `/`, cold (empty cache)',
      ready(r.cold),
      ready(r.coldBase),
      'static page, same bytes, load event',
      { limit: 1000, label: '< 1,000 ms' },
    ),
    row(
      'time to interactive `/`, warm (reload)',
      ready(r.warm),
      ready(r.warmBase),
      'static page, same bytes, load event',
      { limit: 1000, label: '< 1,000 ms' },
    ),
    row(
      'live update: publish → row in the DOM (/monitor)',
      quantiles(r.live.map((s) => s.dom)),
      quantiles(r.liveBase.map((s) => s.dom)),
      'bare WebSocket page, onmessage → row',
      undefined,
    ),
    row(
      'live update: publish → next frame (visible)',
      quantiles(r.live.map((s) => s.frame)),
      quantiles(r.liveBase.map((s) => s.frame)),
      'bare WebSocket page, same',
      { limit: 250, label: '< 250 ms' },
    ),
    '',
    `the app's own load event (cold): p50 ${f(appLoadEvent.p50)} ms, p95 ${f(appLoadEvent.p95)} ms; assets built first ` +
      `(assets.build(), what timmy start's warm() runs) in ${r.buildMs.toFixed(0)} ms; / is ${r.homeBytes} bytes, ` +
      `app.js ${r.appBytes} bytes uncompressed; ${r.loads} loads each (plus one not counted), ${r.samples} live samples ` +
      `each (plus ${WARMUP_SAMPLES} not counted); machine load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`,
  ];
  return lines.join('\n');
}
