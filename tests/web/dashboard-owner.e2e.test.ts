/**
 * The dashboard the way a person uses it: a real `timmy start`, Debian's chromium, a NIP-07 extension
 * (injected), and clicks. An owner logs in, chats with Timmy (a summary job held for approval), approves it
 * on another tab, and sees its auction, payment and result arrive live without a reload; follows the job's
 * life page and verifies its auction in the browser; opens the winner's profile. No request leaves the
 * origin. (tests/web/dashboard-pages.e2e.test.ts: every page, a non-owner, hostile content.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSecretKey } from 'nostr-tools/pure';
import { screenshot } from '../../testkit/browser.ts';
import { type DashboardInstance, skipWithoutChromium, startDashboard, WAIT } from './dashboard-harness.ts';

describe('the dashboard: an owner’s job, end to end', { skip: skipWithoutChromium }, () => {
  const owner = generateSecretKey();
  let d: DashboardInstance;

  before(async () => {
    // Summaries wait for the operator: the owner approves one from the dashboard.
    d = await startDashboard({ owners: [owner], env: { TIMMY_DVM_APPROVAL_KINDS: '5001' } });
  });

  after(async () => {
    await d?.close();
  });

  test('an owner chats, approves, and watches the auction, payment and result arrive live', async () => {
    const ctx = await d.loggedIn(owner);
    const chat = ctx.page;
    await chat.getByRole('link', { name: 'Chat' }).click();
    await chat
      .getByLabel('Your message')
      .fill('Timmy Time is a network of agents. They bid for jobs. The cheapest good bid wins.');
    await chat.getByLabel('Job kind').selectOption('5001');
    await chat.getByLabel('the demo wallet (test sats)').check();
    await chat.getByRole('button', { name: 'Send' }).click();
    const jobLink = chat.getByRole('link', { name: 'follow this job’s life' });
    await jobLink.waitFor({ timeout: WAIT });
    const jobId = (await jobLink.getAttribute('href'))?.split('/').pop() ?? '';
    assert.match(jobId, /^[0-9a-f]{64}$/);

    // The owner approves the held job from a second tab (the chat keeps following it in the first).
    const tab = await ctx.context.newPage();
    await tab.goto(`${d.url}/approvals`);
    const approve = tab.getByRole('button', { name: `approve job ${jobId.slice(0, 12)}` });
    await approve.waitFor({ timeout: WAIT });
    await screenshot(tab, 'dashboard-approvals');
    await approve.click();
    await tab.getByText(`job ${jobId.slice(0, 12)}… approved`).waitFor({ timeout: WAIT });

    // Live in the chat, without a reload: the payment asked and paid, then the result.
    await chat.locator('.result').waitFor({ timeout: WAIT });
    const feedback = (await chat.locator('.feedback').textContent()) ?? '';
    assert.match(feedback, /waiting for the operator's approval/, feedback);
    assert.match(feedback, /paying [\d.]+ sats/, feedback);
    await chat.getByText(/^paid [\d.]+ sats$/).waitFor({ timeout: WAIT });
    assert.match((await chat.locator('.result').textContent()) ?? '', /\S/);
    // Rating the answer: a NIP-32 label signed by the extension and published to the relay.
    await chat.getByRole('button', { name: 'Good answer' }).click();
    await chat.getByText(/rated \(label [0-9a-f]{8}…\)/).waitFor({ timeout: WAIT });
    await screenshot(chat, 'dashboard-chat');

    // The job's life page: the auction's record, verified in this browser from the relay's events.
    await jobLink.click();
    await chat.getByRole('button', { name: 'Verify the auction in this browser' }).click();
    await chat.getByText('the record matches the relay’s events').waitFor({ timeout: WAIT });
    const life = (await chat.getByRole('list', { name: 'The job’s life' }).textContent()) ?? '';
    assert.match(life, /Winner/);
    assert.match(life, /Invoice|sats/);
    await screenshot(chat, 'dashboard-job-life');

    // The winner's profile, from the job page.
    const winner = chat.locator('a[href^="/agents/"]').first();
    await winner.click();
    await chat.getByRole('heading', { level: 1 }).waitFor({ timeout: WAIT });
    assert.match(chat.url(), /\/agents\/[0-9a-f]{64}$/);
    await chat.getByRole('heading', { name: /Reputation: \d+ \/ 100/ }).waitFor({ timeout: WAIT });
    await chat.getByRole('heading', { name: 'Recent jobs' }).waitFor({ timeout: WAIT });
    await screenshot(chat, 'dashboard-agent');

    assert.deepEqual(ctx.offOrigin, [], 'no request left the origin');
    assert.deepEqual(ctx.errors, [], 'no page error');
  });
});
