import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { MemoryLogger, silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { RelayClient } from '../../relay/client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { ResultCopies, type ResultCopiesOptions } from './result-copies.ts';

/** A result's copies on the relays its request names, with real relays on loopback (allowed by address). */
let own: TestRelay;
let theirs: TestRelay;
const customer = generateLocalSigner();
const agent = generateLocalSigner();
const opened: string[] = [];

before(async () => {
  own = await startTestRelay();
  theirs = await startTestRelay();
});
after(async () => {
  await own.close();
  await theirs.close();
});

const copies = (o: Partial<ResultCopiesOptions> = {}) =>
  new ResultCopies({
    open: (url) => {
      opened.push(url);
      return new RelayClient({ url, logger: silentLogger, connectTimeoutMs: 2000 });
    },
    skip: [own.url],
    allow: ['127.0.0.1'],
    logger: silentLogger,
    ...o,
  });
const request = (relays: string[][]) =>
  customer.signEvent({ kind: 5700, created_at: Math.floor(Date.now() / 1000), tags: relays, content: '' });
const result = (r: NostrEvent) =>
  agent.signEvent({
    kind: 6700,
    created_at: Math.floor(Date.now() / 1000),
    tags: [['e', r.id]],
    content: 'done',
  });

test('the targets: ws(s) URLs of every relays tag, once each, not its own relay, at most maxRelays', async () => {
  const r = await request([
    ['relays', `${own.url}/`, 'wss://a.example', 'https://not.a.relay', 'wss://a.example/'],
    ['relays', 'wss://b.example', 'wss://c.example', 'not a url'],
  ]);
  assert.deepEqual(copies().targets(r), ['wss://a.example/', 'wss://b.example/', 'wss://c.example/']);
  assert.deepEqual(copies({ maxRelays: 2 }).targets(r), ['wss://a.example/', 'wss://b.example/']);
});

test('a copy reaches the relay the request names; a duplicate is fine', async () => {
  const r = await request([['relays', own.url, theirs.url]]);
  const e = await result(r);
  await copies().copy(r, e);
  await copies().copy(r, e);
  const reader = new RelayClient({ url: theirs.url, logger: silentLogger });
  try {
    const found = await reader.query([{ ids: [e.id] }]);
    assert.deepEqual(
      found.map((x) => x.id),
      [e.id],
    );
  } finally {
    reader.close();
  }
  assert.ok(!opened.some((u) => u.startsWith(own.url)), 'never a copy to its own relay');
});

test('relays that are not public are refused before any connection (unless allowed); failures only logged', async () => {
  const log = new MemoryLogger();
  const before = opened.length;
  const r = await request([['relays', theirs.url, 'ws://intranet.example:7777', 'ws://[::1]:7777']]);
  const privateName = copies({
    allow: [],
    logger: log,
    lookup: async () => [{ address: '10.1.2.3', family: 4 }],
  });
  await privateName.copy(r, await result(r));
  assert.equal(opened.length, before, 'no connection was opened');
  const reasons = log.records.filter((x) => x.level === 'warn').map((x) => String(x.fields.err));
  assert.equal(reasons.length, 3);
  assert.ok(reasons.some((m) => /127\.0\.0\.1 is a loopback address/.test(m)));
  assert.ok(reasons.some((m) => /intranet\.example is a private address/.test(m)));
  assert.ok(reasons.some((m) => /::1 is a loopback address/.test(m)));
  // Allowed by name: the name's addresses are not checked.
  const byName = copies({
    allow: ['intranet.example'],
    lookup: async () => [{ address: '10.1.2.3', family: 4 }],
  });
  assert.deepEqual(byName.targets(r).length, 3);
});

test('a relay that does not answer: the copy gives up after its timeout, logged', async () => {
  // A port that accepts TCP and never speaks WebSocket.
  const silent = createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const address = silent.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const log = new MemoryLogger();
  try {
    const r = await request([['relays', `ws://127.0.0.1:${port}`]]);
    await copies({ logger: log, timeoutMs: 300 }).copy(r, await result(r));
    assert.equal(log.records.filter((x) => x.level === 'warn').length, 1);
  } finally {
    silent.close();
  }
});
