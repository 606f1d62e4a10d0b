import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import macaroon from 'macaroon';
import { ManualClock } from '../core/clock.ts';
import { MemoryLogger, silentLogger } from '../core/logger.ts';
import { MemoryLightning, MemoryWallet } from '../payments/memory-wallet.ts';
import { WalletError } from '../payments/wallet.ts';
import {
  encodeMacaroon,
  type L402Decision,
  L402Gate,
  type L402GateOptions,
  loadOrCreateRootKey,
  parseL402Authorization,
  parseL402Routes,
  routeMatches,
} from './l402.ts';

const HEX64 = 'ab'.repeat(32);

function setup(overrides: Partial<L402GateOptions> = {}) {
  const clock = new ManualClock();
  const network = new MemoryLightning();
  const serverWallet = new MemoryWallet({ network, clock });
  const clientWallet = new MemoryWallet({ network, clock, balanceMsats: 10_000_000 });
  const gate = new L402Gate({
    wallet: serverWallet,
    rootKey: randomBytes(32),
    routes: ['/api/a=1000', '/api/b=1000', '/api/p/*=500', '/api/p/premium=9000'],
    tokenTtlSeconds: 3600,
    clock,
    logger: silentLogger,
    location: 'https://timmy.test',
    ...overrides,
  });
  /** Asks for `path` without a token, pays the invoice, and returns the pieces of the credential. */
  const buy = async (path: string) => {
    const d = await gate.check('GET', path, undefined);
    assert.equal(d.allowed, false);
    const refusal = d as Extract<L402Decision, { allowed: false }>;
    assert.equal(refusal.status, 402);
    const mac = refusal.body.macaroon as string;
    const { preimage } = await clientWallet.payInvoice({ invoice: refusal.body.invoice as string });
    return { mac, preimage, auth: `L402 ${mac}:${preimage}`, body: refusal.body };
  };
  return { clock, gate, serverWallet, clientWallet, buy };
}

const statusOf = (d: L402Decision): number => (d.allowed ? 200 : d.status);
const errorOf = (d: L402Decision): string => (d.allowed ? '' : String(d.body.error));

/** Adds a first-party caveat to a base64 macaroon, as a holder attenuating their token would. */
function attenuate(mac: string, condition: string): string {
  const m = macaroon.importMacaroon(mac);
  m.addFirstPartyCaveat(condition);
  return encodeMacaroon(m);
}

describe('parseL402Routes', () => {
  test('exact paths and prefixes, prices in msats, configuration order kept', () => {
    assert.deepEqual(parseL402Routes(['/api/status=1000', '/api/jobs/*=21000', '/*=1', '/q=a=5']), [
      { pattern: '/api/status', path: '/api/status', priceMsats: 1000 },
      { pattern: '/api/jobs/*', prefix: '/api/jobs/', priceMsats: 21000 },
      { pattern: '/*', prefix: '/', priceMsats: 1 },
      { pattern: '/q=a', path: '/q=a', priceMsats: 5 },
    ]);
    assert.deepEqual(parseL402Routes([]), []);
  });

  test('malformed entries are refused with the entry named', () => {
    const cases: [string, RegExp][] = [
      ['/api/status', /routes\[0\] "\/api\/status": must be "PATH=MSATS"/],
      ['api/status=1000', /must start with "\/"/],
      ['/api/*/x=1000', /no other "\*"/],
      ['/a b=1000', /no spaces/],
      ['/api=0', /positive whole number of msats/],
      ['/api=-5', /positive whole number/],
      ['/api=1.5', /positive whole number/],
      ['/api=', /positive whole number/],
      ['/api=99999999999999999999', /positive whole number/],
    ];
    for (const [entry, re] of cases) assert.throws(() => parseL402Routes([entry]), re, entry);
    assert.throws(() => parseL402Routes(['/a=1', '/a=2']), /routes\[1\].*listed twice/);
  });

  test('routeMatches: exact or prefix', () => {
    assert.ok(routeMatches('/a', '/a'));
    assert.ok(!routeMatches('/a', '/a/'));
    assert.ok(routeMatches('/a/*', '/a/'));
    assert.ok(routeMatches('/a/*', '/a/b/c'));
    assert.ok(!routeMatches('/a/*', '/a'));
  });
});

