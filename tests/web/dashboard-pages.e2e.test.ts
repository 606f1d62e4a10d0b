/**
 * Every page of the dashboard in a real browser against a real `timmy start`: each renders its heading for an
 * owner (screenshots in tmp/screenshots/, looked at by a person) with WCAG AA text contrast, nothing reaches
 * beyond the origin and no page throws; a non-owner reads but is refused the owner actions (403 with a
 * reason); a job whose content holds HTML and script is shown as inert text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import type { Page } from 'playwright-core';
import { silentLogger } from '../../core/logger.ts';
import { RelayClient } from '../../relay/client.ts';
import { screenshot } from '../../testkit/browser.ts';
import { lowContrastTexts } from '../../testkit/contrast.ts';
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
