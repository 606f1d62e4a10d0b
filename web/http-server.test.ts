import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import { escapeHtml } from './home-page.ts';
import { HttpServer, type InstanceView } from './http-server.ts';

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
      alive: true,
      load: 0,
      lastBeatAt: undefined,
    },
  ],
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
