import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import {
  bundleForBrowser,
  chromiumAvailable,
  launchBrowser,
  openComponentPage,
  type TestBrowser,
} from '../testkit/browser.ts';
import type * as Fixtures from '../web/app/swarm/fixtures.ts';
import type { TimmySwarm } from '../web/app/swarm/swarm-page.ts';

/**
 * The swarm graph's frame rate (web/app/swarm/): headless Debian chromium (no GPU flags: software rendering),
 * a 1280x800 page holding <timmy-swarm> with a synthetic snapshot of N nodes and about 1.5 N edges, the
 * layout in its worker, and a fake relay source emitting 20 assignments a second (each pulses an edge for 4 s:
 * about 80 edges animating). Frames per second are requestAnimationFrame callbacks counted in the page over
 * 5 s, after the element has drawn its first frames. The baseline, measured in the same run and the same
 * browser, is a page whose only work is an animated canvas of the same size (one moving square a frame): the
 * most this browser gives a page here.
 */

export interface SwarmFps {
  view: '2d' | '3d' | 'baseline';
  nodes: number;
  edges: number;
  fps: number;
  /** Edges pulsing at the end of the run. */
  pulsing: number;
}

const WIDTH = 1280;
const HEIGHT = 800;
const EVENTS_PER_SECOND = 20;

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

const BASELINE_SCRIPT = `
const c = document.getElementById('c');
c.width = c.clientWidth * devicePixelRatio;
c.height = c.clientHeight * devicePixelRatio;
const g = c.getContext('2d', { alpha: false });
let x = 0;
function frame() {
  g.fillStyle = '#10141c';
  g.fillRect(0, 0, c.width, c.height);
  g.fillStyle = '#3ddc84';
  g.fillRect((x = (x + 4) % c.width), c.height / 2, 20, 20);
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
`;

/**
 * requestAnimationFrame callbacks per second in the page over `ms`. A string, not a function: tsx (keepNames)
 * would wrap a named inner function in a helper the page does not have.
 */
async function measureFps(page: Page, ms: number): Promise<number> {
  const fps = await page.evaluate(`new Promise((resolve) => {
    let frames = 0;
    let t0 = -1;
    function tick(t) {
      if (t0 < 0) t0 = t;
      else frames++;
      if (t - t0 < ${ms}) requestAnimationFrame(tick);
      else resolve((frames * 1000) / (t - t0));
    }
    requestAnimationFrame(tick);
  })`);
  return Number(fps);
}

type Win = Window & { __el: TimmySwarm };

async function runSwarm(
  browser: TestBrowser,
  bundles: { script: string; files: Record<string, string> },
  nodes: number,
  view: '2d' | '3d',
  ms: number,
): Promise<SwarmFps> {
  const ctx = await browser.context({ viewport: { width: WIDTH, height: HEIGHT } });
  try {
    await openComponentPage(ctx, bundles.script, '<main id="root"></main>', bundles.files);
    await ctx.page.evaluate(
      async ({ n, v, rate }) => {
        const url = '/fixtures.js';
        const f = (await import(url)) as typeof Fixtures;
        await customElements.whenDefined('timmy-swarm');
        const el = document.createElement('timmy-swarm');
        const snap = f.syntheticSnapshot(n);
        const source = new f.FakeRelaySource();
        el.workerUrl = '/layout-worker.js';
        el.maxNodes = n + 100;
        el.snapshot = snap;
        el.source = source;
        el.view = v;
        el.style.cssText = 'display:block';
        document.getElementById('root')?.append(el);
        (window as unknown as Win).__el = el;
        const events = f.syntheticEvents(snap, 5000);
        let i = 0;
        setInterval(() => {
          const e = events[i++ % events.length];
          if (e) source.emit({ ...e, id: f.hex64(f.prng(i + 1)), created_at: Math.floor(Date.now() / 1000) });
        }, 1000 / rate);
      },
      { n: nodes, v: view, rate: EVENTS_PER_SECOND },
    );
    await ctx.page.waitForFunction(
      (v) => {
        const s = (window as unknown as Win).__el.swarmStats;
        return s.drawn > 10 && (v === '2d' || s.threeReady);
      },
      view,
      { timeout: 120_000 },
    );
    if (ctx.errors.length > 0) throw new Error(`the page failed: ${ctx.errors.join('; ')}`);
    const fps = await measureFps(ctx.page, ms);
    const stats = await ctx.page.evaluate(() => (window as unknown as Win).__el.swarmStats);
    if (stats.view !== view) throw new Error(`the ${view} view did not start (${stats.view})`);
    return { view, nodes: stats.nodes, edges: stats.edges, fps, pulsing: stats.pulsing };
  } finally {
    await ctx.close();
  }
}

