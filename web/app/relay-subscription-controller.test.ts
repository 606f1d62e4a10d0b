import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { RelayClient } from '../../relay/client.ts';
import {
  bundleForBrowser,
  chromiumAvailable,
  launchBrowser,
  openComponentPage,
  type TestBrowser,
} from '../../testkit/browser.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { writeEntry } from './test-page.ts';

const key = generateSecretKey();
const author = getPublicKey(key);
const note = (kind: number, content: string, createdAt = Math.floor(Date.now() / 1000)): NostrEvent =>
  finalizeEvent({ kind, created_at: createdAt, tags: [], content }, key);

/**
 * <sub-host> (and <live-sub-host>, liveOnly): a Lit element with one controller over `kinds` by `author`; what it shows is its events' content
 * (newest first) and whether EOSE came; every onEvent call is recorded in window.delivered.
 */
const ENTRY = `import { html, LitElement } from 'lit';
import { BrowserRelayConnection } from './relay-connection.ts';
import { RelaySubscriptionController } from './relay-subscription-controller.ts';

const w = window as unknown as Record<string, unknown> & { delivered: string[] };
w.delivered = [];
const relay = new BrowserRelayConnection({ url: String(w.__relayUrl), backoffMs: [100, 200, 400] });
w.relay = relay;
w.witness = (kinds: number[]) =>
  relay.subscribe([{ kinds }], { onEvent: (e) => w.delivered.push('witness:' + e.content) });

function define(name: string, liveOnly: boolean): void {
  class SubHost extends LitElement {
    static override properties = { kinds: { attribute: false } };
    declare kinds: number[] | undefined;
    readonly sub: RelaySubscriptionController;
    constructor() {
      super();
      this.kinds = undefined;
      this.sub = new RelaySubscriptionController(this, {
        relay: () => relay,
        filters: () => (this.kinds ? [{ kinds: this.kinds, authors: [String(w.__author)] }] : undefined),
        liveOnly,
        onEvent: (e) => w.delivered.push(this.id + ':' + e.content),
      });
    }
    override render() {
      return html\`<p class="eose">\${this.sub.eose ? 'eose' : 'waiting'}</p>
        <ul>\${this.sub.events.map((e) => html\`<li>\${e.content}</li>\`)}</ul>\`;
    }
  }
  customElements.define(name, SubHost);
}
define('sub-host', false);
define('live-sub-host', true);
w.ready = true;
`;

interface PageWindow {
  delivered: string[];
  /** A subscription of the test's own on the page's connection; what it gets goes to `delivered` too. */
  witness(kinds: number[]): void;
}

