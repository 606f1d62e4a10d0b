import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import { buildNip98Header } from '../identity/nip98.ts';
import { LocalSigner } from '../identity/signer.ts';
import { HttpServer, type InstanceView } from './http-server.ts';
import { isLoopback, type MetricsAccess, type ReadyCheck } from './ops-routes.ts';

const view = (): InstanceView => {
  throw new Error('not read by these routes');
};
const owner = new LocalSigner(randomBytes(32));
const stranger = new LocalSigner(randomBytes(32));
const servers: HttpServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function serve(access: MetricsAccess | undefined, checks: ReadyCheck[] = []): Promise<string> {
  const server = new HttpServer({
    logger: silentLogger,
    view,
    nostrJson: () => ({}),
    ...(access
      ? {
          metrics: {
            text: async () => 'timmy_up 1\n',
            contentType: 'text/plain; version=0.0.4; charset=utf-8',
            access,
            owners: () => [owner.pubkey],
          },
        }
      : {}),
    ready: async () => checks,
  });
  servers.push(server);
  return server.listen(0);
}

describe('/metrics and /readyz', () => {
  test('loopback and public access serve the text format to a loopback client', async () => {
    for (const access of ['loopback', 'public'] as const) {
      const res = await fetch(`${await serve(access)}/metrics`);
      assert.equal(res.status, 200, access);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.equal(await res.text(), 'timmy_up 1\n');
    }
  });

  test('metrics off: 404', async () => {
    assert.equal((await fetch(`${await serve(undefined)}/metrics`)).status, 404);
  });

  test("owners: a dashboard owner's NIP-98 header for this URL is served; none, a stranger's or another URL's is 403 with the reason", async () => {
    const base = await serve('owners');
    const url = `${base}/metrics`;
    const none = await fetch(url);
    assert.equal(none.status, 403);
    assert.match(
      await none.text(),
      /NIP-98 Authorization of a dashboard owner: missing Authorization header/,
    );
    const strangers = await fetch(url, {
      headers: { authorization: await buildNip98Header(stranger, url, 'GET') },
    });
    assert.equal(strangers.status, 403);
    assert.match(await strangers.text(), /dashboard owners only/);
    const elsewhere = await fetch(url, {
      headers: { authorization: await buildNip98Header(owner, `${base}/other`, 'GET') },
    });
    assert.equal(elsewhere.status, 403);
    const owners = await fetch(url, {
      headers: { authorization: await buildNip98Header(owner, url, 'GET') },
    });
    assert.equal(owners.status, 200);
    assert.equal(await owners.text(), 'timmy_up 1\n');
  });

  test('loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
    for (const a of ['10.0.0.1', '::ffff:192.168.1.2', '2001:db8::1', '', undefined])
      assert.ok(!isLoopback(a), a);
  });

  test('/readyz: 200 when every check is ok, 503 naming what is not', async () => {
    const ok = await fetch(`${await serve(undefined, [{ name: 'relay', ok: true }])}/readyz`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ready: true, notReady: [], checks: [{ name: 'relay', ok: true }] });
    const checks = [
      { name: 'relay', ok: true },
      { name: 'agents', ok: false, detail: '0 of 3 agents alive' },
    ];
    const bad = await fetch(`${await serve(undefined, checks)}/readyz`);
    assert.equal(bad.status, 503);
    assert.deepEqual(await bad.json(), { ready: false, notReady: ['agents'], checks });
  });
});