async function runBaseline(browser: TestBrowser, ms: number): Promise<SwarmFps> {
  const ctx = await browser.context({ viewport: { width: WIDTH, height: HEIGHT } });
  try {
    await openComponentPage(
      ctx,
      BASELINE_SCRIPT,
      '<canvas id="c" style="display:block;width:1264px;height:576px"></canvas>',
    );
    const fps = await measureFps(ctx.page, ms);
    return { view: 'baseline', nodes: 0, edges: 0, fps, pulsing: 0 };
  } finally {
    await ctx.close();
  }
}

export async function benchSwarm(options: { quick: boolean; log: (line: string) => void }): Promise<string> {
  if (!chromiumAvailable()) return '## Swarm graph frame rate\n\nskipped: no chromium at /usr/bin/chromium';
  const ms = options.quick ? 2000 : 5000;
  const sizes = options.quick ? [100, 1000] : [100, 1000, 5000];
  const [script, worker, fixtures] = await Promise.all([
    bundleForBrowser(here('../web/app/swarm/swarm-page.ts')),
    bundleForBrowser(here('../web/app/swarm/layout-worker.ts')),
    bundleForBrowser(here('../web/app/swarm/fixtures.ts')),
  ]);
  const bundles = { script, files: { '/layout-worker.js': worker, '/fixtures.js': fixtures } };
  const browser = await launchBrowser();
  const rows: SwarmFps[] = [];
  try {
    options.log(
      `swarm benchmark: baseline, then ${sizes.join(', ')} nodes in 2D and 3D, ${ms / 1000} s each`,
    );
    const baseline = await runBaseline(browser, ms);
    options.log(`  baseline (animated empty canvas): ${baseline.fps.toFixed(1)} fps`);
    for (const view of ['2d', '3d'] as const)
      for (const n of sizes) {
        const r = await runSwarm(browser, bundles, n, view, ms);
        options.log(`  ${view} ${n} nodes, ${r.edges} edges: ${r.fps.toFixed(1)} fps (${r.pulsing} pulsing)`);
        rows.push(r);
      }
    rows.push(baseline);
  } finally {
    await browser.close();
  }
  const base = rows.find((r) => r.view === 'baseline')?.fps ?? 1;
  const target = (r: SwarmFps): string =>
    r.view === '2d' && r.nodes === 1000
      ? r.fps >= 50
        ? 'yes (>= 50)'
        : 'NO (>= 50)'
      : r.view === '3d' && r.nodes === 100
        ? r.fps >= 45
          ? 'yes (>= 45)'
          : 'NO (>= 45)'
        : '-';
  const lines = [
    `## Swarm graph frame rate (headless chromium, ${WIDTH}x${HEIGHT}, ${EVENTS_PER_SECOND} events/s, rAF over ${ms / 1000} s)`,
    '',
    '| view | nodes | edges | pulsing | fps | baseline fps | ratio (swarm/baseline) | target met |',
    '| ---- | ----- | ----- | ------- | --- | ------------ | ---------------------- | ---------- |',
    ...rows
      .filter((r) => r.view !== 'baseline')
      .map(
        (r) =>
          `| ${r.view.toUpperCase()} | ${r.nodes} | ${r.edges} | ${r.pulsing} | ${r.fps.toFixed(1)} | ${base.toFixed(1)} | ${(r.fps / base).toFixed(2)} | ${target(r)} |`,
      ),
    '',
    `baseline: an animated empty canvas of the same size, ${base.toFixed(1)} fps; machine load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`,
  ];
  return lines.join('\n');
}
