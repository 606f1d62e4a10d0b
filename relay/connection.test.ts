import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawClient, TestKey, until } from '../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../testkit/relay.ts';

const alice = new TestKey();
const bob = new TestKey();
const carol = new TestKey();

/** Sends `["AUTH", event]` and resolves with its OK. */
async function auth(c: RawClient, event: { id: string }): Promise<[boolean, string]> {
  c.send(['AUTH', event]);
  const ok = await c.next((m) => m[0] === 'OK' && m[1] === event.id);
  return [ok[2] as boolean, ok[3] as string];
}

async function login(relay: TestRelay, ...keys: TestKey[]): Promise<RawClient> {
  const c = await RawClient.connect(relay.url);
  const challenge = await c.challenge();
  for (const k of keys) assert.deepEqual(await auth(c, k.auth(challenge, relay.url)), [true, '']);
  return c;
}

describe('NIP-42 with auth: write', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ auth: 'write' });
  });
  after(() => relay.close());

  test('an unauthenticated EVENT gets auth-required:, reads still work', async () => {
    const c = await RawClient.connect(relay.url);
    const [ok, message] = await c.publish(alice.sign());
    assert.equal(ok, false);
    assert.match(message, /^auth-required: /);
    assert.deepEqual(await c.query('q', { kinds: [1] }), []);
    assert.equal(await c.count('n', { kinds: [1] }), 0);
    await c.close();
  });

  test('after AUTH the client publishes; several pubkeys may authenticate on one connection', async () => {
    const c = await login(relay, alice, bob);
    assert.deepEqual(await c.publish(alice.sign()), [true, '']);
    assert.deepEqual(await c.publish(carol.sign()), [true, '']);
    await c.close();
  });

  test('one connection authenticates at most 16 pubkeys', async () => {
    const c = await RawClient.connect(relay.url);
    const challenge = await c.challenge();
    const keys = Array.from({ length: 17 }, () => new TestKey());
    for (const k of keys.slice(0, 16))
      assert.deepEqual(await auth(c, k.auth(challenge, relay.url)), [true, '']);
    const [ok, message] = await auth(c, (keys[16] as TestKey).auth(challenge, relay.url));
    assert.equal(ok, false);
    assert.match(message, /^restricted: at most 16/);
    assert.deepEqual(
      await auth(c, (keys[0] as TestKey).auth(challenge, relay.url)),
      [true, ''],
      'again: fine',
    );
    await c.close();
  });

  test('AUTH events that are wrong are refused with a prefix', async () => {
    const c = await RawClient.connect(relay.url);
    const challenge = await c.challenge();
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['other challenge', alice.auth('0'.repeat(32), relay.url), /^auth-required: /],
      ['other relay', alice.auth(challenge, 'ws://elsewhere.example'), /^invalid: /],
      ['stale', alice.auth(challenge, relay.url, Math.floor(Date.now() / 1000) - 3600), /^invalid: /],
      [
        'wrong kind',
        alice.sign({
          kind: 1,
          tags: [
            ['challenge', challenge],
            ['relay', relay.url],
          ],
        }),
        /^invalid: /,
      ],
    ];
    const good = alice.auth(challenge, relay.url);
    cases.push([
      'bad signature',
      { ...good, sig: good.sig.replace(/.$/, (x) => (x === '0' ? '1' : '0')) },
      /^invalid: /,
    ]);
    cases.push(['bad id', { ...good, content: 'x' }, /^invalid: /]);
    for (const [name, event, re] of cases) {
      const [ok, message] = await auth(c, event as { id: string });
      assert.equal(ok, false, name);
      assert.match(message, re, name);
    }
    const [ok] = await c.publish(alice.sign());
    assert.equal(ok, false, 'still not authenticated');
    c.send(['AUTH', { id: 'nope' }]);
    assert.match(await c.notice(), /^invalid: /);
    await c.close();
  });

  test('a trailing slash in the relay tag is accepted', async () => {
    const c = await RawClient.connect(relay.url);
    const challenge = await c.challenge();
    assert.deepEqual(await auth(c, alice.auth(challenge, `${relay.url}/`)), [true, '']);
    await c.close();
  });
});

describe('NIP-42 with auth: all and a public URL', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ auth: 'all', publicUrl: 'wss://relay.example.com' });
  });
  after(() => relay.close());

  test('REQ and COUNT need authentication', async () => {
    const c = await RawClient.connect(relay.url);
    await assert.rejects(c.req('q', {}), /^Error: auth-required: /);
    await assert.rejects(c.count('n', {}), /^Error: auth-required: /);
    const challenge = await c.challenge();
    assert.deepEqual(await auth(c, alice.auth(challenge, 'wss://relay.example.com/')), [true, '']);
    assert.deepEqual(await c.query('q', {}), []);
    await c.close();
  });

  test('the relay tag may name the public URL or the listening URL, nothing else', async () => {
    const c = await RawClient.connect(relay.url);
    const challenge = await c.challenge();
    assert.equal((await auth(c, alice.auth(challenge, 'wss://other.example.com')))[0], false);
    assert.deepEqual(await auth(c, bob.auth(challenge, relay.url)), [true, '']);
    await c.close();
  });
});

