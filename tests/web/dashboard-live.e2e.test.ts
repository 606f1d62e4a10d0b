/**
 * The dashboard's live and owner-managed parts against a real `timmy start` in chromium: an owner adds a
 * peer relay (a real second relay) from the Peers page, sees it connected, is refused the instance's own
 * relay, removes it; a job posted by an outside client appears on the Jobs page without a reload.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { silentLogger } from '../../core/logger.ts';
import { RelayClient } from '../../relay/client.ts';
import { screenshot } from '../../testkit/browser.ts';
import { startTestRelay } from '../../testkit/relay.ts';
import { type DashboardInstance, skipWithoutChromium, startDashboard, WAIT } from './dashboard-harness.ts';

describe('the dashboard, live', { skip: skipWithoutChromium }, () => {
  const owner = generateSecretKey();
  let d: DashboardInstance;

  before(async () => {
    d = await startDashboard({ owners: [owner] });
  });

  after(async () => {
    await d?.close();
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
});
