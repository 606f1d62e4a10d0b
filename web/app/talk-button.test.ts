import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  bundleForBrowser,
  chromiumAvailable,
  launchBrowser,
  type TestBrowser,
} from '../../testkit/browser.ts';
import { type FakeServer, serveApp, writeEntry } from './test-page.ts';

const off = { enabled: false, missing: ['flite'], install: 'apt-get install flite', maxSeconds: 30 };
const on = {
  enabled: true,
  stt: 'pocketsphinx:en-us',
  tts: 'flite:slt',
  missing: [],
  install: '',
  maxSeconds: 30,
};

describe('<timmy-talk> disabled, saying why', {
  skip: chromiumAvailable() ? false : 'chromium is not installed',
}, () => {
  let browser: TestBrowser;
  let script: string;
  const servers: FakeServer[] = [];
  before(async () => {
    script = await bundleForBrowser(
      await writeEntry(
        'talk-entry',
        `import { TimmyTalk } from './talk-button.ts';\ncustomElements.define('timmy-talk', TimmyTalk);`,
      ),
    );
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    for (const s of servers) await s.close();
  });

  for (const c of [
    {
      name: 'voice not installed on the server',
      status: off,
      body: '<timmy-talk logged-in></timmy-talk>',
      why: 'Voice is not installed on this instance. Install it with: apt-get install flite',
    },
    {
      name: 'nobody logged in',
      status: on,
      body: '<timmy-talk></timmy-talk>',
      why: 'Log in with your Nostr extension to talk to Timmy.',
    },
  ])
    it(c.name, async () => {
      const server = await serveApp(script, c.body, (req) =>
        req.url === '/api/voice' ? { json: c.status } : undefined,
      );
      servers.push(server);
      const ctx = await browser.context();
      await ctx.page.goto(`${server.url}/`);
      const button = ctx.page.getByRole('button', { name: 'Hold to talk' });
      await ctx.page.getByRole('note').getByText(c.why).waitFor({ timeout: 30_000 });
      assert.equal(await button.isDisabled(), true);
      assert.equal(await button.getAttribute('title'), c.why);
      assert.deepEqual(ctx.errors, []);
      await ctx.close();
    });
});
