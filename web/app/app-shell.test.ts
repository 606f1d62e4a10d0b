import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure';
import type { NostrEvent } from '../../core/nostr.ts';
import {
  bundleForBrowser,
  chromiumAvailable,
  injectNip07,
  launchBrowser,
  screenshot,
  type TestBrowser,
} from '../../testkit/browser.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import type {
  AgentStats,
  Approvals,
  JobDetail,
  JobRow,
  LlmStatus,
  PeerList,
  SessionInfo,
  WalletView,
} from '../api-types.ts';
import type { InstanceView } from '../instance-view.ts';
import { type FakeServer, serveApp, writeEntry } from './test-page.ts';

const ownerKey = generateSecretKey();
const owner = getPublicKey(ownerKey);
const desk = 'd'.repeat(64);
const agentPk = 'b1'.repeat(32);
const request = finalizeEvent(
  {
    kind: 5050,
    created_at: Math.floor(Date.now() / 1000) - 60,
    tags: [['i', 'What is Nostr?', 'text']],
    content: '',
  },
  generateSecretKey(),
);
const jobId = request.id;

const job: JobRow = {
  id: jobId,
  kind: 5050,
  customer: request.pubkey,
  state: 'completed',
  agent: agentPk,
  attempt: 1,
  createdAt: request.created_at,
  updatedAt: request.created_at + 5,
  priceMsats: 21000,
  payment: 'settled',
};
const detail: JobDetail = {
  ...job,
  request,
  approved: true,
  coordinator: desk,
  timeline: [
    { type: 'posted', state: 'posted', at: Date.now() - 60_000 },
    { type: 'assigned', state: 'assigned', at: Date.now() - 58_000, detail: 'agent b1b1b1 at 21 sats' },
    { type: 'result', state: 'completed', at: Date.now() - 55_000 },
  ],
  paymentDetail: { state: 'settled', amountMsats: 21000, paymentHash: 'ab'.repeat(32) },
};
const agent: AgentStats = {
  pubkey: agentPk,
  npub: '',
  name: 'ada',
  displayName: 'Ada',
  nip05: 'ada@timmy.local',
  about: 'Writes answers.',
  role: 'worker',
  where: 'local',
  kinds: [{ kind: 5050, priceMsats: 21000 }],
  alive: true,
  load: 0,
  latencyP50Ms: 800,
  latencyP95Ms: 2400,
  jobsDone: 12,
  jobsFailed: 1,
  successRate: 12 / 13,
  satsEarned: 252,
  paidUndelivered: 0,
  deliveredUnpaid: 0,
  score: 68,
  scores: { 5050: 68 },
};
const status: InstanceView = {
  name: 'timmy',
  version: '0.1.0',
  startedAt: Date.now(),
  relayUrl: '',
  httpUrl: '',
  domain: 'timmy.local',
  agents: [
    { ...agent, kinds: [5050], local: true, lastBeatAt: undefined },
    {
      ...agent,
      pubkey: desk,
      name: 'timmy',
      role: 'coordinator',
      kinds: [],
      local: true,
      lastBeatAt: undefined,
    },
  ],
  peers: [],
  llm: [{}],
};
const approvals: Approvals = {
  jobs: [{ ...job, state: 'awaiting-approval', payment: undefined, agent: undefined }],
  withdrawals: [
    {
      id: 7,
      state: 'pending',
      amountMsats: 50_000,
      invoice: 'lnbcrt500n1pexample',
      requestedAt: Date.now() / 1000,
    },
  ],
};
const wallet: WalletView = {
  enabled: true,
  testSats: true,
  balanceMsats: 1_234_000,
  accounts: [
    { name: 'instance', balanceMsats: 1_000_000 },
    { name: 'agent:ada', balanceMsats: 234_000 },
  ],
  history: [{ at: Date.now() / 1000, kind: 'job income', amountMsats: 21_000, job: jobId }],
  withdrawals: approvals.withdrawals,
};
const llm: LlmStatus = {
  providers: [
    {
      provider: 'ollama',
      model: 'llama3.2',
      circuit: 'closed',
      calls: 40,
      failures: 1,
      latencyP50Ms: 900,
      latencyP95Ms: 3100,
    },
    { provider: 'openai', model: 'gpt-4o-mini', circuit: 'open', calls: 3, failures: 3 },
  ],
};
const peers: PeerList = {
  relays: [{ url: 'ws://127.0.0.1:9/peer', connected: false, added: true }],
  desks: [{ pubkey: 'c'.repeat(64), name: 'bob-desk', relay: 'ws://127.0.0.1:9/peer', agents: 2 }],
  agents: [
    {
      name: 'bo',
      pubkey: 'e'.repeat(64),
      desk: 'c'.repeat(64),
      relay: 'ws://127.0.0.1:9/peer',
      kinds: [5001],
      alive: true,
      onRoster: true,
      score: 55,
    },
  ],
};

