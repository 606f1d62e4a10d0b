import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  bundleForBrowser,
  chromiumAvailable,
  launchBrowser,
  screenshot,
  type TestBrowser,
} from '../../testkit/browser.ts';
import type { AgentList } from '../api-types.ts';
import { parseBlocks, safeHref } from './markdown.ts';
import { serveApp, writeEntry } from './test-page.ts';

describe('markdown subset', () => {
  it('parses blocks', () => {
    assert.deepEqual(
      parseBlocks('# Title\n\npara one\nstill one\n\n- a\n- b\n\n1. x\n2. y\n\n```js\ncode <b>\n```'),
      [
        { type: 'h', level: 1, text: 'Title' },
        { type: 'p', text: 'para one\nstill one' },
        { type: 'ul', items: ['a', 'b'] },
        { type: 'ol', items: ['x', 'y'] },
        { type: 'code', text: 'code <b>', lang: 'js' },
      ],
    );
  });

  it('links only http(s)', () => {
    assert.equal(safeHref('https://example.com/a'), 'https://example.com/a');
    assert.equal(safeHref('javascript:alert(1)'), undefined);
    assert.equal(safeHref('data:text/html,x'), undefined);
    assert.equal(safeHref('/relative'), undefined);
  });
});

const EVIL = `# Hello <img src=x onerror="window.__xss=1">

Some *emphasis*, **strong**, \`<script>window.__xss=2</script>\` and a [good link](https://example.com/x).

<script>window.__xss=3</script>
<img src=x onerror="window.__xss=4">
[bad link](javascript:window.__xss=5) and <a href="javascript:window.__xss=6">html link</a>

- item <b>one</b>
- item two

\`\`\`
<script>window.__xss=7</script>
\`\`\``;

describe('in chromium', { skip: !chromiumAvailable() && 'no chromium' }, () => {
  let browser: TestBrowser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('renders the subset and keeps script, img onerror, javascript: links and HTML inert', async () => {
    const script = await bundleForBrowser(
      await writeEntry(
        'markdown-entry',
        `import { html, render } from 'lit';
       import { renderMarkdown } from './markdown.ts';
       render(html\`<article id="out">\${renderMarkdown(window.__source)}</article>\`, document.body);
       window.__done = true;`,
      ),
    );
    const ctx = await browser.context();
    try {
      await ctx.page.addInitScript(`window.__source = ${JSON.stringify(EVIL)};`);
      const server = await serveApp(script, '');
      ctx.page.context().once('close', () => void server.close());
      await ctx.page.goto(server.url);
      await ctx.page.waitForFunction(() => (window as { __done?: boolean }).__done === true);
      const out = await ctx.page.evaluate(() => {
        const root = document.getElementById('out');
        return {
          xss: (window as { __xss?: number }).__xss,
          scripts: root?.querySelectorAll('script').length,
          imgs: document.querySelectorAll('img').length,
          b: root?.querySelectorAll('b').length,
          links: [...(root?.querySelectorAll('a') ?? [])].map((a) => [
            a.textContent,
            a.getAttribute('href'),
            a.rel,
          ]),
          h: root?.querySelector('h3')?.textContent,
          em: root?.querySelector('em')?.textContent,
          strong: root?.querySelector('strong')?.textContent,
          code: [...(root?.querySelectorAll('code') ?? [])].map((c) => c.textContent),
          lis: [...(root?.querySelectorAll('li') ?? [])].map((l) => l.textContent),
          text: root?.textContent ?? '',
        };
      });
      assert.equal(out.xss, undefined, 'no script ran');
      assert.equal(out.scripts, 0);
      assert.equal(out.imgs, 0);
      assert.equal(out.b, 0);
      assert.deepEqual(out.links, [['good link', 'https://example.com/x', 'noopener noreferrer']]);
      assert.equal(out.h, 'Hello <img src=x onerror="window.__xss=1">');
      assert.equal(out.em, 'emphasis');
      assert.equal(out.strong, 'strong');
      assert.ok(out.code.includes('<script>window.__xss=2</script>'));
      assert.ok(out.code.includes('<script>window.__xss=7</script>'));
      assert.deepEqual(out.lis, ['item <b>one</b>', 'item two']);
      assert.match(out.text, /\[bad link\]\(javascript:window.__xss=5\)/);
      assert.deepEqual(ctx.errors, []);
      assert.deepEqual(ctx.offOrigin, []);
    } finally {
      await ctx.close();
    }
  });

  it('shows agents whose name, about and NIP-05 hold HTML as text', async () => {
    const evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    const agents: AgentList = {
      agents: [
        {
          pubkey: 'a'.repeat(64),
          npub: 'npub1x',
          name: 'mallory',
          displayName: `Mallory ${evil}`,
          nip05: `<b onmouseover="window.__xss=3">m</b>@example.com`,
          about: `About ${evil}`,
          role: 'worker',
          where: 'local',
          kinds: [{ kind: 5050, priceMsats: 21000 }],
          alive: true,
          load: 0,
          latencyP50Ms: 120,
          latencyP95Ms: 900,
          jobsDone: 9,
          jobsFailed: 1,
          successRate: 0.9,
          satsEarned: 189,
          paidUndelivered: 0,
          deliveredUnpaid: 1,
          score: 72,
          scores: { 5050: 72 },
        },
      ],
    };
    const script = await bundleForBrowser(
      await writeEntry(
        'agents-entry',
        `import './main.ts';
       document.body.append(document.createElement('timmy-agents-page'));`,
      ),
    );
    const ctx = await browser.context();
    try {
      const server = await serveApp(script, '', (req) =>
        req.url === '/api/agents' ? { json: agents } : undefined,
      );
      ctx.page.context().once('close', () => void server.close());
      await ctx.page.goto(server.url);
      const row = ctx.page.locator('timmy-agents-page tbody tr');
      await row.first().waitFor({ timeout: 30_000 });
      assert.equal(await row.locator('.name').textContent(), `Mallory ${evil}`);
      assert.equal(await row.locator('.about').textContent(), `About ${evil}`);
      assert.equal(await row.locator('.nip05').textContent(), agents.agents[0]?.nip05);
      const inert = await ctx.page.evaluate(() => ({
        xss: (window as { __xss?: number }).__xss,
        imgs: document.querySelector('timmy-agents-page')?.shadowRoot?.querySelectorAll('img, script, b')
          .length,
      }));
      assert.deepEqual(inert, { xss: undefined, imgs: 0 });
      await screenshot(ctx.page, 'app-agents');
    } finally {
      await ctx.close();
    }
  });
});