test('encodeMacaroon: byte for byte the version 2 binary export, and imported back alike', () => {
  const rootKey = randomBytes(32);
  const cases = [
    macaroon.newMacaroon({ identifier: randomBytes(66), rootKey }),
    macaroon.newMacaroon({ identifier: 'id', location: 'https://timmy.test', rootKey }),
  ];
  const one = macaroon.newMacaroon({ identifier: randomBytes(66), location: 'loc', rootKey });
  one.addFirstPartyCaveat(`route=/${'x'.repeat(300)}`);
  const two = macaroon.newMacaroon({ identifier: randomBytes(66), rootKey });
  two.addThirdPartyCaveat(randomBytes(32), 'third', 'https://elsewhere.test');
  const three = macaroon.newMacaroon({ identifier: randomBytes(66), rootKey });
  three.addFirstPartyCaveat('route=/api/*');
  three.addFirstPartyCaveat('expires=1700000000');
  cases.push(one, two, three);
  for (const m of cases) {
    const encoded = encodeMacaroon(m);
    assert.equal(encoded, Buffer.from(m.exportBinary()).toString('base64'));
    const back = macaroon.importMacaroon(encoded);
    assert.deepEqual(back.signature, m.signature);
    assert.deepEqual(back.identifier, m.identifier);
    assert.deepEqual(back.caveats, m.caveats);
  }
  // More caveats than the library's exportBinary copes with (its buffer doubles on every append).
  const many = macaroon.newMacaroon({ identifier: randomBytes(66), location: 'loc', rootKey });
  for (let i = 0; i < 8; i++) many.addFirstPartyCaveat(`route=/api/${i}`);
  const back = macaroon.importMacaroon(encodeMacaroon(many));
  assert.deepEqual(back.signature, many.signature);
  assert.equal(back.caveats.length, 8);
  back.verify(rootKey, () => null);
});

describe('parseL402Authorization', () => {
  test('L402 and LSAT credentials, scheme case-insensitive, preimage lower-cased', () => {
    assert.deepEqual(parseL402Authorization(`L402 AgE=:${HEX64}`), {
      kind: 'token',
      macaroon: 'AgE=',
      preimage: HEX64,
    });
    assert.deepEqual(parseL402Authorization(`lsat  AgE-_:${HEX64.toUpperCase()} `), {
      kind: 'token',
      macaroon: 'AgE-_',
      preimage: HEX64,
    });
  });

  test('no header or another scheme: no credential; a malformed L402 credential: invalid', () => {
    assert.equal(parseL402Authorization(undefined).kind, 'none');
    assert.equal(parseL402Authorization('').kind, 'none');
    assert.equal(parseL402Authorization('Bearer abc').kind, 'none');
    assert.equal(parseL402Authorization('L402x abc:def').kind, 'none');
    const invalid: [string, RegExp][] = [
      ['L402', /no credentials/],
      ['L402   ', /no credentials/],
      ['L402 AgE=', /single ":"/],
      [`L402 AgE=:${HEX64}:00`, /single ":"/],
      [`L402 AgE=,AgE=:${HEX64}`, /only one macaroon/],
      [`L402 Ag E=:${HEX64}`, /spaces or control/],
      [`L402 AgE=\u0001:${HEX64}`, /spaces or control/],
      [`L402 !!!:${HEX64}`, /not base64/],
      [`L402 :${HEX64}`, /not base64/],
      [`L402 ${'A'.repeat(9000)}:${HEX64}`, /not base64/],
      ['L402 AgE=:abc', /64 hex/],
      [`L402 AgE=:${'zz'.repeat(32)}`, /64 hex/],
      [`L402 AgE=:${HEX64}00`, /64 hex/],
    ];
    for (const [header, re] of invalid) {
      const c = parseL402Authorization(header);
      assert.equal(c.kind, 'invalid', header);
      assert.match((c as { reason: string }).reason, re, header);
    }
  });
});

