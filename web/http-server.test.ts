import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import macaroon from 'macaroon';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { MemoryLightning, MemoryWallet } from '../payments/memory-wallet.ts';
import { escapeHtml } from './home-page.ts';
import { HttpServer, type InstanceView } from './http-server.ts';
import { encodeMacaroon, L402Gate } from './l402.ts';

const view: InstanceView = {
  name: 'Test <instance>',
  version: '0.0.0',
  startedAt: 1,
  relayUrl: 'ws://127.0.0.1:1234',
  httpUrl: '',
  domain: 'localhost',
  agents: [
    {
      name: 'timmy',
      displayName: 'Timmy',
      role: 'coordinator',
      pubkey: 'ab'.repeat(32),
      npub: 'npub1x',
      about: '<script>x</script>',
      kinds: [],
      local: true,
      alive: true,
      load: 0,
      lastBeatAt: undefined,
      score: 50,
      scores: {},
    },
  ],
  peers: [],
  llm: [],
};
const calls: (string | undefined)[] = [];
const server = new HttpServer({
  logger: silentLogger,
  view: () => view,
  nostrJson: (name) => {
    calls.push(name);
    return { names: { timmy: 'ab'.repeat(32) } };
  },
});
let base = '';
before(async () => {
  base = await server.listen(0);
});
after(() => server.close());

test('listen returns the real URL with the chosen port', () => {
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(base, 'http://127.0.0.1:0');
});

