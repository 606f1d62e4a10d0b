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
      maxBufferedBytes: 256 * 1024,
      limits: { eventsPerSecond: 10_000, eventsBurst: 10_000 },
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