describe('L402Gate', () => {
  test('options are checked', () => {
    const wallet = new MemoryWallet();
    const base = { wallet, rootKey: randomBytes(32), routes: [], tokenTtlSeconds: 60, logger: silentLogger };
    assert.throws(() => new L402Gate({ ...base, rootKey: randomBytes(31) }), /32 bytes/);
    assert.throws(() => new L402Gate({ ...base, tokenTtlSeconds: 0 }), /tokenTtlSeconds/);
    assert.throws(() => new L402Gate({ ...base, routes: ['nope'] }), /PATH=MSATS/);
    assert.equal(new L402Gate(base).invoiceExpirySeconds, 30);
    assert.equal(new L402Gate({ ...base, tokenTtlSeconds: 86400 }).invoiceExpirySeconds, 600);
  });

  test('priceOf: exact path first, else the longest prefix; undefined when free', () => {
    const { gate } = setup({ routes: ['/api/*=10', '/api/jobs/*=20', '/api/jobs/list=30'] });
    assert.equal(gate.priceOf('/api/status'), 10);
    assert.equal(gate.priceOf('/api/jobs/1'), 20);
    assert.equal(gate.priceOf('/api/jobs/list'), 30);
    assert.equal(gate.priceOf('/api'), undefined);
    assert.equal(gate.priceOf('/'), undefined);
    assert.deepEqual(gate.describe()[0], {
      route: '/api/*',
      match: 'prefix',
      priceMsats: 10,
      price: '0.01 sats',
    });
  });

  test('free paths and OPTIONS are allowed whatever the Authorization header says', async () => {
    const { gate, serverWallet } = setup();
    assert.deepEqual(await gate.check('GET', '/free', 'L402 garbage'), { allowed: true });
    assert.deepEqual(await gate.check('OPTIONS', '/api/a', undefined), { allowed: true });
    assert.equal(serverWallet.calls.length, 0);
  });

  test('the challenge: an invoice for the price naming the route, a macaroon bound to its payment hash', async () => {
    const { gate, serverWallet, clock } = setup();
    const d = await gate.check('GET', '/api/p/x', undefined);
    assert.ok(!d.allowed);
    assert.equal(d.status, 402);
    const body = d.body as { macaroon: string; invoice: string; paymentHash: string; amountMsats: number };
    assert.equal(
      d.headers['WWW-Authenticate'],
      `L402 macaroon="${body.macaroon}", invoice="${body.invoice}"`,
    );
    assert.equal(body.amountMsats, 500);
    const call = serverWallet.calls.find((c) => c.method === 'make_invoice');
    assert.deepEqual(call?.params, {
      amountMsats: 500,
      description: 'L402 access to /api/p/* on https://timmy.test',
      expirySeconds: 600,
    });
    const tx = await serverWallet.lookupInvoice({ invoice: body.invoice });
    assert.equal(tx.paymentHash, body.paymentHash);
    const m = macaroon.importMacaroon(body.macaroon);
    assert.equal(m.location, 'https://timmy.test');
    const id = Buffer.from(m.identifier);
    assert.equal(id.length, 66);
    assert.equal(id.readUInt16BE(0), 0);
    assert.equal(id.subarray(2, 34).toString('hex'), body.paymentHash);
    const caveats = m.caveats.map((c) => Buffer.from(c.identifier).toString());
    assert.deepEqual(caveats, ['route=/api/p/*', `expires=${Math.floor(clock.now() / 1000) + 3600}`]);
    // Two challenges never share a token id.
    const d2 = await gate.check('GET', '/api/p/x', undefined);
    assert.ok(!d2.allowed);
    const id2 = Buffer.from(macaroon.importMacaroon(d2.body.macaroon as string).identifier);
    assert.notDeepEqual(id2.subarray(34), id.subarray(34));
  });

  test('a paid token opens its route until it expires, and is reusable', async () => {
    const { gate, buy, clock } = setup({ tokenTtlSeconds: 120 });
    const { auth } = await buy('/api/a');
    const ok = await gate.check('GET', '/api/a', auth);
    assert.ok(ok.allowed);
    assert.equal(ok.token?.routes[0], '/api/a');
    assert.equal(statusOf(await gate.check('HEAD', '/api/a', auth)), 200);
    clock.advance(119_000);
    assert.equal(statusOf(await gate.check('GET', '/api/a', auth)), 200);
    clock.advance(1_000);
    const expired = await gate.check('GET', '/api/a', auth);
    assert.ok(!expired.allowed);
    assert.equal(expired.status, 401);
    assert.match(String(expired.body.error), /expired/);
    assert.equal(statusOf(await gate.check('GET', '/api/a', undefined)), 402);
  });

  test('the LSAT scheme and an upper-case preimage are accepted', async () => {
    const { gate, buy } = setup();
    const { mac, preimage } = await buy('/api/a');
    assert.equal(statusOf(await gate.check('GET', '/api/a', `LSAT ${mac}:${preimage.toUpperCase()}`)), 200);
    const urlSafe = mac.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    assert.equal(statusOf(await gate.check('GET', '/api/a', `l402 ${urlSafe}:${preimage}`)), 200);
  });

  test('a prefix token opens every path under it, but not a dearer route inside the prefix', async () => {
    const { gate, buy } = setup();
    const { auth } = await buy('/api/p/x');
    assert.equal(statusOf(await gate.check('GET', '/api/p/x', auth)), 200);
    assert.equal(statusOf(await gate.check('GET', '/api/p/y/z', auth)), 200);
    const dearer = await gate.check('GET', '/api/p/premium', auth);
    assert.ok(!dearer.allowed);
    assert.equal(dearer.status, 401);
    assert.match(String(dearer.body.error), /priced by \/api\/p\/premium/);
    assert.equal(statusOf(await gate.check('GET', '/api/a', auth)), 401);
  });

  test('a holder cannot buy a dearer route by appending its route caveat to a cheap token', async () => {
    const { gate, buy } = setup();
    const { mac, preimage } = await buy('/api/p/x');
    const escalated = attenuate(mac, 'route=/api/p/premium');
    const r = await gate.check('GET', '/api/p/premium', `L402 ${escalated}:${preimage}`);
    assert.ok(!r.allowed, 'the appended route caveat must not open the dearer route');
    assert.equal(r.status, 401);
    assert.match(String(r.body.error), /bought for \/api\/p\/\*, but \/api\/p\/premium is priced by/);
  });

  test('an unpaid token (the right macaroon without its preimage) is refused', async () => {
    const { gate } = setup();
    const d = await gate.check('GET', '/api/a', undefined);
    assert.ok(!d.allowed);
    const r = await gate.check('GET', '/api/a', `L402 ${d.body.macaroon}:${randomBytes(32).toString('hex')}`);
    assert.ok(!r.allowed);
    assert.equal(r.status, 401);
    assert.match(String(r.body.error), /preimage does not match/);
  });

  test('a holder may attenuate a token with route and expiry caveats; unknown caveats are refused', async () => {
    const { gate, buy, clock } = setup();
    const { mac, preimage } = await buy('/api/p/x');
    const now = Math.floor(clock.now() / 1000);
    const narrowed = attenuate(mac, 'route=/api/p/only');
    assert.equal(statusOf(await gate.check('GET', '/api/p/only', `L402 ${narrowed}:${preimage}`)), 200);
    assert.equal(statusOf(await gate.check('GET', '/api/p/other', `L402 ${narrowed}:${preimage}`)), 401);
    const sooner = attenuate(mac, `expires=${now + 10}`);
    const soonerOk = await gate.check('GET', '/api/p/x', `L402 ${sooner}:${preimage}`);
    assert.ok(soonerOk.allowed);
    assert.equal(soonerOk.token?.expiresAt, now + 10);
    const unknown = await gate.check('GET', '/api/p/x', `L402 ${attenuate(mac, 'ip=1.2.3.4')}:${preimage}`);
    assert.ok(!unknown.allowed);
    assert.match(String(unknown.body.error), /unknown caveat/);
    const malformed = await gate.check(
      'GET',
      '/api/p/x',
      `L402 ${attenuate(mac, 'expires=soon')}:${preimage}`,
    );
    assert.match(errorOf(malformed), /malformed expiry/);
    clock.advance(10_000);
    assert.equal(statusOf(await gate.check('GET', '/api/p/x', `L402 ${sooner}:${preimage}`)), 401);
    assert.equal(statusOf(await gate.check('GET', '/api/p/x', `L402 ${mac}:${preimage}`)), 200);
  });

  test('forged macaroons are refused: another root key, another identifier format, third-party caveats', async () => {
    const { gate, buy } = setup();
    const { mac, preimage } = await buy('/api/a');
    const m = macaroon.importMacaroon(mac);
    const reminted = macaroon.newMacaroon({ identifier: m.identifier, rootKey: randomBytes(32) });
    reminted.addFirstPartyCaveat('route=/api/a');
    reminted.addFirstPartyCaveat('expires=99999999999');
    const forged = encodeMacaroon(reminted);
    const r = await gate.check('GET', '/api/a', `L402 ${forged}:${preimage}`);
    assert.ok(!r.allowed);
    assert.match(String(r.body.error), /does not verify with this server's root key/);

    const shortId = macaroon.newMacaroon({ identifier: 'hello', rootKey: randomBytes(32) });
    const s = await gate.check('GET', '/api/a', `L402 ${encodeMacaroon(shortId)}:${preimage}`);
    assert.match(errorOf(s), /identifier format/);

    const third = macaroon.importMacaroon(mac);
    third.addThirdPartyCaveat(randomBytes(32), 'is-admin', 'https://elsewhere.test');
    const t = await gate.check('GET', '/api/a', `L402 ${encodeMacaroon(third)}:${preimage}`);
    assert.equal(statusOf(t), 401);

    const notMacaroon = Buffer.from('not a macaroon at all').toString('base64');
    const n = await gate.check('GET', '/api/a', `L402 ${notMacaroon}:${preimage}`);
    assert.match(errorOf(n), /cannot be decoded/);
  });

  test('the wallet failing to make the invoice: 503 with Retry-After, logged', async () => {
    const logger = new MemoryLogger();
    const { gate, serverWallet } = setup({ logger });
    serverWallet.failNext('make_invoice', new WalletError('INTERNAL', 'boom'));
    const d = await gate.check('GET', '/api/a', undefined);
    assert.ok(!d.allowed);
    assert.equal(d.status, 503);
    assert.equal(d.headers['Retry-After'], '30');
    assert.ok(logger.records.some((r) => r.level === 'warn' && r.fields.code === 'INTERNAL'));
    serverWallet.unreachable = true;
    assert.equal(statusOf(await gate.check('GET', '/api/a', undefined)), 503);
    serverWallet.unreachable = false;
    assert.equal(statusOf(await gate.check('GET', '/api/a', undefined)), 402);
  });

  test('verify() reports why a header does not grant a path', async () => {
    const { gate, buy } = setup();
    const { auth } = await buy('/api/a');
    assert.deepEqual(gate.verify('/api/a', undefined), { ok: false, reason: 'no L402 credential' });
    assert.equal(gate.verify('/api/a', auth).ok, true);
    assert.match((gate.verify('/free', auth) as { reason: string }).reason, /not a priced route/);
    const paymentHash = createHash('sha256')
      .update(Buffer.from(auth.split(':')[1] ?? '', 'hex'))
      .digest('hex');
    assert.equal(
      (gate.verify('/api/a', auth) as { token: { paymentHash: string } }).token.paymentHash,
      paymentHash,
    );
  });
});

describe('loadOrCreateRootKey', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'timmy-l402-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('creates 32 random bytes with mode 0600 (and the folder), then reads the same key back', async () => {
    const file = join(dir, 'nested', 'l402-root-key');
    const key = await loadOrCreateRootKey(file);
    assert.equal(key.length, 32);
    assert.deepEqual(new Uint8Array(await readFile(file)), key);
    if (process.platform !== 'win32') assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await loadOrCreateRootKey(file), key);
    assert.notDeepEqual(await loadOrCreateRootKey(join(dir, 'other-key')), key);
    assert.deepEqual(await readdir(join(dir, 'nested')), ['l402-root-key']);
  });

  test('concurrent creators all end up with the one key on disk, and leave no temporary files', async () => {
    const file = join(dir, 'race', 'key');
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateRootKey(file)));
    const onDisk = new Uint8Array(await readFile(file));
    for (const k of keys) assert.deepEqual(k, onDisk);
    assert.deepEqual(await readdir(join(dir, 'race')), ['key']);
  });

  test('a file of the wrong size is refused, not overwritten', async () => {
    const file = join(dir, 'short-key');
    await writeFile(file, randomBytes(16));
    await assert.rejects(loadOrCreateRootKey(file), /holds 16 bytes, not 32/);
    assert.equal((await readFile(file)).length, 16);
    await writeFile(file, '');
    await assert.rejects(loadOrCreateRootKey(file), /holds 0 bytes/);
  });

  test('an unreadable path is reported', async () => {
    await assert.rejects(loadOrCreateRootKey(dir), /cannot read the L402 root key/);
  });
});