describe("NIP-42 relay tag: the relay's own URLs, never the client's Host header", () => {
  /** A connection that claims `Host: evil.example`, as a relay-in-the-middle forwarding its victim would. */
  async function viaEvilHost(relay: TestRelay): Promise<{ c: RawClient; challenge: string }> {
    const c = await RawClient.connect(relay.url, { headers: { Host: 'evil.example' } });
    return { c, challenge: await c.challenge() };
  }

  test('without a public URL: the listening URL and its loopback forms only', async (t) => {
    const relay = await startTestRelay({ auth: 'write' });
    t.after(() => relay.close());
    const port = new URL(relay.url).port;
    const { c, challenge } = await viaEvilHost(relay);
    t.after(() => c.close());
    for (const url of ['ws://evil.example', `ws://evil.example:${port}`, 'wss://evil.example']) {
      const [ok, message] = await auth(c, alice.auth(challenge, url));
      assert.equal(ok, false, `${url} was accepted`);
      assert.match(message, /^invalid: /);
    }
    for (const url of [relay.url, `ws://localhost:${port}`, `ws://[::1]:${port}/`]) {
      assert.deepEqual(await auth(c, new TestKey().auth(challenge, url)), [true, ''], url);
    }
    const [tls] = await auth(c, bob.auth(challenge, `wss://127.0.0.1:${port}`));
    assert.equal(tls, false, 'wss:// accepted without a wss:// public URL');
  });

  test('with a wss:// public URL: that URL (TLS terminated in front) and the listening URL', async (t) => {
    const relay = await startTestRelay({ auth: 'write', publicUrl: 'wss://relay.example.com' });
    t.after(() => relay.close());
    const { c, challenge } = await viaEvilHost(relay);
    t.after(() => c.close());
    assert.equal((await auth(c, alice.auth(challenge, 'ws://evil.example')))[0], false);
    assert.equal((await auth(c, alice.auth(challenge, 'ws://relay.example.com')))[0], false);
    assert.deepEqual(await auth(c, alice.auth(challenge, 'wss://relay.example.com')), [true, '']);
    assert.deepEqual(await auth(c, bob.auth(challenge, relay.url)), [true, '']);
  });
});

describe('restricted kinds (DMs and gift wraps)', () => {
  let relay: TestRelay;
  const dm = alice.sign({ kind: 4, tags: [['p', bob.pubkey]], content: 'secret' });
  const note = alice.sign({ kind: 1 });
  before(async () => {
    relay = await startTestRelay();
    const c = await login(relay, alice);
    assert.deepEqual(await c.publish(dm), [true, '']);
    assert.deepEqual(await c.publish(note), [true, '']);
    await c.close();
  });
  after(() => relay.close());

  test('asking for a restricted kind without AUTH is CLOSED auth-required:', async () => {
    const c = await RawClient.connect(relay.url);
    await assert.rejects(c.req('dms', { kinds: [4] }), /^Error: auth-required: /);
    await assert.rejects(c.req('mixed', { kinds: [1, 1059] }), /^Error: auth-required: /);
    await assert.rejects(c.count('n', { kinds: [4] }), /^Error: auth-required: /);
    // A filter without kinds is served, without the restricted events.
    assert.deepEqual(
      (await c.query('all', {})).map((e) => e.id),
      [note.id],
    );
    assert.equal(await c.count('n2', {}), 1);
    await c.close();
  });

  test('the recipient and the author see the DM, a third party does not', async () => {
    for (const [who, sees] of [
      [bob, true],
      [alice, true],
      [carol, false],
    ] as const) {
      const c = await login(relay, who);
      const got = await c.query('dms', { kinds: [4] });
      assert.deepEqual(
        got.map((e) => e.id),
        sees ? [dm.id] : [],
      );
      assert.equal(await c.count('n', { kinds: [4] }), sees ? 1 : 0);
      assert.equal(await c.count('n2', {}), sees ? 2 : 1);
      const all = await c.query('all', {});
      assert.equal(
        all.some((e) => e.id === dm.id),
        sees,
      );
      await c.close();
    }
  });

  test('live restricted events go only to connections allowed to see them', async () => {
    const bobC = await login(relay, bob);
    const carolC = await login(relay, carol);
    await bobC.req('dms', { kinds: [4] });
    await carolC.req('everything', {});
    const next = alice.sign({ kind: 4, tags: [['p', bob.pubkey]] });
    const after = alice.sign({ kind: 1 });
    const pub = await login(relay, alice);
    await pub.publish(next);
    await pub.publish(after);
    assert.equal((await bobC.nextEvent('dms')).id, next.id);
    // carol's next live event is the public note: the DM was never sent to her.
    assert.equal((await carolC.nextEvent('everything')).id, after.id);
    for (const c of [bobC, carolC, pub]) await c.close();
  });
});

