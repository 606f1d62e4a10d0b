import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import type { SaveOutcome } from '../core/event-store.ts';
import { MemoryLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { RawClient, TestKey, until } from '../testkit/raw-client.ts';
import { tcpConnect, upgradeRequest } from '../testkit/raw-socket.ts';
import { startTestRelay, type TestRelay } from '../testkit/relay.ts';
import { MemoryEventStore } from './memory-store.ts';

const key = new TestKey();

/** The relay's whole answer to a WebSocket upgrade request, read until it closes the socket. */
async function rawUpgrade(url: string): Promise<string> {
  const socket = await tcpConnect(url);
  let answer = '';
  socket.on('data', (d: Buffer) => {
    answer += d.toString('latin1');
  });
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  socket.write(upgradeRequest(url));
  await ended;
  return answer;
}
const now = (): number => Math.floor(Date.now() / 1000);

function httpGet(url: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(url.replace(/^ws/, 'http'), { method, headers }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('NIP-01 over one relay', () => {
  let relay: TestRelay;
  let client: RawClient;
  before(async () => {
    relay = await startTestRelay({ limits: { maxSubscriptions: 3, maxFilters: 2, maxLimit: 5 } });
    client = await RawClient.connect(relay.url);
  });
  after(async () => {
    await client.close();
    await relay.close();
  });

  test('sends an AUTH challenge on connect', async () => {
    assert.match(await client.challenge(), /^[0-9a-f]{32}$/);
  });

  test('EVENT is stored and acknowledged; the same event again is a duplicate', async () => {
    const e = key.sign();
    assert.deepEqual(await client.publish(e), [true, '']);
    assert.deepEqual(await client.publish(e), [true, 'duplicate: already have this event']);
    const [found] = await client.query('by-id', { ids: [e.id] });
    assert.deepEqual(found, JSON.parse(JSON.stringify(e)));
  });

  test('REQ sends stored events, EOSE, then live events until CLOSE', async () => {
    const author = new TestKey();
    const old = [author.sign({ created_at: now() - 2 }), author.sign({ created_at: now() - 1 })];
    for (const e of old) await client.publish(e);
    const stored = await client.req('live', { authors: [author.pubkey] });
    assert.deepEqual(
      stored.map((e) => e.id),
      [old[1]?.id, old[0]?.id],
    );
    const fresh = author.sign();
    const other = await RawClient.connect(relay.url);
    assert.deepEqual(await other.publish(fresh), [true, '']);
    assert.equal((await client.nextEvent('live')).id, fresh.id);
    client.send(['CLOSE', 'live']);
    await until(() => relay.server.stats().subscriptions === 0, undefined, 'subscription closed');
    await other.publish(author.sign());
    // Nothing arrives for the closed subscription: the next message is the answer to a later request.
    assert.deepEqual(await client.query('after-close', { ids: ['0'.repeat(64)] }), []);
    assert.equal(
      client.messages.some((m) => m[1] === 'live'),
      false,
    );
    await other.close();
  });

  test('a REQ with the same id replaces the subscription', async () => {
    const a = new TestKey();
    const b = new TestKey();
    await client.req('swap', { authors: [a.pubkey] });
    await client.req('swap', { authors: [b.pubkey] });
    assert.equal(relay.server.stats().subscriptions, 1);
    await client.publish(a.sign());
    const eb = b.sign();
    await client.publish(eb);
    assert.equal((await client.nextEvent('swap')).id, eb.id);
    client.send(['CLOSE', 'swap']);
  });

  test('limits: subscriptions, filters, and limit clamping', async () => {
    await client.req('s1', { ids: ['1'.repeat(64)] });
    await client.req('s2', { ids: ['1'.repeat(64)] });
    await client.req('s3', { ids: ['1'.repeat(64)] });
    await assert.rejects(
      client.req('s4', { ids: ['1'.repeat(64)] }),
      /^Error: blocked: too many subscriptions/,
    );
    for (const id of ['s1', 's2', 's3']) client.send(['CLOSE', id]);
    await assert.rejects(client.req('f', {}, {}, {}), /^Error: invalid: too many filters/);
    const author = new TestKey();
    for (let i = 0; i < 8; i++) await client.publish(author.sign({ created_at: now() - i }));
    assert.equal((await client.query('clamp', { authors: [author.pubkey], limit: 100 })).length, 5);
    assert.equal((await client.query('nolimit', { authors: [author.pubkey] })).length, 5);
    assert.equal((await client.query('zero', { authors: [author.pubkey], limit: 0 })).length, 0);
  });

  test('a bad filter is answered with CLOSED invalid:', async () => {
    await assert.rejects(client.req('bad', { kinds: ['1'] } as never), /^Error: invalid: filter 0: kinds/);
    await assert.rejects(
      client.req('bad2', { search: 'x' } as never),
      /^Error: invalid: filter 0: unsupported/,
    );
    client.send(['REQ', 'bad3']);
    assert.match(await client.closed('bad3'), /^invalid: REQ needs at least one filter/);
  });

  test('every malformed EVENT gets OK false invalid:', async () => {
    const e = key.sign();
    const plain = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
    for (const [field, value] of [
      ['pubkey', 'xyz'],
      ['sig', 'f'.repeat(127)],
      ['kind', 70000],
      ['created_at', 1.5],
      ['tags', [[1]]],
      ['content', 7],
    ] as const) {
      const [ok, message] = await client.publish({ ...plain, [field]: value });
      assert.equal(ok, false);
      assert.match(message, new RegExp(`^invalid: ${field}`));
    }
    assert.deepEqual(await client.publish({ ...plain, content: 'changed' }), [
      false,
      'invalid: event id does not match the event',
    ]);
    const badSig = { ...plain, sig: (plain.sig as string).replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) };
    assert.deepEqual(await client.publish(badSig), [false, 'invalid: bad signature']);
  });

  test('future and expired events are invalid', async () => {
    const [ok1, m1] = await client.publish(key.sign({ created_at: now() + 3600 }));
    assert.equal(ok1, false);
    assert.match(m1, /^invalid: created_at is more than 900 seconds in the future/);
    const [ok2, m2] = await client.publish(key.sign({ tags: [['expiration', String(now() - 10)]] }));
    assert.equal(ok2, false);
    assert.match(m2, /^invalid: event has expired/);
    const [ok3] = await client.publish(key.sign({ tags: [['expiration', String(now() + 3600)]] }));
    assert.equal(ok3, true);
  });

  test('ephemeral events reach live subscribers and are not stored', async () => {
    const author = new TestKey();
    await client.req('eph', { authors: [author.pubkey] });
    const e = author.sign({ kind: 20001 });
    assert.deepEqual(await client.publish(e), [true, '']);
    assert.equal((await client.nextEvent('eph')).id, e.id);
    client.send(['CLOSE', 'eph']);
    assert.deepEqual(await client.query('eph2', { ids: [e.id] }), []);
  });

  test('kind 5 deletes through the store (NIP-09)', async () => {
    const author = new TestKey();
    const note = author.sign();
    await client.publish(note);
    assert.deepEqual(await client.publish(author.sign({ kind: 5, tags: [['e', note.id]] })), [true, '']);
    assert.deepEqual(await client.query('deleted', { ids: [note.id] }), []);
    assert.deepEqual(await client.publish(note), [false, 'blocked: deleted by author']);
  });

  test('COUNT answers the number of matching events (NIP-45)', async () => {
    const author = new TestKey();
    for (let i = 0; i < 7; i++) await client.publish(author.sign());
    assert.equal(await client.count('c1', { authors: [author.pubkey] }), 7);
    assert.equal(await client.count('c2', { authors: [author.pubkey], kinds: [7] }), 0);
    await assert.rejects(client.count('c3', { kinds: [-1] }), /^Error: invalid: filter 0/);
  });

  test('unknown and malformed messages get a NOTICE', async () => {
    for (const text of ['nope', '{}', '["HELLO","x"]', '["CLOSE"]', '["EVENT",{"id":"short"}]']) {
      client.send(text);
      assert.match(await client.notice(), /^invalid: /, text);
    }
  });

  test('stats count connections, subscriptions and events', async () => {
    const s = relay.server.stats();
    assert.equal(s.connections, 1);
    assert.ok(s.eventsReceived >= s.eventsStored + s.eventsRejected);
    assert.ok(s.eventsStored > 10);
    assert.ok(s.eventsRejected >= 8);
    assert.equal(
      Object.values(s.rejectedByReason).reduce((n, v) => n + v, 0),
      s.eventsRejected,
      'every rejection is counted under one reason',
    );
    assert.ok((s.rejectedByReason.invalid ?? 0) > 0, JSON.stringify(s.rejectedByReason));
    assert.ok(Object.keys(s.rejectedByReason).every((r) => /^[a-z-]+$/.test(r)));
    assert.equal(s.eventsPending, 0);
  });
});

describe('NIP-11 and HTTP', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ info: { name: 'Info', description: 'D', contact: 'c@x' } });
  });
  after(() => relay.close());

  test('GET with Accept: application/nostr+json returns the document with CORS headers', async () => {
    const r = await httpGet(relay.url, { Accept: 'application/nostr+json' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/nostr+json');
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.ok(r.headers['access-control-allow-headers']);
    assert.ok(r.headers['access-control-allow-methods']);
    const doc = JSON.parse(r.body);
    assert.equal(doc.name, 'Info');
    assert.deepEqual(doc.supported_nips, [1, 9, 11, 40, 42, 45]);
    assert.equal(doc.limitation.max_message_length, 262144);
    assert.equal(doc.limitation.restricted_writes, false);
    assert.equal(doc.limitation.auth_required, false);
  });

  test('other requests get short plain answers', async () => {
    const plain = await httpGet(relay.url);
    assert.equal(plain.status, 200);
    assert.match(plain.headers['content-type'] as string, /^text\/plain/);
    assert.match(plain.body, /Nostr relay/);
    assert.equal((await httpGet(relay.url, {}, 'OPTIONS')).status, 204);
    assert.equal((await httpGet(relay.url, {}, 'POST')).status, 405);
  });
});

