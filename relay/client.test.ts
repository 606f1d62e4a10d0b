import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { silentLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { LocalSigner } from '../identity/signer.ts';
import { startTestRelay } from '../testkit/relay.ts';
import { isLoopbackRelayUrl, RelayClient } from './client.ts';

const note = (sk: Uint8Array, content: string): NostrEvent =>
  finalizeEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content }, sk);

test('publish, query, count and a live subscription through a real relay', async () => {
  const relay = await startTestRelay();
  const client = new RelayClient({ url: relay.url, logger: silentLogger });
  const sk = generateSecretKey();
  const first = note(sk, 'one');
  await client.publish(first);
  assert.deepEqual(
    (await client.query([{ ids: [first.id] }])).map((e) => e.id),
    [first.id],
  );
  assert.equal(await client.count([{ kinds: [1] }]), 1);
  const live: string[] = [];
  let eose = false;
  const sub = client.subscribe([{ kinds: [1] }], {
    onEvent: (e) => live.push(e.content),
    onEose: () => (eose = true),
  });
  const deadline = Date.now() + 10_000;
  while (!eose && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await client.publish(note(sk, 'two'));
  while (!live.includes('two') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(live, ['one', 'two']);
  sub.close();
  client.close();
  await relay.close();
});

test('a relay that refuses with auth-required: is authenticated (NIP-42) and the publish retried', async () => {
  const relay = await startTestRelay({ auth: 'write' });
  const signer = new LocalSigner(generateSecretKey());
  const client = new RelayClient({ url: relay.url, logger: silentLogger, authSigner: signer });
  const event = await signer.signEvent({
    kind: 1,
    created_at: Math.floor(Date.now() / 1000),
    tags: [],
    content: 'x',
  });
  await client.publish(event);
  const anonymous = new RelayClient({ url: relay.url, logger: silentLogger });
  await assert.rejects(anonymous.publish(note(generateSecretKey(), 'y')), /auth-required/);
  assert.equal((await anonymous.query([{ ids: [event.id] }])).length, 1);
  client.close();
  anonymous.close();
  await relay.close();
});

test('a dead relay rejects publish; closing while connecting does not crash the process', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const client = new RelayClient({
    url: `ws://127.0.0.1:${port}`,
    logger: silentLogger,
    connectTimeoutMs: 2000,
  });
  await assert.rejects(client.publish(note(generateSecretKey(), 'z')));
  // A second attempt is in flight (connecting) when the client is closed.
  const pending = client.publish(note(generateSecretKey(), 'w')).catch(() => 'rejected');
  client.close();
  assert.equal(await pending, 'rejected');
  await new Promise((r) => setTimeout(r, 200));
});

test('a burst of queries waits its turn instead of exceeding the relay’s subscription limit', async () => {
  const relay = await startTestRelay({ limits: { maxSubscriptions: 4 } });
  const sk = generateSecretKey();
  const events = Array.from({ length: 20 }, (_, i) => note(sk, `n${i}`));
  const writer = new RelayClient({ url: relay.url, logger: silentLogger });
  const queued = new RelayClient({ url: relay.url, logger: silentLogger, maxConcurrentQueries: 3 });
  const unbounded = new RelayClient({ url: relay.url, logger: silentLogger, maxConcurrentQueries: 100 });
  try {
    for (const e of events) await writer.publish(e);
    // A live subscription holds one of the connection's 4 slots; 3 queries at a time fit beside it.
    const live = queued.subscribe([{ kinds: [1], limit: 0 }], { onEvent: () => {} });
    const answers = await Promise.all(events.map((e) => queued.query([{ ids: [e.id] }])));
    assert.deepEqual(
      answers.map((a) => a[0]?.id),
      events.map((e) => e.id),
      'every query answered',
    );
    live.close();
    // The same burst without the queue: the relay refuses what is over its limit.
    const raw = await Promise.allSettled(events.map((e) => unbounded.query([{ ids: [e.id] }])));
    assert.ok(
      raw.some((r) => r.status === 'rejected' && /too many subscriptions/.test(String(r.reason))),
      'without the queue the relay closes the excess',
    );
  } finally {
    writer.close();
    queued.close();
    unbounded.close();
    await relay.close();
  }
});

test('ownRelay: events from the own relay on loopback are not verified again; any other relay’s always are', async () => {
  // A relay that answers every REQ with one event whose signature is wrong, then EOSE: only a client that
  // skips verification passes it on.
  const { WebSocketServer } = await import('ws');
  const forged = { ...note(generateSecretKey(), 'forged'), sig: 'ab'.repeat(64) };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws) =>
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as unknown[];
      if (msg[0] !== 'REQ') return;
      ws.send(JSON.stringify(['EVENT', msg[1], forged]));
      ws.send(JSON.stringify(['EOSE', msg[1]]));
    }),
  );
  await new Promise((r) => wss.once('listening', r));
  const url = `ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}`;
  const verifying = new RelayClient({ url, logger: silentLogger });
  const own = new RelayClient({ url, logger: silentLogger, ownRelay: true });
  try {
    assert.deepEqual(await verifying.query([{ kinds: [1] }]), [], 'a bad signature is dropped');
    assert.deepEqual(
      (await own.query([{ kinds: [1] }])).map((e) => e.content),
      ['forged'],
      'the own relay is trusted (it verified on ingest)',
    );
  } finally {
    verifying.close();
    own.close();
    await new Promise((r) => wss.close(r));
  }
  // Never for a relay across a network, even when asked: a warning, and verification stays on.
  const warnings: string[] = [];
  const logger = {
    ...silentLogger,
    child: () => logger,
    warn: (_: unknown, msg: string) => warnings.push(msg),
  } as unknown as typeof silentLogger;
  new RelayClient({ url: 'wss://relay.example.com', logger, ownRelay: true }).close();
  assert.equal(warnings.length, 1);
  assert.ok(isLoopbackRelayUrl('ws://127.0.0.1:7777'));
  assert.ok(isLoopbackRelayUrl('ws://localhost:7777'));
  assert.ok(isLoopbackRelayUrl('ws://[::1]:7777'));
  assert.ok(!isLoopbackRelayUrl('ws://127.0.0.1.example.com'));
  assert.ok(!isLoopbackRelayUrl('ws://10.0.0.1:7777'));
  assert.ok(!isLoopbackRelayUrl('not a url'));
});