describe('slow readers', () => {
  test('a client that stops reading loses its subscription; others are unaffected', async () => {
    const relay = await startTestRelay({
      limits: { maxBufferedBytes: 256 * 1024, eventsPerSecond: 10_000, eventsBurst: 10_000 },
    });
    const slow = await RawClient.connect(relay.url);
    await slow.req('firehose', {});
    slow.ws.pause();
    const publisher = await RawClient.connect(relay.url);
    const big = 'x'.repeat(100_000);
    let sent = 0;
    // Publish until the relay gives up on the slow reader (kernel buffers absorb the first megabytes).
    while (relay.server.stats().subscriptions > 0) {
      assert.ok(sent < 2000, 'the slow subscription was never closed');
      const batch = Array.from({ length: 20 }, (_, i) => alice.sign({ content: `${big}${sent + i}` }));
      const oks = await Promise.all(batch.map((e) => publisher.publish(e)));
      assert.ok(oks.every(([ok]) => ok));
      sent += batch.length;
    }
    assert.deepEqual(await publisher.query('check', { kinds: [0] }), []);
    slow.ws.resume();
    assert.match(await slow.closed('firehose'), /^error: slow reader/);
    await slow.close();
    await publisher.close();
    await relay.close();
  });

  test('a large stored answer is delivered completely, with flow control', async () => {
    const relay = await startTestRelay({ limits: { eventsPerSecond: 10_000, eventsBurst: 10_000 } });
    const c = await RawClient.connect(relay.url);
    const author = new TestKey();
    const big = 'y'.repeat(100_000);
    const events = Array.from({ length: 40 }, (_, i) => author.sign({ content: `${big}${i}` }));
    await Promise.all(events.map((e) => c.publish(e)));
    const got = await c.query('all', { authors: [author.pubkey] });
    assert.equal(got.length, 40);
    await c.close();
    await until(() => relay.server.stats().connections === 0);
    await relay.close();
  });
});

describe('filter sizes', () => {
  const values = (n: number, f: (i: number) => string = (i) => `v${i}`): string[] =>
    Array.from({ length: n }, (_, i) => f(i));
  const hex = (i: number): string => i.toString(16).padStart(64, '0');

  test('a list longer than maxFilterValues is refused with CLOSED invalid: (REQ and COUNT)', async (t) => {
    const relay = await startTestRelay({ limits: { maxFilterValues: 100 } });
    t.after(() => relay.close());
    const c = await RawClient.connect(relay.url);
    t.after(() => c.close());
    const tooLong = [
      { '#p': values(101) },
      { '#t': ['zz'], '#p': values(101) },
      { ids: values(101, hex) },
      { authors: values(101, hex) },
      { kinds: Array.from({ length: 101 }, (_, i) => i) },
    ];
    for (const f of tooLong) {
      await assert.rejects(c.req('big', f), /^Error: invalid: .*at most 100/, JSON.stringify(Object.keys(f)));
      await assert.rejects(c.count('big', f), /^Error: invalid: /);
    }
    // The default is documented and stated in NIP-11; at the limit, a filter is served.
    assert.deepEqual(await c.query('ok', { '#p': values(100) }, { authors: values(100, hex) }), []);
    await until(() => relay.server.stats().subscriptions === 0);
  });

  test("one connection's subscriptions hold at most maxConnectionFilterValues values", async (t) => {
    const relay = await startTestRelay({ limits: { maxFilterValues: 100, maxConnectionFilterValues: 250 } });
    t.after(() => relay.close());
    const c = await RawClient.connect(relay.url);
    t.after(() => c.close());
    await c.req('a', { '#p': values(100) });
    await c.req('b', { '#t': ['x'], '#p': values(99) });
    await assert.rejects(c.req('c', { '#p': values(51) }), /^Error: blocked: .*250/);
    await c.req('c', { kinds: [1] }, { '#p': values(48) });
    // Replacing a subscription counts only its new filters; closing one frees its values.
    await c.req('a', { '#p': values(50) });
    await c.req('d', { '#p': values(50) });
    c.send(['CLOSE', 'd']);
    await c.req('e', { '#p': values(50) });
    await until(() => relay.server.stats().subscriptions === 4);
    // Another connection has its own allowance.
    const other = await RawClient.connect(relay.url);
    t.after(() => other.close());
    await other.req('a', { '#p': values(100) }, { '#e': values(100) });
  });
});