/** A fake of the dashboard API: the two session endpoints check the signed login like the server must. */
function fakeApi(server: () => FakeServer) {
  let session: SessionInfo = { loggedIn: false, owners: [owner] };
  const challenge = 'challenge-123';
  return (req: IncomingMessage, body: string): { status?: number; json: unknown } | undefined => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const post = req.method === 'POST';
    const ownerOnly = (json: unknown) =>
      session.owner ? { json } : { status: session.loggedIn ? 403 : 401, json: { error: 'owners only' } };
    if (path === '/api/session' && !post) return { json: session };
    if (path === '/api/session/challenge' && post)
      return { json: { challenge, expiresAt: Date.now() / 1000 + 60, url: `${server().url}/api/session` } };
    if (path === '/api/session' && post) {
      const event = (JSON.parse(body) as { event: NostrEvent }).event;
      const tag = (n: string) => event.tags.find((t) => t[0] === n)?.[1];
      if (
        event.kind !== 27235 ||
        !verifyEvent(event) ||
        tag('challenge') !== challenge ||
        tag('method') !== 'POST' ||
        tag('u') !== `${server().url}/api/session`
      )
        return { status: 401, json: { error: 'bad login event' } };
      session = {
        loggedIn: true,
        pubkey: event.pubkey,
        npub: '',
        owner: event.pubkey === owner,
        csrf: 'csrf-token',
        owners: [owner],
        expiresAt: Date.now() / 1000 + 3600,
      };
      return { json: session };
    }
    if (path === '/api/session/logout' && post) {
      session = { loggedIn: false, owners: [owner] };
      return { json: session };
    }
    if (post && req.headers['x-csrf-token'] !== 'csrf-token')
      return { status: 403, json: { error: 'bad CSRF token' } };
    if (path === '/api/status') return { json: status };
    if (path === '/api/jobs') return { json: { jobs: [job] } };
    if (path === `/api/jobs/${jobId}`) return { json: detail };
    if (path === '/api/agents') return { json: { agents: [agent] } };
    if (path === `/api/agents/${agentPk}`)
      return {
        json: {
          agent,
          explanation: {},
          explanationText: 'score 68 for kind 5050: 12 work-completed labels from the desk (weight 1.0)',
          recentJobs: [job],
        },
      };
    if (path === '/api/llm') return { json: llm };
    if (path === '/api/peers') return { json: peers };
    if (path === '/api/wallet') return ownerOnly(wallet);
    if (path === '/api/approvals') return ownerOnly(approvals);
    if (path === `/api/jobs/${jobId}/approve` && post) return ownerOnly(detail);
    return undefined;
  };
}

