/**
 * Every page of the dashboard in a real browser against a real `timmy start`: each renders its heading for an
 * owner (screenshots in tmp/screenshots/, looked at by a person), nothing reaches beyond the origin and no
 * page throws; a non-owner reads but is refused the owner actions (403 with a reason); a job whose content
 * holds HTML and script is shown as inert text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import type { Page } from 'playwright-core';
import { silentLogger } from '../../core/logger.ts';
import { RelayClient } from '../../relay/client.ts';
import { screenshot } from '../../testkit/browser.ts';
import { lowContrastTexts } from '../../testkit/contrast.ts';
import { startTestRelay } from '../../testkit/relay.ts';
import { type DashboardInstance, skipWithoutChromium, startDashboard, WAIT } from './dashboard-harness.ts';

const PAGES = ['/chat', '/jobs', '/agents', '/swarm', '/wallet', '/approvals', '/llm', '/peers', '/monitor'];

describe('the dashboard’s pages', { skip: skipWithoutChromium }, () => {
  const owner = generateSecretKey();
  const stranger = generateSecretKey();
  let d: DashboardInstance;

  before(async () => {
    d = await startDashboard({ owners: [owner] });
  });

  after(async () => {
    await d?.close();
  });

  test('an owner opens every page: each has its heading, nothing leaves the origin, no page error', async () => {
    const ctx = await d.loggedIn(owner);
    for (const path of PAGES) {
      await ctx.page.goto(`${d.url}${path}`);
      await ctx.page
        .getByRole('heading', { level: 1 })
        .first()
        .waitFor({ timeout: WAIT })
        .catch((err: unknown) => {
          throw new Error(`${path}: no level-1 heading (${String(err)})`);
        });
      await screenshot(ctx.page, `dashboard${path.replace('/', '-')}`);
      // Colour contrast (WCAG AA) of every text on the page; the swarm's canvas is not text.
      const low = await lowContrastTexts(ctx.page);
      assert.deepEqual(low, [], `${path}: text below WCAG AA contrast`);
    }
    assert.deepEqual(ctx.offOrigin, [], 'no request left the origin');
    assert.deepEqual(ctx.errors, [], 'no page error');
  });

  test('an owner adds a peer relay from the Peers page, sees it connected, and removes it', async () => {
    const peer = await startTestRelay();
    try {
      const ctx = await d.loggedIn(owner);
      const page = ctx.page;
      await page.goto(`${d.url}/peers`);
      await page.getByText('No peer relays.').waitFor({ timeout: WAIT });
      await page.getByLabel('Peer relay URL').fill(peer.url);
      await page.getByRole('button', { name: 'Add peer' }).click();
      await page.getByText(`added ${peer.url}`).waitFor({ timeout: WAIT });
      const row = page.getByRole('listitem').filter({ hasText: peer.url });
      await row.getByText('added from the dashboard').waitFor({ timeout: WAIT });
      // The instance connects to it (the page refreshes its list every 10 s).
      await row.locator('timmy-state[state="alive"]').waitFor({ timeout: WAIT });
      await screenshot(page, 'dashboard-peers-added');
      // Its own relay is refused, with the reason.
      await page.getByLabel('Peer relay URL').fill(d.relayUrl);
      await page.getByRole('button', { name: 'Add peer' }).click();
      await page.getByText(/^refused: /).waitFor({ timeout: WAIT });
      await page.getByRole('button', { name: `remove ${peer.url}` }).click();
      await page.getByText(`removed ${peer.url}`).waitFor({ timeout: WAIT });
      await page.getByText('No peer relays.').waitFor({ timeout: WAIT });
      assert.deepEqual(ctx.offOrigin, []);
      // The browser logs the refused add's 400; nothing else.
      assert.deepEqual(
        ctx.errors.filter((e) => !/status of 400/.test(e)),
        [],
      );
    } finally {
      await peer.close();
    }
  });

  test('a job posted by an outside client appears on the Jobs page without a reload', async () => {
    const ctx = await d.context();
    await ctx.page.goto(`${d.url}/jobs`);
    await ctx.page.getByRole('heading', { name: 'Jobs' }).waitFor({ timeout: WAIT });
    const request = finalizeEvent(
      {
        kind: 5700,
        created_at: Math.floor(Date.now() / 1000),
        tags: [['i', 'seen live', 'text']],
        content: '',
      },
      generateSecretKey(),
    );
    const client = new RelayClient({ url: d.relayUrl, logger: silentLogger });
    try {
      await client.publish(request);
    } finally {
      client.close();
    }
    await ctx.page.locator(`a[href="/jobs/${request.id}"]`).first().waitFor({ timeout: WAIT });
    assert.deepEqual(ctx.offOrigin, []);
    assert.deepEqual(ctx.errors, []);
  });

  test('a non-owner reads, and is refused the owner actions', async () => {
    const ctx = await d.loggedIn(stranger);
    await ctx.page.goto(`${d.url}/approvals`);
    await ctx.page.getByText('is not one of this instance’s owners').waitFor({ timeout: WAIT });
    const answer = await ctx.page.evaluate(async () => {
      const session = (await (await fetch('/api/session')).json()) as { csrf?: string };
      const res = await fetch(`/api/jobs/${'0'.repeat(64)}/approve`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf ?? '' },
        body: '{}',
      });
      return { status: res.status, body: (await res.json()) as { error?: string } };
    });
    assert.equal(answer.status, 403);
    assert.match(answer.body.error ?? '', /owner/);
    await screenshot(ctx.page, 'dashboard-approvals-non-owner');
    assert.deepEqual(ctx.offOrigin, []);
  });

  test('a job whose content holds HTML and script is shown as text', async () => {
    const customer = generateSecretKey();
    const hostile = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    const request = finalizeEvent(
      {
        kind: 5700,
        created_at: Math.floor(Date.now() / 1000),
        tags: [['i', hostile, 'text']],
        content: hostile,
      },
      customer,
    );
    const client = new RelayClient({ url: d.relayUrl, logger: silentLogger });
    try {
      await client.publish(request);
    } finally {
      client.close();
    }
    const ctx = await d.context();
    const page: Page = ctx.page;
    await page.goto(`${d.url}/jobs/${request.id}`);
    await page.getByText('onerror', { exact: false }).first().waitFor({ timeout: WAIT });
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    await page.goto(`${d.url}/jobs`);
    await page.getByRole('heading', { level: 1 }).waitFor({ timeout: WAIT });
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.deepEqual(ctx.offOrigin, []);
  });
});
