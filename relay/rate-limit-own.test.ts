import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { LocalSigner } from '../identity/signer.ts';
import { RawClient, TestKey } from '../testkit/raw-client.ts';
import { startTestRelay } from '../testkit/relay.ts';
import { RelayClient } from './client.ts';

// The instance's own keys (its desk, agents and wallet service publish for everyone they serve over one
// connection each) are not rate-limited once they authenticated; everyone else is, authenticated or not.

async function login(c: RawClient, key: TestKey, url: string): Promise<void> {
  const event = key.auth(await c.challenge(), url);
  c.send(['AUTH', event]);
  const ok = await c.next((m) => m[0] === 'OK' && m[1] === event.id);
  assert.equal(ok[2], true);
}

test('a connection authenticated as an own key is not rate-limited; others are', async () => {
  const own = new TestKey();
  const stranger = new TestKey();
  const clock = new ManualClock(Date.now());
  const relay = await startTestRelay({
    clock,
    limits: { eventsPerSecond: 1, eventsBurst: 2 },
    unlimited: (pubkey) => pubkey === own.pubkey,
  });
  const t = Math.floor(clock.now() / 1000);
  try {
    // Not authenticated: limited, even when the events are signed by the own key.
    const anon = await RawClient.connect(relay.url);
    for (let i = 0; i < 2; i++) assert.deepEqual(await anon.publish(own.sign({ created_at: t })), [true, '']);
    const [ok, message] = await anon.publish(own.sign({ created_at: t }));
    assert.equal(ok, false);
    assert.match(message, /^rate-limited: /);

    // Authenticated as a stranger: limited.
    const other = await RawClient.connect(relay.url);
    await login(other, stranger, relay.url);
    for (let i = 0; i < 1; i++)
      assert.deepEqual(await other.publish(stranger.sign({ created_at: t })), [true, '']);
    assert.match((await other.publish(stranger.sign({ created_at: t })))[1], /^rate-limited: /);

    // Authenticated as the own key: 50 events and 10 queries with no time passing, all served.
    const mine = await RawClient.connect(relay.url);
    await login(mine, own, relay.url);
    for (let i = 0; i < 50; i++)
      assert.deepEqual(await mine.publish(own.sign({ created_at: t })), [true, '']);
    for (let i = 0; i < 10; i++)
      assert.ok((await mine.query(`q${i}`, { kinds: [1], limit: 1 })).length === 1);
    await anon.close();
    await other.close();
    await mine.close();
  } finally {
    await relay.close();
  }
});

test('a client of its own relay authenticates when rate-limited, then publishes on; another relay stays limited', async () => {
  const secret = generateSecretKey();
  const signer = new LocalSigner(secret);
  const pubkey = getPublicKey(secret);
  const clock = new ManualClock(Date.now());
  const relay = await startTestRelay({
    clock,
    limits: { eventsPerSecond: 1, eventsBurst: 3 },
    unlimited: (pk) => pk === pubkey,
  });
  const t = Math.floor(clock.now() / 1000);
  const own = new RelayClient({ url: relay.url, logger: silentLogger, authSigner: signer, ownRelay: true });
  const plain = new RelayClient({ url: relay.url, logger: silentLogger, authSigner: signer });
  try {
    // 20 at once: the first refusals trigger one AUTH, and every publish goes through.
    const events = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        signer.signEvent({ kind: 1, created_at: t, tags: [], content: `own ${i}` }),
      ),
    );
    await Promise.all(events.map((e) => own.publish(e)));
    // Not the instance's own relay (no ownRelay): a rate-limited publish is not retried with AUTH.
    const more = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        signer.signEvent({ kind: 1, created_at: t, tags: [], content: `plain ${i}` }),
      ),
    );
    const outcomes = await Promise.allSettled(more.map((e) => plain.publish(e)));
    const refused = outcomes.filter((o) => o.status === 'rejected');
    assert.ok(refused.length >= 2, `${refused.length} of 5 refused`);
    for (const r of refused) assert.match(String((r as PromiseRejectedResult).reason), /rate-limited: /);
  } finally {
    own.close();
    plain.close();
    await relay.close();
  }
});

test('queries and subscriptions of an own client refused for the rate authenticate and go on', async () => {
  const secret = generateSecretKey();
  const signer = new LocalSigner(secret);
  const clock = new ManualClock(Date.now());
  const relay = await startTestRelay({
    clock,
    limits: { eventsPerSecond: 1, eventsBurst: 2 },
    unlimited: (pk) => pk === getPublicKey(secret),
  });
  const own = new RelayClient({ url: relay.url, logger: silentLogger, authSigner: signer, ownRelay: true });
  try {
    // Ten queries at once on a bucket of two: the refused ones authenticate (once) and are asked again.
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => own.query([{ kinds: [1], limit: 1 }])),
    );
    assert.equal(answers.length, 10);
    // A subscription refused for the rate (the bucket is empty again on a fresh connection's first REQs) reopens.
    const fresh = new RelayClient({
      url: relay.url,
      logger: silentLogger,
      authSigner: signer,
      ownRelay: true,
    });
    try {
      await Promise.all([fresh.query([{ kinds: [1] }]), fresh.query([{ kinds: [1] }])]); // the burst, spent
      const note = await signer.signEvent({
        kind: 1,
        created_at: Math.floor(clock.now() / 1000),
        tags: [['t', 'live']],
        content: 'live',
      });
      const seen = new Promise<string>((resolve, reject) => {
        fresh.subscribe([{ kinds: [1], '#t': ['live'] }], {
          onEvent: (e) => resolve(e.content),
          onEose: () => void own.publish(note).catch(reject),
          onClose: (reason) => reject(new Error(reason)),
        });
      });
      assert.equal(await seen, 'live');
    } finally {
      fresh.close();
    }
  } finally {
    own.close();
    await relay.close();
  }
});