test('home page lists agents, escaped', async () => {
  const res = await fetch(`${base}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const html = await res.text();
  assert.ok(html.includes('timmy@localhost'));
  assert.ok(html.includes('ws://127.0.0.1:1234'));
  assert.ok(!html.includes('<script>x</script>'));
  assert.ok(html.includes('Test &#60;instance&#62;'));
});

test('NIP-05 document with CORS and the name parameter passed through', async () => {
  const res = await fetch(`${base}/.well-known/nostr.json?name=timmy`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.deepEqual(await res.json(), { names: { timmy: 'ab'.repeat(32) } });
  assert.equal(calls.at(-1), 'timmy');
});

test('status, health, 404, 405, OPTIONS', async () => {
  assert.deepEqual((await (await fetch(`${base}/api/status`)).json()).relayUrl, view.relayUrl);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const nf = await fetch(`${base}/nope`);
  assert.equal(nf.status, 404);
  assert.match((await nf.json()).error, /no such page/);
  assert.equal((await fetch(`${base}/`, { method: 'POST', body: 'x' })).status, 405);
  assert.equal((await fetch(`${base}/`, { method: 'OPTIONS' })).status, 204);
});

test('escapeHtml escapes the five characters', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
});

test('without a gate nothing is priced, and /api/l402 says so', async () => {
  assert.deepEqual(await (await fetch(`${base}/api/l402`)).json(), { enabled: false, routes: [] });
  const res = await fetch(`${base}/api/status`, { headers: { Authorization: 'L402 garbage' } });
  assert.equal(res.status, 200);
});

describe('L402 paid routes', () => {
  const clock = new ManualClock();
  const network = new MemoryLightning();
  const serverWallet = new MemoryWallet({ network, clock });
  const clientWallet = new MemoryWallet({ network, clock, balanceMsats: 1_000_000 });
  const TTL = 600;
  const gate = new L402Gate({
    wallet: serverWallet,
    rootKey: randomBytes(32),
    routes: ['/api/status=2000', '/.well-known/*=1000'],
    tokenTtlSeconds: TTL,
    clock,
    logger: silentLogger,
    challengesPerMinute: 1000, // these tests are about tokens; the limits have their own below
  });
  const paid = new HttpServer({
    logger: silentLogger,
    view: () => view,
    nostrJson: () => ({ names: {} }),
    l402: gate,
  });
  let url = '';
  before(async () => {
    url = await paid.listen(0);
  });
  after(() => paid.close());

  const get = (path: string, authorization?: string, method = 'GET') =>
    fetch(`${url}${path}`, {
      method,
      headers: authorization === undefined ? {} : { Authorization: authorization },
    });

  /** The 402 challenge of `path`, read from the WWW-Authenticate header (and checked against the body). */
  async function challenge(path: string): Promise<{ mac: string; invoice: string }> {
    const res = await get(path);
    assert.equal(res.status, 402);
    const header = res.headers.get('www-authenticate') ?? '';
    const m = /^L402 macaroon="([A-Za-z0-9+/=]+)", invoice="(ln[a-z0-9]+)"$/.exec(header);
    assert.ok(m, header);
    const body = await res.json();
    assert.equal(body.macaroon, m[1]);
    assert.equal(body.invoice, m[2]);
    assert.equal(body.amountMsats, gate.priceOf(path));
    assert.match(body.error, /payment required/);
    return { mac: m[1] ?? '', invoice: m[2] ?? '' };
  }

  async function buy(path: string): Promise<{ mac: string; preimage: string; auth: string }> {
    const { mac, invoice } = await challenge(path);
    const { preimage } = await clientWallet.payInvoice({ invoice });
    return { mac, preimage, auth: `L402 ${mac}:${preimage}` };
  }

  async function refused(res: Response, re: RegExp): Promise<void> {
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^L402 /);
    assert.match((await res.json()).error, re);
  }

  test('free routes need no payment; /api/l402 lists the prices', async () => {
    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/')).status, 200);
    const doc = await (await get('/api/l402')).json();
    assert.equal(doc.enabled, true);
    assert.equal(doc.tokenTtlSeconds, TTL);
    assert.deepEqual(doc.routes, [
      { route: '/api/status', match: 'exact', priceMsats: 2000, price: '2 sats' },
      { route: '/.well-known/*', match: 'prefix', priceMsats: 1000, price: '1 sats' },
    ]);
    // A missing page under a priced prefix is a 404, never charged for.
    const before = serverWallet.calls.length;
    assert.equal((await get('/.well-known/nothing-here')).status, 404);
    assert.equal(serverWallet.calls.length, before);
  });

  test('402, pay, 200 with the token, and the same token again', async () => {
    const res = await get('/api/status');
    assert.equal(res.status, 402);
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
    await res.body?.cancel();
    const balance = clientWallet.balanceMsats;
    const { auth } = await buy('/api/status');
    assert.equal(clientWallet.balanceMsats, balance - 2000);
    const ok = await get('/api/status', auth);
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).relayUrl, view.relayUrl);
    const again = await get('/api/status', auth);
    assert.equal(again.status, 200);
    await again.body?.cancel();
    assert.equal((await get('/api/status', auth, 'HEAD')).status, 200);
    const head = await get('/api/status', undefined, 'HEAD');
    assert.equal(head.status, 402);
    assert.match(head.headers.get('www-authenticate') ?? '', /^L402 macaroon=/);
  });

  test('a prefix token serves the pages under it; the legacy LSAT scheme works', async () => {
    const { mac, preimage } = await buy('/.well-known/nostr.json');
    const res = await get('/.well-known/nostr.json?name=x', `LSAT ${mac}:${preimage}`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { names: {} });
  });

  test('a token for one route is refused on another', async () => {
    const { auth } = await buy('/api/status');
    await refused(await get('/.well-known/nostr.json', auth), /this token is for \/api\/status/);
  });

  test('the preimage of another invoice is refused', async () => {
    const a = await challenge('/api/status');
    const b = await buy('/api/status');
    await clientWallet.payInvoice({ invoice: a.invoice });
    await refused(await get('/api/status', `L402 ${a.mac}:${b.preimage}`), /preimage does not match/);
    // Unpaid: the macaroon alone, with a made-up preimage.
    const c = await challenge('/api/status');
    await refused(await get('/api/status', `L402 ${c.mac}:${'00'.repeat(32)}`), /preimage does not match/);
  });

  test('tampered macaroons are refused: a changed caveat, a flipped byte', async () => {
    const { mac, preimage } = await buy('/api/status');
    const json = macaroon.importMacaroon(mac).exportJSON() as macaroon.MacaroonJSONV2;
    assert.equal(json.c?.[0]?.i, 'route=/api/status');
    json.c![0]!.i = 'route=/.well-known/*';
    const changed = encodeMacaroon(macaroon.importMacaroon(json));
    await refused(await get('/.well-known/nostr.json', `L402 ${changed}:${preimage}`), /does not verify/);
    await refused(await get('/api/status', `L402 ${changed}:${preimage}`), /does not verify/);
    const expiryJson = macaroon.importMacaroon(mac).exportJSON() as macaroon.MacaroonJSONV2;
    expiryJson.c![1]!.i = 'expires=99999999999';
    const later = encodeMacaroon(macaroon.importMacaroon(expiryJson));
    await refused(await get('/api/status', `L402 ${later}:${preimage}`), /does not verify/);
    const bytes = Buffer.from(mac, 'base64');
    for (const at of [bytes.length - 1, 40, 20]) {
      const flipped = Buffer.from(bytes);
      flipped[at] = (flipped[at] ?? 0) ^ 0x01;
      const res = await get('/api/status', `L402 ${flipped.toString('base64')}:${preimage}`);
      assert.equal(res.status, 401, `byte ${at}`);
      await res.body?.cancel();
    }
    assert.equal((await get('/api/status', `L402 ${mac}:${preimage}`)).status, 200);
  });

  test('a macaroon minted with another root key is refused', async () => {
    const other = new L402Gate({
      wallet: serverWallet,
      rootKey: randomBytes(32),
      routes: ['/api/status=2000'],
      tokenTtlSeconds: TTL,
      clock,
      logger: silentLogger,
    });
    const c = await other.createChallenge('/api/status');
    const { preimage } = await clientWallet.payInvoice({ invoice: c.invoice });
    assert.equal(other.verify('/api/status', `L402 ${c.macaroon}:${preimage}`).ok, true);
    await refused(await get('/api/status', `L402 ${c.macaroon}:${preimage}`), /root key/);
  });

  test('an expired token is refused, then a fresh 402 is offered', async () => {
    const { auth } = await buy('/api/status');
    assert.equal((await get('/api/status', auth)).status, 200);
    clock.advance(TTL * 1000);
    await refused(await get('/api/status', auth), /expired/);
    const fresh = await buy('/api/status');
    assert.equal((await get('/api/status', fresh.auth)).status, 200);
  });

  test('garbage Authorization headers get 401 (or a 402 for another scheme), never 500', async () => {
    const { mac, preimage } = await buy('/api/status');
    const cases: [string, number][] = [
      ['L402 nocolon', 401],
      [`L402 ${mac}`, 401],
      ['L402', 401],
      [`L402 !!!not-base64!!!:${preimage}`, 401],
      [`L402 ${mac}:not-hex`, 401],
      [`L402 ${mac}:${'g'.repeat(64)}`, 401],
      [`L402 ${mac}:${preimage}ab`, 401],
      [`L402 ${mac},${mac}:${preimage}`, 401],
      [`L402 ${Buffer.from('junk').toString('base64')}:${preimage}`, 401],
      [`L402 AA==:${preimage}`, 401],
      [`L402 ${mac.slice(0, 40)}:${preimage}`, 401],
      [`L402 :${preimage}`, 401],
      [`Bearer ${mac}:${preimage}`, 402],
      [`Basic ${Buffer.from('a:b').toString('base64')}`, 402],
      ['L402x', 402],
      [':', 402],
    ];
    for (const [header, status] of cases) {
      const res = await get('/api/status', header);
      assert.equal(res.status, status, header);
      const body = await res.json();
      assert.equal(typeof body.error, 'string', header);
    }
  });

  test('the wallet failing: 503 with Retry-After; a valid token still works', async () => {
    const { auth } = await buy('/api/status');
    serverWallet.unreachable = true;
    try {
      const res = await get('/api/status');
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '30');
      assert.match((await res.json()).error, /wallet/);
      assert.equal((await get('/api/status', auth)).status, 200);
      assert.equal((await get('/healthz')).status, 200);
    } finally {
      serverWallet.unreachable = false;
    }
    assert.equal((await get('/api/status')).status, 402);
  });
});

describe('L402 limits over HTTP', () => {
  const clock = new ManualClock();
  const wallet = new MemoryWallet({ clock });
  const gate = new L402Gate({
    wallet,
    rootKey: randomBytes(32),
    routes: ['/api/status=2000'],
    tokenTtlSeconds: 600,
    clock,
    logger: silentLogger,
    challengesPerMinute: 2,
  });
  const limited = new HttpServer({
    logger: silentLogger,
    view: () => view,
    nostrJson: () => ({}),
    l402: gate,
  });
  let url = '';
  before(async () => {
    url = await limited.listen(0);
  });
  after(() => limited.close());

  test('new invoices are limited per remote address: 429 with Retry-After, no invoice made', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${url}/api/status`);
      assert.equal(res.status, 402);
      await res.body?.cancel();
    }
    const res = await fetch(`${url}/api/status`);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '30');
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /Retry-After/);
    assert.match((await res.json()).error, /^rate-limited: at most 2 new L402 invoices a minute per client/);
    assert.equal(wallet.calls.filter((c) => c.method === 'make_invoice').length, 2);
    assert.equal(gate.trackedClients, 1, 'one client: the loopback address');
    clock.advance(30_000);
    const again = await fetch(`${url}/api/status`);
    assert.equal(again.status, 402);
    await again.body?.cancel();
  });
});
