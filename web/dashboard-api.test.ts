import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { ManualClock, systemClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { JobLog } from '../dvm/job-log.ts';
import { encodeNpub } from '../identity/nip19.ts';
import { buildNip98Header } from '../identity/nip98.ts';
import { LocalSigner } from '../identity/signer.ts';
import { agentAccount, Treasury } from '../payments/treasury.ts';
import { ReputationBook } from '../reputation/book.ts';
import { loginToDashboard, signLogin } from '../testkit/dashboard-login.ts';
import type {
  AgentList,
  AgentProfile,
  JobDetail,
  JobList,
  LoginChallenge,
  SessionInfo,
} from './api-types.ts';
import { AssetBundle } from './assets.ts';
import { type DashboardAgent, DashboardApi, type DashboardSources } from './dashboard-api.ts';
import { DashboardSessions } from './dashboard-session.ts';
import { HttpServer, type InstanceView } from './http-server.ts';

const ownerKey = generateSecretKey();
const owner = getPublicKey(ownerKey);
const strangerKey = generateSecretKey();
const hex = (n: number, width = 64): string => n.toString(16).padStart(width, '0');
const DESK = hex(0xde5c);
const ECHO = hex(0xec0);
const request = (n: number): NostrEvent => ({
  id: hex(n),
  pubkey: hex(0xc0ffee),
  created_at: 1_700_000_000,
  kind: 5050,
  tags: [],
  content: '<script>alert(1)</script>',
  sig: hex(5, 128),
});

const view: InstanceView = {
  name: 'Timmy <test>',
  version: '0.0.0',
  startedAt: 1,
  relayUrl: 'ws://127.0.0.1:1',
  httpUrl: '',
  domain: 'localhost',
  agents: [],
  peers: [],
  llm: [],
};

describe('the dashboard API on a real job log, treasury and sessions', () => {
  const log = JobLog.open({ path: ':memory:' });
  const treasury = Treasury.open({ path: ':memory:', logger: silentLogger });
  const book = new ReputationBook({ seeds: [DESK], clock: systemClock, verify: null });
  const sources: DashboardSources = {
    log,
    coordinator: DESK,
    agents: (): DashboardAgent[] => [
      {
        pubkey: DESK,
        name: 'timmy',
        displayName: 'Timmy',
        about: '',
        role: 'coordinator',
        kinds: [],
        local: true,
        alive: true,
        load: 0,
        score: 50,
        scores: {},
      },
      {
        pubkey: ECHO,
        name: 'echo',
        displayName: 'Echo <b>',
        about: 'repeats',
        role: 'agent',
        nip05: 'echo@localhost',
        kinds: [{ kind: 5050, priceMsats: 1000 }],
        local: true,
        alive: true,
        load: 0,
        score: 50,
        scores: { 5050: 50 },
      },
    ],
    peerAgents: () => [],
    reputation: { score: (pubkey, kind) => book.score(pubkey, kind) },
    llm: () => [],
    treasury,
    testSats: true,
    demoCustomerUrl: `nostr+walletconnect://${hex(0xfa11e7)}?relay=ws%3A%2F%2F127.0.0.1%3A7777&secret=${hex(0x5ec)}`,
  };
  const clock = new ManualClock(Date.now());
  const sessions = new DashboardSessions({
    owners: [encodeNpub(owner)],
    sessionSeconds: 3600,
    maxSessions: 3,
    challengesPerMinute: 5,
    logger: silentLogger,
    clock,
  });
  const server = new HttpServer({
    logger: silentLogger,
    view: () => view,
    nostrJson: () => ({ names: {} }),
    dashboard: {
      api: new DashboardApi({ sources, sessions, logger: silentLogger }),
      assets: new AssetBundle({ logger: silentLogger, entries: {}, extras: async () => ({}) }),
    },
  });
  let base = '';
  const held = hex(1);
  const done = hex(2);
  let withdrawalId = 0;

  before(async () => {
    base = await server.listen(0);
    log.append(held, { type: 'posted', request: request(1) });
    log.append(held, { type: 'approval-required', reason: 'kind 5050 needs approval' });
    log.append(done, { type: 'posted', request: request(2) });
    log.append(done, { type: 'assigned', agent: ECHO, attempt: 1 });
    log.append(done, { type: 'completed', agent: ECHO, result: { ...request(3), kind: 6050 } });
    treasury.escrows.record({
      jobId: done,
      customer: hex(0xc0ffee),
      mode: 'before',
      hold: true,
      invoice: 'lnbcrt-x',
      paymentHash: hex(9),
      preimage: hex(8),
      amountMsats: 11_000,
      priceMsats: 10_000,
      agent: 'echo',
      expiresAt: 2_000_000_000,
    });
    treasury.escrows.markPaid(done);
    treasury.escrows.markSettled(done);
    withdrawalId = treasury.withdrawals.request({
      account: agentAccount('echo'),
      invoice: 'lnbcrt-w',
      paymentHash: hex(7),
      amountMsats: 5_000,
      requestedBy: 'test',
      autoApproveMsats: 0,
    }).id;
  });
  after(async () => {
    await server.close();
    log.close();
    treasury.close();
  });

  const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;

  const login = (key: Uint8Array) => loginToDashboard(base, key, Math.floor(clock.now() / 1000));

  test('app routes serve the shell with the strict CSP; unknown paths stay 404 JSON', async () => {
    for (const path of [
      '/',
      '/chat',
      '/jobs',
      `/jobs/${held}`,
      '/agents',
      `/agents/${encodeNpub(ECHO)}`,
      '/swarm',
      '/monitor',
    ]) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 200, path);
      const html = await res.text();
      assert.match(html, /<timmy-app><\/timmy-app>/);
      assert.match(html, /<script type="module" src="\/assets\/app\.js"><\/script>/);
      assert.match(html, /<noscript>[\s\S]*Timmy &#60;test&#62;/);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'; script-src 'self';/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    }
    const nf = await fetch(`${base}/nope`);
    assert.equal(nf.status, 404);
    assert.match((await nf.json()).error, /no such page/);
    assert.equal((await fetch(`${base}/jobs/not-an-id`)).status, 404);
  });

  test('jobs: list with filters, detail with its timeline and payment, 400 and 404', async () => {
    const all = await json<JobList>(await fetch(`${base}/api/jobs`));
    assert.deepEqual(all.jobs.map((j) => j.id).sort(), [held, done].sort());
    const heldOnly = await json<JobList>(await fetch(`${base}/api/jobs?state=awaiting-approval`));
    assert.deepEqual(
      heldOnly.jobs.map((j) => j.id),
      [held],
    );
    const byAgent = await json<JobList>(await fetch(`${base}/api/jobs?agent=${ECHO}&kind=5050`));
    assert.deepEqual(
      byAgent.jobs.map((j) => j.id),
      [done],
    );
    const one = await json<JobList>(await fetch(`${base}/api/jobs?limit=1`));
    assert.equal(one.jobs.length, 1);
    assert.equal(typeof one.next, 'number');

    const d = await json<JobDetail>(await fetch(`${base}/api/jobs/${done}`));
    assert.equal(d.state, 'completed');
    assert.equal(d.coordinator, DESK);
    assert.equal(d.payment, 'settled');
    assert.equal(d.priceMsats, 10_000);
    assert.deepEqual(
      d.timeline.map((t) => t.type),
      ['posted', 'assigned', 'completed'],
    );
    assert.equal(d.result?.kind, 6050);

    assert.equal((await fetch(`${base}/api/jobs?state=nope`)).status, 400);
    assert.equal((await fetch(`${base}/api/jobs?limit=0`)).status, 400);
    assert.equal((await fetch(`${base}/api/jobs/xyz`)).status, 400);
    const unknown = await fetch(`${base}/api/jobs/${hex(99)}`);
    assert.equal(unknown.status, 404);
    assert.match((await unknown.json()).error, /no job/);
  });

  test('agents: stats from the log and treasury, a profile with its explanation', async () => {
    const list = await json<AgentList>(await fetch(`${base}/api/agents`));
    const echo = list.agents.find((a) => a.pubkey === ECHO);
    assert.equal(echo?.jobsDone, 1);
    assert.equal(echo?.satsEarned, 10);
    assert.equal(echo?.successRate, 1);
    assert.equal(echo?.npub, encodeNpub(ECHO));
    const p = await json<AgentProfile>(await fetch(`${base}/api/agents/${encodeNpub(ECHO)}`));
    assert.equal(p.agent.name, 'echo');
    assert.match(p.explanationText, /overall: 50/);
    assert.deepEqual(
      p.recentJobs.map((j) => j.id),
      [done],
    );
    assert.equal((await fetch(`${base}/api/agents/bob`)).status, 400);
    assert.equal((await fetch(`${base}/api/agents/${hex(98)}`)).status, 404);
    const swarm = await json<{ nodes: { id: string }[]; edges: { type: string }[] }>(
      await fetch(`${base}/api/swarm`),
    );
    assert.ok(swarm.nodes.some((n) => n.id === ECHO));
    assert.ok(swarm.edges.some((e) => e.type === 'assignment'));
  });

  test('login: a signed challenge makes a session (HttpOnly, SameSite=Strict cookie); logout ends it', async () => {
    const res = await fetch(`${base}/api/session`);
    const anon = await json<SessionInfo>(res);
    assert.equal(anon.loggedIn, false);
    assert.deepEqual(anon.owners, [encodeNpub(owner)]);
    assert.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS on the session');

    const c = await json<LoginChallenge>(await fetch(`${base}/api/session/challenge`, { method: 'POST' }));
    const event = signLogin(c, ownerKey, Math.floor(clock.now() / 1000));
    const ok = await fetch(`${base}/api/session`, { method: 'POST', body: JSON.stringify({ event }) });
    assert.equal(ok.status, 200);
    const setCookie = ok.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^timmy_session=[\w-]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=3600$/);
    const info = await json<SessionInfo>(ok);
    assert.equal(info.owner, true);
    assert.equal(info.pubkey, owner);
    const cookie = setCookie.split(';')[0] ?? '';
    const again = await json<SessionInfo>(
      await fetch(`${base}/api/session`, { headers: { Cookie: cookie } }),
    );
    assert.equal(again.loggedIn, true);
    assert.equal(again.csrf, info.csrf);

    // The same challenge again: refused (single use).
    const replay = await fetch(`${base}/api/session`, { method: 'POST', body: JSON.stringify({ event }) });
    assert.equal(replay.status, 401);
    assert.match((await replay.json()).error, /already used/);

    const out = await fetch(`${base}/api/session/logout`, { method: 'POST', headers: { Cookie: cookie } });
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal(
      (await json<SessionInfo>(await fetch(`${base}/api/session`, { headers: { Cookie: cookie } }))).loggedIn,
      false,
    );
  });

  test('login refusals: bad signature, wrong u tag, expired challenge, no challenge, bad JSON, oversized body', async () => {
    const challenge = async () =>
      json<LoginChallenge>(await fetch(`${base}/api/session/challenge`, { method: 'POST' }));
    const post = (body: string) => fetch(`${base}/api/session`, { method: 'POST', body });
    const sign = (tags: string[][], at = Math.floor(clock.now() / 1000)) =>
      finalizeEvent({ kind: 27235, created_at: at, tags, content: '' }, ownerKey);

    let c = await challenge();
    const forged = {
      ...sign([
        ['u', c.url],
        ['method', 'POST'],
        ['challenge', c.challenge],
      ]),
    };
    forged.sig = forged.sig.replace(/^./, (x) => (x === 'a' ? 'b' : 'a'));
    let r = await post(JSON.stringify({ event: forged }));
    assert.equal(r.status, 401);
    assert.match((await r.json()).error, /signature|id/);

    r = await post(
      JSON.stringify({
        event: sign([
          ['u', 'http://evil.example/api/session'],
          ['method', 'POST'],
          ['challenge', c.challenge],
        ]),
      }),
    );
    assert.equal(r.status, 401);
    assert.match((await r.json()).error, /"u" tag/);

    r = await post(
      JSON.stringify({
        event: sign([
          ['u', c.url],
          ['method', 'POST'],
        ]),
      }),
    );
    assert.equal(r.status, 401);
    assert.match((await r.json()).error, /no challenge/);

    c = await challenge();
    clock.advance(6 * 60_000);
    r = await post(
      JSON.stringify({
        event: sign([
          ['u', c.url],
          ['method', 'POST'],
          ['challenge', c.challenge],
        ]),
      }),
    );
    assert.equal(r.status, 401);
    assert.match((await r.json()).error, /expired/);

    r = await post('{not json');
    assert.equal(r.status, 400);
    assert.match((await r.json()).error, /not JSON/);
    r = await post(JSON.stringify({ pad: 'x'.repeat(70 * 1024) }));
    assert.equal(r.status, 400);
    assert.match((await r.json()).error, /over 65536 bytes/);
    r = await post(JSON.stringify({ nothing: true }));
    assert.equal(r.status, 400);
  });

  test('owner writes: CSRF and Origin checked, non-owners refused, 409 for a job not held, NIP-98 works', async () => {
    const o = await login(ownerKey);
    const s = await login(strangerKey);
    const approve = (headers: Record<string, string>, id = held, body = '{}') =>
      fetch(`${base}/api/jobs/${id}/approve`, { method: 'POST', headers, body });

    let r = await approve({});
    assert.equal(r.status, 401);
    r = await approve({ Cookie: o.cookie });
    assert.equal(r.status, 403);
    assert.match((await r.json()).error, /X-CSRF-Token/);
    r = await approve({ Cookie: o.cookie, 'X-CSRF-Token': o.info.csrf ?? '', Origin: 'http://evil.example' });
    assert.equal(r.status, 403);
    assert.match((await r.json()).error, /cross-origin/);
    r = await approve({ Cookie: s.cookie, 'X-CSRF-Token': s.info.csrf ?? '' });
    assert.equal(r.status, 403);
    assert.match((await r.json()).error, /only the instance owners/);
    assert.equal(r.headers.get('access-control-allow-origin'), null, 'no CORS on writes');
    r = await approve({ Cookie: o.cookie, 'X-CSRF-Token': o.info.csrf ?? '' }, held, '{bad');
    assert.equal(r.status, 400);

    // Owner reads: the wallet and approvals; not for strangers.
    assert.equal((await fetch(`${base}/api/wallet`, { headers: { Cookie: s.cookie } })).status, 403);
    assert.equal((await fetch(`${base}/api/approvals`)).status, 401);
    const approvals = await json<{ jobs: { id: string }[]; withdrawals: { id: number }[] }>(
      await fetch(`${base}/api/approvals`, { headers: { Cookie: o.cookie } }),
    );
    assert.deepEqual(
      approvals.jobs.map((j) => j.id),
      [held],
    );
    assert.deepEqual(
      approvals.withdrawals.map((w) => w.id),
      [withdrawalId],
    );
    const wallet = await json<{ enabled: boolean; testSats: boolean; accounts: { name: string }[] }>(
      await fetch(`${base}/api/wallet`, { headers: { Cookie: o.cookie } }),
    );
    assert.equal(wallet.enabled, true);
    assert.ok(wallet.accounts.some((a) => a.name === 'agent:echo'));

    r = await approve({ Cookie: o.cookie, 'X-CSRF-Token': o.info.csrf ?? '', Origin: base });
    assert.equal(r.status, 200);
    const detail = await json<JobDetail>(r);
    assert.equal(detail.approved, true, JSON.stringify(detail));
    assert.equal(detail.state, 'posted');
    assert.match(detail.timeline.at(-1)?.detail ?? '', new RegExp(`by ${encodeNpub(owner)}`));
    r = await approve({ Cookie: o.cookie, 'X-CSRF-Token': o.info.csrf ?? '' });
    assert.equal(r.status, 409);
    assert.match((await r.json()).error, /not awaiting approval/);
    r = await approve({ Cookie: o.cookie, 'X-CSRF-Token': o.info.csrf ?? '' }, hex(97));
    assert.equal(r.status, 404);

    // NIP-98: an owner's signed request for exactly this URL, method and body.
    const url = `${base}/api/withdrawals/${withdrawalId}/reject`;
    const body = JSON.stringify({ reason: 'not now' });
    const signer = new LocalSigner(ownerKey);
    r = await fetch(url, {
      method: 'POST',
      body,
      headers: {
        Authorization: await buildNip98Header(signer, url, 'POST', '{}', {
          createdAt: Math.floor(clock.now() / 1000),
        }),
      },
    });
    assert.equal(r.status, 401, 'the payload hash is of another body');
    assert.match((await r.json()).error, /payload/);
    r = await fetch(url, {
      method: 'POST',
      body,
      headers: {
        Authorization: await buildNip98Header(new LocalSigner(strangerKey), url, 'POST', body, {
          createdAt: Math.floor(clock.now() / 1000),
        }),
      },
    });
    assert.equal(r.status, 403);
    r = await fetch(url, {
      method: 'POST',
      body,
      headers: {
        Authorization: await buildNip98Header(signer, url, 'POST', body, {
          createdAt: Math.floor(clock.now() / 1000),
        }),
      },
    });
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal((await json<{ state: string }>(r)).state, 'rejected');
    r = await fetch(url, {
      method: 'POST',
      body,
      headers: {
        Authorization: await buildNip98Header(signer, url, 'POST', body, {
          createdAt: Math.floor(clock.now() / 1000),
        }),
      },
    });
    assert.equal(r.status, 409);
  });

  test('the demo wallet: any logged-in user, its relay rewritten to this origin', async () => {
    assert.equal((await fetch(`${base}/api/demo-wallet`)).status, 401);
    const s = await login(strangerKey);
    const w = await json<{ nwcUrl: string; testSats: boolean }>(
      await fetch(`${base}/api/demo-wallet`, { headers: { Cookie: s.cookie } }),
    );
    assert.equal(w.testSats, true);
    const relay = new URL(w.nwcUrl).searchParams.get('relay');
    assert.equal(relay, `${base.replace('http', 'ws')}/relay`);
  });

  test('sessions are capped (the oldest dropped) and challenges rate-limited per address', async () => {
    clock.advance(120_000);
    for (let i = 0; i < 4; i++) await login(generateSecretKey());
    assert.ok(sessions.size <= 3);
    clock.advance(120_000);
    let status = 0;
    for (let i = 0; i < 8 && status !== 429; i++)
      status = (await fetch(`${base}/api/session/challenge`, { method: 'POST' })).status;
    assert.equal(status, 429);
  });
});

describe('a read-only dashboard (no owners)', () => {
  test('says so when anyone tries to act', async () => {
    const sessions = new DashboardSessions({
      owners: [],
      sessionSeconds: 60,
      maxSessions: 10,
      challengesPerMinute: 10,
      logger: silentLogger,
    });
    assert.equal(sessions.readOnly, true);
    const r = await sessions.writer({
      origin: 'http://x',
      path: '/api/jobs/x/approve',
      method: 'POST',
      cookie: undefined,
      csrf: undefined,
      originHeader: undefined,
      authorization: await buildNip98Header(new LocalSigner(ownerKey), 'http://x/api/jobs/x/approve', 'POST'),
      body: Buffer.alloc(0),
    });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, /read-only/);
  });
});