describe('<timmy-app>', { skip: !chromiumAvailable() && 'no chromium' }, () => {
  let browser: TestBrowser;
  let relay: TestRelay;
  let server: FakeServer;
  before(async () => {
    browser = await launchBrowser();
    relay = await startTestRelay();
    const script = await bundleForBrowser(await writeEntry('app-entry', `import './main.ts';`));
    server = await serveApp(
      script,
      `<timmy-app relay-url="${relay.url}"></timmy-app>`,
      fakeApi(() => server),
    );
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await relay?.close();
  });

  it('opens a deep link, logs in with NIP-07, routes with history (back), and writes with the CSRF token', async () => {
    const ctx = await browser.context();
    try {
      const nip07 = await injectNip07(ctx.context, ownerKey);
      const page = ctx.page;
      await page.goto(`${server.url}/jobs/${jobId}`);
      await page.getByRole('heading', { name: /^Job / }).waitFor({ timeout: 30_000 });
      await page.getByText('What is Nostr?').waitFor();
      await page.getByText('relay: open').waitFor({ timeout: 30_000 });

      await page.getByRole('button', { name: 'Log in with Nostr' }).click();
      await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: 30_000 });
      const login = nip07.signed[0];
      assert.equal(login?.kind, 27235);
      assert.deepEqual(login?.tags, [
        ['u', `${server.url}/api/session`],
        ['method', 'POST'],
        ['challenge', 'challenge-123'],
      ]);
      await page.getByText('owner', { exact: true }).waitFor();

      // in-app navigation, then back to the deep link
      const before = server.calls.length;
      await page.getByRole('link', { name: 'Agents', exact: true }).click();
      await page.getByRole('heading', { name: 'Agents' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/agents');
      assert.ok(!server.calls.slice(before).some((c) => c.path === '/'), 'no page reload');
      await page.getByRole('link', { name: 'Ada' }).click();
      await page.getByText('12 work-completed labels').waitFor();
      await page.goBack();
      await page.getByRole('heading', { name: 'Agents' }).waitFor();
      await page.goBack();
      await page.getByRole('heading', { name: /^Job / }).waitFor();
      assert.equal(new URL(page.url()).pathname, `/jobs/${jobId}`);

      // an owner's write carries the CSRF token
      await page.getByRole('link', { name: 'Approvals' }).click();
      await page.getByRole('button', { name: /^approve job/ }).click();
      await page.getByText(/approved$/).waitFor();
      const approve = server.calls.find((c) => c.path.endsWith('/approve'));
      assert.equal(approve?.csrf, 'csrf-token');

      // screenshots of every page (checked not blank)
      for (const [path, name] of [
        ['/chat', 'chat'],
        ['/jobs', 'jobs'],
        [`/jobs/${jobId}`, 'job'],
        ['/agents', 'agents-page'],
        [`/agents/${agentPk}`, 'agent'],
        ['/wallet', 'wallet'],
        ['/approvals', 'approvals'],
        ['/llm', 'llm'],
        ['/peers', 'peers'],
        ['/monitor', 'monitor'],
      ] as const) {
        await page.goto(`${server.url}${path}`);
        await page.locator('main h1').first().waitFor();
        await page
          .waitForFunction(
            () => !document.querySelector('timmy-app')?.shadowRoot?.textContent?.includes('Loading'),
            null,
            {
              timeout: 10_000,
            },
          )
          .catch(() => {});
        await screenshot(page, `app-${name}`);
      }

      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('button', { name: 'Log in with Nostr' }).waitFor();
      assert.deepEqual(ctx.offOrigin, []);
      assert.deepEqual(
        ctx.errors.filter((e) => !e.includes('404')),
        [],
      );
    } finally {
      await ctx.close();
    }
  });

  it('is read-only without an extension, refuses owner views to others, and fits 375 px', async () => {
    const ctx = await browser.context({ viewport: { width: 375, height: 740 } });
    try {
      const page = ctx.page;
      await page.goto(`${server.url}/approvals`);
      await page.getByText('read-only: install a NIP-07 extension to log in').waitFor({ timeout: 30_000 });
      await page.getByText(/Only the instance’s owners can approve/).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(overflow <= 375, `the page is ${overflow} px wide`);
      await screenshot(page, 'app-approvals-375-readonly');
      await page.goto(`${server.url}/jobs`);
      await page.getByRole('heading', { name: 'Jobs' }).waitFor();
      await screenshot(page, 'app-jobs-375');
    } finally {
      await ctx.close();
    }
  });
});
