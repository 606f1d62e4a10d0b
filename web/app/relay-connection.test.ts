import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { RelayClient } from '../../relay/client.ts';
import { RelayServer } from '../../relay/server.ts';
import {
  bundleForBrowser,
  chromiumAvailable,
  launchBrowser,
  type TestBrowser,
} from '../../testkit/browser.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { serveApp, writeEntry } from './test-page.ts';

const key = generateSecretKey();
const note = (content: string, kind = 1): NostrEvent =>
  finalizeEvent({ kind, created_at: Math.floor(Date.now() / 1000), tags: [], content }, key);

describe('BrowserRelayConnection against a real relay', {
  skip: !chromiumAvailable() && 'no chromium',
}, () => {
  let browser: TestBrowser;
  let relay: TestRelay;
  let restarted: RelayServer | undefined;
  before(async () => {
    browser = await launchBrowser();
    relay = await startTestRelay();
  });
  after(async () => {
    await browser?.close();
    await restarted?.close();
    await relay?.close();
  });

  it('publishes, queries, subscribes, and reconnects and re-subscribes after the relay restarts', async () => {
    const script = await bundleForBrowser(
      await writeEntry(
        'relay-entry',
        `import { BrowserRelayConnection } from './relay-connection.ts';
       const w = window;
       w.got = [];
       w.relay = new BrowserRelayConnection({ url: w.__relayUrl, backoffMs: [100, 200, 400, 800] });
       w.statuses = [];
       w.relay.addEventListener('status', () => w.statuses.push(w.relay.status));
       w.relay.subscribe([{ kinds: [1], authors: [w.__author] }], { onEvent: (e) => w.got.push(e.content) });
       w.ready = true;`,
      ),
    );
    const ctx = await browser.context();
    const server = await serveApp(script, '');
    const client = new RelayClient({ url: relay.url, logger: silentLogger });
    try {
      const first = note('first');
      await ctx.page.addInitScript(
        `window.__relayUrl = ${JSON.stringify(relay.url)}; window.__author = ${JSON.stringify(first.pubkey)};`,
      );
      await ctx.page.goto(server.url);
      await ctx.page.waitForFunction(() => (window as { ready?: boolean }).ready === true);
      const page = ctx.page;

      // publish resolves on OK true
      await page.evaluate(
        (e) => (window as unknown as { relay: { publish(e: unknown): Promise<void> } }).relay.publish(e),
        first,
      );
      // a refused event rejects with the relay's reason
      const bad = { ...note('forged'), sig: 'f'.repeat(128) };
      const refused = await page.evaluate(
        (e) =>
          (window as unknown as { relay: { publish(e: unknown): Promise<void> } }).relay.publish(e).then(
            () => 'accepted',
            (err: Error) => err.message,
          ),
        bad,
      );
      assert.match(refused, /^invalid/);
      // query until EOSE
      const found = await page.evaluate(
        (id) =>
          (window as unknown as { relay: { query(f: unknown): Promise<{ id: string }[]> } }).relay.query([
            { ids: [id] },
          ]),
        first.id,
      );
      assert.deepEqual(
        found.map((e) => e.id),
        [first.id],
      );
      // the live subscription sees an event published by another client
      await client.publish(note('from node'));
      await page.waitForFunction(() => (window as { got?: string[] }).got?.includes('from node'), null, {
        timeout: 30_000,
      });

      // the relay restarts on the same port (same store): the page reconnects and subscribes again
      const port = Number(new URL(relay.url).port);
      await relay.server.close();
      await page.waitForFunction(
        () => (window as { statuses?: string[] }).statuses?.includes('closed'),
        null,
        { timeout: 30_000 },
      );
      restarted = new RelayServer({
        store: relay.store,
        logger: silentLogger,
        info: { name: 'again', description: '' },
      });
      await restarted.listen(port);
      await page.waitForFunction(
        () => (window as unknown as { relay: { status: string } }).relay.status === 'open',
        null,
        { timeout: 30_000 },
      );
      const again = new RelayClient({ url: relay.url, logger: silentLogger });
      try {
        await again.publish(note('after restart'));
      } finally {
        again.close();
      }
      await page.waitForFunction(() => (window as { got?: string[] }).got?.includes('after restart'), null, {
        timeout: 30_000,
      });
      const got = await page.evaluate(() => (window as unknown as { got: string[] }).got);
      assert.equal(got.filter((c) => c === 'from node').length >= 1, true);
      assert.deepEqual(ctx.offOrigin, []);
    } finally {
      client.close();
      await ctx.close();
      await server.close();
    }
  });
});
