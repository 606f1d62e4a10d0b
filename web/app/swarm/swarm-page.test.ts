/**
 * <timmy-swarm> in Debian's chromium: the element and its layout worker bundled with esbuild, served on
 * loopback, fed a synthetic snapshot and a fake relay source through its properties.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import {
  bundleForBrowser,
  chromiumAvailable,
  launchBrowser,
  openComponentPage,
  screenshot,
  type TestBrowser,
  type TestContext,
} from '../../../testkit/browser.ts';
import type * as Fixtures from './fixtures.ts';
import type { TimmySwarm } from './swarm-page.ts';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const skip = chromiumAvailable() ? false : 'no chromium at /usr/bin/chromium';
const WAIT = { timeout: 90_000 };

let browser: TestBrowser;
let script: string;
let files: Record<string, string>;

before(async () => {
  if (skip) return;
  [script, files] = await Promise.all([
    bundleForBrowser(here('./swarm-page.ts')),
    Promise.all([bundleForBrowser(here('./layout-worker.ts')), bundleForBrowser(here('./fixtures.ts'))]).then(
      ([worker, fixtures]) => ({ '/layout-worker.js': worker, '/fixtures.js': fixtures }),
    ),
  ]);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

interface Mount {
  nodes?: number;
  view?: '2d' | '3d';
  /** Replaces the synthetic snapshot. */
  snapshot?: unknown;
}

type Win = Window & {
  __t: {
    el: TimmySwarm;
    source: Fixtures.FakeRelaySource;
    f: typeof Fixtures;
    snap: ReturnType<typeof Fixtures.syntheticSnapshot>;
  };
};

async function open(options: Mount = {}): Promise<TestContext> {
  const ctx = await browser.context({ viewport: { width: 1000, height: 760 } });
  await openComponentPage(ctx, script, '<main id="root"></main>', files);
  await ctx.page.evaluate(async (o: Mount) => {
    const url = '/fixtures.js';
    const f = (await import(url)) as typeof Fixtures;
    await customElements.whenDefined('timmy-swarm');
    const el = document.createElement('timmy-swarm');
    const snap = (o.snapshot as ReturnType<typeof f.syntheticSnapshot>) ?? f.syntheticSnapshot(o.nodes ?? 60);
    const source = new f.FakeRelaySource();
    el.workerUrl = '/layout-worker.js';
    el.snapshot = snap;
    el.source = source;
    if (o.view) el.view = o.view;
    document.getElementById('root')?.append(el);
    (window as unknown as Win).__t = { el, source, f, snap };
  }, options);
  await ctx.page.waitForFunction(
    () => (window as unknown as Win).__t.el.swarmStats.drawn > 20,
    undefined,
    WAIT,
  );
  return ctx;
}