describe('relay lifecycle', () => {
  test('listen reports the URL; a second listen fails; url throws before listen', async () => {
    const relay = await startTestRelay();
    assert.match(relay.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(relay.server.url, relay.url);
    await assert.rejects(relay.server.listen(0), /already listening/);
    await relay.close();
  });

  test('refuses upgrades beyond maxConnections with HTTP 503', async () => {
    const relay = await startTestRelay({ limits: { maxConnections: 2 } });
    const a = await RawClient.connect(relay.url);
    const b = await RawClient.connect(relay.url);
    await assert.rejects(RawClient.connect(relay.url), /HTTP 503/);
    await a.close();
    await until(() => relay.server.stats().connections === 1);
    const c = await RawClient.connect(relay.url);
    await b.close();
    await c.close();
    await relay.close();
  });

  test('one address gets at most maxConnectionsPerIp connections (HTTP 429); others still connect', async (t) => {
    const relay = await startTestRelay({ limits: { maxConnections: 100, maxConnectionsPerIp: 3 } });
    t.after(() => relay.close());
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await RawClient.connect(relay.url));
    await assert.rejects(RawClient.connect(relay.url), /HTTP 429/);
    // The refusal says why, in the status line and the body.
    const refused = await rawUpgrade(relay.url);
    assert.match(refused, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
    assert.match(refused, /too many connections from your address/);
    // Another address (all of 127/8 is loopback on Linux) is not affected.
    const other = await RawClient.connect(relay.url, { localAddress: '127.0.0.2' });
    assert.deepEqual(await other.publish(key.sign()), [true, '']);
    await other.close();
    // A closed connection frees its place.
    await mine.pop()?.close();
    await until(() => relay.server.stats().connections === 2);
    mine.push(await RawClient.connect(relay.url));
    for (const c of mine) await c.close();
  });

  test('maxConnectionsPerIp 0 means no per-address limit', async (t) => {
    const relay = await startTestRelay({ limits: { maxConnectionsPerIp: 0 } });
    t.after(() => relay.close());
    const clients = [];
    for (let i = 0; i < 70; i++) clients.push(await RawClient.connect(relay.url));
    for (const c of clients) await c.close();
  });

  test('the event hook sees stored and ephemeral events, not rejected ones', async () => {
    const relay = await startTestRelay();
    const seen: [string, string][] = [];
    const off = relay.server.on('event', (e, outcome) => seen.push([e.id, outcome]));
    relay.server.on('event', () => {
      throw new Error('a broken listener does not stop the others');
    });
    const c = await RawClient.connect(relay.url);
    const stored = key.sign();
    const eph = key.sign({ kind: 25000 });
    await c.publish(stored);
    await c.publish(eph);
    await c.publish({ ...stored, id: 'f'.repeat(64) });
    assert.deepEqual(seen, [
      [stored.id, 'saved'],
      [eph.id, 'ephemeral'],
    ]);
    off();
    await c.publish(key.sign());
    assert.equal(seen.length, 2);
    await c.close();
    await relay.close();
  });

  test('expired events (NIP-40) are purged from the store on a timer', async () => {
    const clock = new ManualClock(Date.now());
    const store = new MemoryEventStore({ clock });
    const relay = await startTestRelay({ store, clock, purgeIntervalMs: 20 });
    const c = await RawClient.connect(relay.url);
    const nowS = Math.floor(clock.now() / 1000);
    const soon = key.sign({ tags: [['expiration', String(nowS + 10)]] });
    const forever = key.sign();
    assert.deepEqual((await c.publish(soon))[0], true);
    assert.deepEqual((await c.publish(forever))[0], true);
    const all = async () => (await store.query([{}], { nowSeconds: 0 })).map((e) => e.id).sort();
    assert.deepEqual(await all(), [soon.id, forever.id].sort());
    clock.advance(11_000);
    const deadline = Date.now() + 20_000;
    while ((await all()).length !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(await all(), [forever.id]);
    await c.close();
    await relay.close();
  });

  test('close answers pending events after they are saved, closes sockets, leaves the store open', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    class SlowStore extends MemoryEventStore {
      override async save(events: readonly NostrEvent[]): Promise<SaveOutcome[]> {
        await gate;
        return super.save(events);
      }
    }
    const store = new SlowStore();
    const relay = await startTestRelay({ store });
    const c = await RawClient.connect(relay.url);
    const events = Array.from({ length: 20 }, () => key.sign());
    const oks = Promise.all(events.map((e) => c.publish(e)));
    await until(() => relay.server.stats().eventsPending === 20, undefined, 'events pending');
    const closed = relay.server.close();
    setTimeout(release, 20);
    await closed;
    assert.ok((await oks).every(([ok]) => ok));
    assert.equal((await c.whenClosed()).code, 1001);
    assert.equal((await store.query([{}])).length, 20);
    await store.close();
  });

  test('a store that fails answers error: and the relay keeps serving', async () => {
    class BrokenStore extends MemoryEventStore {
      override async save(): Promise<SaveOutcome[]> {
        throw new Error('disk on fire');
      }
    }
    const logger = new MemoryLogger();
    const relay = await startTestRelay({ store: new BrokenStore(), logger });
    const c = await RawClient.connect(relay.url);
    assert.deepEqual(await c.publish(key.sign()), [false, 'error: could not save the event']);
    assert.deepEqual(await c.query('s', {}), []);
    assert.ok(logger.records.some((r) => r.level === 'error' && r.fields.err === 'disk on fire'));
    await c.close();
    await relay.close();
  });

  test('rate limit: a burst, then rate-limited:, then tokens come back with time', async () => {
    const clock = new ManualClock(Date.now());
    const relay = await startTestRelay({ clock, limits: { eventsPerSecond: 2, eventsBurst: 3 } });
    const c = await RawClient.connect(relay.url);
    const t = Math.floor(clock.now() / 1000);
    for (let i = 0; i < 3; i++) assert.deepEqual(await c.publish(key.sign({ created_at: t })), [true, '']);
    const [ok, message] = await c.publish(key.sign({ created_at: t }));
    assert.equal(ok, false);
    assert.match(message, /^rate-limited: /);
    clock.advance(500);
    assert.deepEqual(await c.publish(key.sign({ created_at: t })), [true, '']);
    // Another connection has its own bucket.
    const d = await RawClient.connect(relay.url);
    assert.deepEqual(await d.publish(key.sign({ created_at: t })), [true, '']);
    await c.close();
    await d.close();
    await relay.close();
  });

  test('REQ and COUNT take tokens from the same bucket as events', async () => {
    const clock = new ManualClock(Date.now());
    const relay = await startTestRelay({ clock, limits: { eventsPerSecond: 1, eventsBurst: 2 } });
    const c = await RawClient.connect(relay.url);
    assert.deepEqual(await c.query('a', { kinds: [1] }), []);
    assert.equal(await c.count('b', { kinds: [1] }), 0);
    await assert.rejects(c.req('c', { kinds: [1] }), /^Error: rate-limited: /);
    c.send(['COUNT', 'd', { kinds: [1] }]);
    const closed = await c.next((m) => m[0] === 'CLOSED' && m[1] === 'd');
    assert.match(closed[2] as string, /^rate-limited: /);
    clock.advance(1000);
    assert.deepEqual(await c.query('e', { kinds: [1] }), []);
    await c.close();
    await relay.close();
  });

  test('a refused REQ that reuses a live subscription id closes that subscription too', async () => {
    const relay = await startTestRelay();
    const c = await RawClient.connect(relay.url);
    assert.deepEqual(await c.req('s', { kinds: [1] }), []);
    await assert.rejects(c.req('s', { kinds: [4] }), /auth-required: /);
    c.send(['REQ', 's', { kinds: [1], bogus: true }]);
    await c.next((m) => m[0] === 'CLOSED' && m[1] === 's');
    const writer = await RawClient.connect(relay.url);
    const note = key.sign();
    assert.deepEqual(await writer.publish(note), [true, '']);
    // A marker subscription proves the note has been fanned out before we look for stale deliveries.
    assert.equal((await c.req('marker', { ids: [note.id] })).length, 1);
    assert.ok(!c.messages.some((m) => m[0] === 'EVENT' && m[1] === 's'), 'no event under the closed id');
    assert.equal(relay.server.stats().subscriptions, 1, 'only the marker is live');
    await c.close();
    await writer.close();
    await relay.close();
  });

  test('the heartbeat drops a client that stops answering pings', async () => {
    const relay = await startTestRelay({ heartbeatIntervalMs: 200 });
    const silent = await RawClient.connect(relay.url, { autoPong: false });
    const closed = await silent.whenClosed();
    assert.equal(closed.code, 1006);
    await until(() => relay.server.stats().connections === 0);
    const next = await RawClient.connect(relay.url);
    assert.deepEqual(await next.publish(key.sign()), [true, '']);
    await next.close();
    await relay.close();
  });
});