/** Polls `condition` until true (a bounded wait on state the page cannot signal, like the relay's counters). */
async function until(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('RelaySubscriptionController in a real browser against a real relay', {
  skip: !chromiumAvailable() && 'no chromium',
}, () => {
  let browser: TestBrowser;
  let relay: TestRelay;
  let script: string;
  before(async () => {
    browser = await launchBrowser();
    relay = await startTestRelay();
    script = await bundleForBrowser(await writeEntry('relay-subscription-entry', ENTRY));
  });
  after(async () => {
    await browser?.close();
    await relay?.close();
  });

  it('opens on connect, delivers, re-subscribes on a filter change, closes when the element is removed', async () => {
    const client = new RelayClient({ url: relay.url, logger: silentLogger });
    const ctx = await browser.context();
    const subs = () => relay.server.stats().subscriptions;
    try {
      await client.publish(note(1, 'stored one'));
      await client.publish(note(1, 'old one', Math.floor(Date.now() / 1000) - 3600));
      await ctx.context.addInitScript(
        `window.__relayUrl = ${JSON.stringify(relay.url)}; window.__author = ${JSON.stringify(author)};`,
      );
      await openComponentPage(ctx, script, '');
      const page = ctx.page;
      await page.waitForFunction(
        () => (window as unknown as { ready?: boolean; relay?: { status: string } }).relay?.status === 'open',
        null,
        { timeout: 60_000 },
      );
      assert.equal(subs(), 0);

      // no filters yet: connected but nothing to subscribe to
      await page.evaluate(() => {
        const el = document.createElement('sub-host');
        el.id = 'a';
        document.body.append(el);
      });
      const host = page.locator('sub-host#a');
      await host.locator('p.eose', { hasText: 'waiting' }).waitFor({ timeout: 60_000 });
      assert.equal(subs(), 0);

      // filters set: one REQ; stored events arrive (newest first), then EOSE, then live ones
      await page.evaluate(() => {
        (document.getElementById('a') as unknown as { kinds: number[] }).kinds = [1];
      });
      await host.locator('p.eose', { hasText: 'eose' }).waitFor({ timeout: 60_000 });
      assert.equal(subs(), 1);
      assert.deepEqual(await host.locator('li').allInnerTexts(), ['stored one', 'old one']);
      await client.publish(note(1, 'live one'));
      await host.locator('li', { hasText: 'live one' }).waitFor({ timeout: 60_000 });
      assert.equal(await host.locator('li').count(), 3);

      // another filter: the old REQ is closed, a new one opened, the list starts over at once (the element
      // shows no events of the old filter while the new one's are on their way: read before any relay message
      // can be handled, the updates being microtasks)
      const shown = await page.evaluate(async () => {
        const el = document.getElementById('a') as unknown as HTMLElement & {
          kinds: number[];
          updateComplete: Promise<boolean>;
        };
        el.kinds = [2];
        while (!(await el.updateComplete));
        return el.shadowRoot?.textContent?.replace(/\s+/g, ' ').trim();
      });
      assert.equal(shown, 'waiting');
      await host.locator('p.eose', { hasText: 'eose' }).waitFor({ timeout: 60_000 });
      await until('one subscription on the relay', () => subs() === 1);
      await client.publish(note(1, 'kind 1 after the change'));
      await client.publish(note(2, 'kind 2 after the change'));
      await host.locator('li', { hasText: 'kind 2 after the change' }).waitFor({ timeout: 60_000 });
      assert.deepEqual(await host.locator('li').allInnerTexts(), ['kind 2 after the change']);
      // the same filters again (a re-render with equal values): no new REQ, nothing lost
      await page.evaluate(() => {
        (document.getElementById('a') as unknown as { kinds: number[] }).kinds = [2];
      });
      await page.evaluate(
        () =>
          (document.getElementById('a') as unknown as { updateComplete: Promise<unknown> }).updateComplete,
      );
      assert.deepEqual(await host.locator('li').allInnerTexts(), ['kind 2 after the change']);
      assert.equal(subs(), 1);

      // removed from the page: the REQ is closed on the relay and nothing more is delivered
      await page.evaluate(() => document.getElementById('a')?.remove());
      await until('the subscription closed on the relay', () => subs() === 0);
      // a witness on the same connection: once it has the event, the element's subscription would have too
      await page.evaluate(() => (window as unknown as PageWindow).witness([2]));
      await client.publish(note(2, 'after removal'));
      await page.waitForFunction(
        () => (window as unknown as PageWindow).delivered.includes('witness:after removal'),
        null,
        { timeout: 60_000 },
      );
      const delivered = await page.evaluate(() => (window as unknown as PageWindow).delivered);
      assert.deepEqual(
        delivered.filter((d) => d.startsWith('a:')),
        ['a:stored one', 'a:old one', 'a:live one', 'a:kind 2 after the change'],
      );
      assert.deepEqual(ctx.offOrigin, []);
      assert.deepEqual(ctx.errors, []);
    } finally {
      client.close();
      await ctx.close();
    }
  });

  it('with liveOnly ignores replayed stored events older than its start, and opens again when re-added', async () => {
    const client = new RelayClient({ url: relay.url, logger: silentLogger });
    const ctx = await browser.context();
    try {
      await client.publish(note(7, 'an hour ago', Math.floor(Date.now() / 1000) - 3600));
      await ctx.context.addInitScript(
        `window.__relayUrl = ${JSON.stringify(relay.url)}; window.__author = ${JSON.stringify(author)};`,
      );
      await openComponentPage(ctx, script, '');
      const page = ctx.page;
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, null, {
        timeout: 60_000,
      });
      await page.evaluate(() => {
        const el = document.createElement('live-sub-host') as HTMLElement & { kinds: number[] };
        el.id = 'b';
        el.kinds = [7];
        document.body.append(el);
      });
      const host = page.locator('live-sub-host#b');
      await host.locator('p.eose', { hasText: 'eose' }).waitFor({ timeout: 60_000 });
      assert.equal(await host.locator('li').count(), 0);
      await client.publish(note(7, 'now'));
      await host.locator('li', { hasText: 'now' }).waitFor({ timeout: 60_000 });
      assert.deepEqual(await host.locator('li').allInnerTexts(), ['now']);

      // moved out and back in: closed, then opened again (the stored live event is replayed; the old one not)
      await page.evaluate(() => {
        const el = document.getElementById('b');
        if (!el) return;
        el.remove();
        document.body.append(el);
      });
      await until('one subscription on the relay', () => relay.server.stats().subscriptions === 1);
      await client.publish(note(7, 'again'));
      await host.locator('li', { hasText: 'again' }).waitFor({ timeout: 60_000 });
      // 'now' is replayed and kept only when the re-opening fell within its second
      const texts = await host.locator('li').allInnerTexts();
      assert.equal(texts[0], 'again');
      assert.ok(!texts.includes('an hour ago'), texts.join());
      assert.deepEqual(ctx.offOrigin, []);
      assert.deepEqual(ctx.errors, []);
    } finally {
      client.close();
      await ctx.close();
    }
  });
});