/** Pixels of the element's canvas (as the page shows it) that are not the background. */
async function ink(page: Page, which: 'c2d' | 'c3d'): Promise<number> {
  const png = await page.locator(`timmy-swarm canvas.${which}`).screenshot();
  return page.evaluate(async (data: string) => {
    const img = new Image();
    img.src = `data:image/png;base64,${data}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d');
    if (!g) return 0;
    g.drawImage(img, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    // Background #10141c.
    for (let i = 0; i < px.length; i += 4)
      if (
        Math.abs((px[i] ?? 0) - 0x10) +
          Math.abs((px[i + 1] ?? 0) - 0x14) +
          Math.abs((px[i + 2] ?? 0) - 0x1c) >
        30
      )
        n++;
    return n;
  }, png.toString('base64'));
}

test('the graph renders a snapshot in 2D, laid out by the worker', { skip }, async () => {
  const ctx = await open({ nodes: 300 });
  try {
    const { page } = ctx;
    await page.waitForFunction(
      () => {
        const s = (window as unknown as Win).__t.el.swarmStats;
        return s.nodes === 300 && s.edges > 400 && !s.layoutFailed;
      },
      undefined,
      WAIT,
    );
    // Let the layout spread the graph a little before looking at it.
    await page.waitForFunction(
      () => (window as unknown as Win).__t.el.swarmStats.drawn > 90,
      undefined,
      WAIT,
    );
    await screenshot(page, 'swarm-2d');
    assert.ok((await ink(page, 'c2d')) > 3000, 'the canvas shows nodes and edges');
    const label = await page.locator('timmy-swarm canvas.c2d').getAttribute('aria-label');
    assert.match(label ?? '', /300 nodes/);
    assert.deepEqual(ctx.offOrigin, []);
    assert.deepEqual(ctx.errors, []);
  } finally {
    await ctx.close();
  }
});

test('a relay event adds an animated edge and a line in the live list', { skip }, async () => {
  const ctx = await open({ nodes: 40 });
  try {
    const { page } = ctx;
    const { agent, desk } = await page.evaluate(() => {
      const { el, source, f, snap } = (window as unknown as Win).__t;
      const deskId = snap.nodes.find((n) => n.type === 'desk')?.id ?? '';
      const rand = f.prng(99);
      const agentId = f.hex64(rand);
      el.swarmStats;
      source.emit({
        id: f.hex64(rand),
        pubkey: deskId,
        created_at: Math.floor(Date.now() / 1000),
        kind: 7600,
        tags: [
          ['e', 'ab'.repeat(32)],
          ['p', agentId],
          ['attempt', '1'],
        ],
        content: '',
        sig: '0'.repeat(128),
      });
      return { agent: agentId, desk: deskId };
    });
    await page.waitForFunction(
      ({ agent, desk }) => {
        const { el } = (window as unknown as Win).__t;
        const s = el.swarmStats;
        return (
          el.model.edges.has(`assignment|${desk}|${agent}`) && s.pulsing >= 1 && s.animating && s.nodes === 41
        );
      },
      { agent, desk },
      WAIT,
    );
    const live = page.locator('timmy-swarm ol[aria-live="polite"] li a').first();
    assert.match((await live.textContent()) ?? '', /job abababab assigned to/);
    assert.equal(await live.getAttribute('href'), `/jobs/${'ab'.repeat(32)}`);
    // An old event (a replay) is ignored.
    const before = await page.evaluate(() => (window as unknown as Win).__t.el.model.nodes.size);
    await page.evaluate(() => {
      const { source, f, snap } = (window as unknown as Win).__t;
      const [old] = f.syntheticEvents(snap, 1, 5);
      if (old)
        source.emit({
          ...old,
          created_at: 1_000_000,
          tags: [
            ['e', 'cd'.repeat(32)],
            ['p', 'ef'.repeat(32)],
          ],
        });
    });
    assert.equal(await page.evaluate(() => (window as unknown as Win).__t.el.model.nodes.size), before);
    await screenshot(page, 'swarm-2d-event');
  } finally {
    await ctx.close();
  }
});

test('clicking a node opens its profile, a desk the peers page, an edge its job', { skip }, async () => {
  const ctx = await open({ nodes: 12 });
  try {
    const { page } = ctx;
    await page.evaluate(() => {
      const w = window as unknown as Win & { __paths: string[] };
      w.__paths = [];
      document.addEventListener('navigate', (e) =>
        w.__paths.push((e as CustomEvent<{ path: string }>).detail.path),
      );
    });
    // Wait for the layout to settle so the node stays where it was measured.
    await page.waitForFunction(
      () => (window as unknown as Win).__t.el.swarmStats.drawn > 200,
      undefined,
      WAIT,
    );
    await page.evaluate(() => {
      (window as unknown as Win).__t.el.paused = true;
    });
    const agent = await page.evaluate(
      () => (window as unknown as Win).__t.snap.nodes.find((n) => n.type === 'agent')?.id ?? '',
    );
    const at = await page.evaluate((id) => (window as unknown as Win).__t.el.nodeScreenPosition(id), agent);
    assert.ok(at, 'the agent is drawn');
    await page.mouse.click(at.x, at.y);
    await page.waitForFunction((id) => location.pathname === `/agents/${id}`, agent, WAIT);
    assert.deepEqual(
      await page.evaluate(() => (window as unknown as Window & { __paths: string[] }).__paths),
      [`/agents/${agent}`],
    );

    const desk = await page.evaluate(
      () => (window as unknown as Win).__t.snap.nodes.find((n) => n.type === 'desk')?.id ?? '',
    );
    const d = await page.evaluate((id) => (window as unknown as Win).__t.el.nodeScreenPosition(id), desk);
    assert.ok(d);
    await page.mouse.click(d.x, d.y);
    await page.waitForFunction(() => location.pathname === '/peers', undefined, WAIT);

    // A job edge: click the middle of one whose middle is clear of every node.
    const mid = await page.evaluate(() => {
      const { el, snap } = (window as unknown as Win).__t;
      const pos = snap.nodes.map((n) => el.nodeScreenPosition(n.id));
      for (const e of snap.edges) {
        if (!e.job) continue;
        const a = pos[snap.nodes.findIndex((n) => n.id === e.source)];
        const b = pos[snap.nodes.findIndex((n) => n.id === e.target)];
        if (!a || !b) continue;
        const m = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
        if (pos.every((p) => !p || Math.hypot(p.x - m.x, p.y - m.y) > 25)) return { ...m, job: e.job };
      }
      return undefined;
    });
    assert.ok(mid, 'some job edge has a clear middle');
    await page.mouse.click(mid.x, mid.y);
    await page.waitForFunction((job) => location.pathname === `/jobs/${job}`, mid.job, WAIT);
    // Keyboard: the canvas takes focus and zooms with +.
    await page.locator('timmy-swarm canvas.c2d').focus();
    await page.keyboard.press('+');
    assert.deepEqual(ctx.errors, []);
  } finally {
    await ctx.close();
  }
});

test('3D renders the graph as one point cloud', { skip }, async () => {
  const ctx = await open({ nodes: 300 });
  try {
    const { page } = ctx;
    await page.locator('timmy-swarm button', { hasText: '3D' }).click();
    await page.waitForFunction(
      () => {
        const s = (window as unknown as Win).__t.el.swarmStats;
        return s.threeReady && s.view === '3d';
      },
      undefined,
      WAIT,
    );
    const drawn = await page.evaluate(() => (window as unknown as Win).__t.el.swarmStats.drawn);
    await page.waitForFunction(
      (n) => (window as unknown as Win).__t.el.swarmStats.drawn > n + 60,
      drawn,
      WAIT,
    );
    await screenshot(page, 'swarm-3d');
    assert.ok((await ink(page, 'c3d')) > 2000, 'the WebGL canvas shows points and lines');
    assert.equal(await page.locator('timmy-swarm canvas.c2d').isVisible(), false);
    const objects = await page.evaluate(() => (window as unknown as Win).__t.el.swarmStats.nodes);
    assert.equal(objects, 300);
    assert.deepEqual(ctx.errors, []);
  } finally {
    await ctx.close();
  }
});

test('labels and event text holding HTML are inert', { skip }, async () => {
  const evil = '<img src=/x onerror="window.__xss=1"><script>window.__xss=2</script>';
  const desk = 'aa'.repeat(32);
  const agent = 'bb'.repeat(32);
  const ctx = await open({
    snapshot: {
      nodes: [
        { id: desk, type: 'desk', label: evil, score: 50, state: 'alive' },
        { id: agent, type: 'agent', label: evil, score: 90, state: 'busy' },
      ],
      edges: [{ source: desk, target: agent, type: 'assignment' }],
    },
  });
  try {
    const { page } = ctx;
    await page.evaluate(() => {
      const { source, f } = (window as unknown as Win).__t;
      source.emit({
        id: f.hex64(f.prng(3)),
        pubkey: 'aa'.repeat(32),
        created_at: Math.floor(Date.now() / 1000),
        kind: 7600,
        tags: [
          ['e', 'cd'.repeat(32)],
          ['p', 'bb'.repeat(32)],
        ],
        content: '',
        sig: '0'.repeat(128),
      });
    });
    const live = page.locator('timmy-swarm ol[aria-live="polite"] li a').first();
    await live.waitFor({ state: 'attached', ...WAIT });
    assert.ok(((await live.textContent()) ?? '').includes('<img src=/x'), 'shown as text');
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator('timmy-swarm img, timmy-swarm script').count(), 0);
    await screenshot(page, 'swarm-html-labels');
    assert.ok(!ctx.requests.some((u) => u.endsWith('/x')), 'the image was never fetched');
  } finally {
    await ctx.close();
  }
});
