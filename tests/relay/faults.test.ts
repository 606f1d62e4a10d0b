import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MemoryLogger } from '../../core/logger.ts';
import { RawClient, TestKey, until } from '../../testkit/raw-client.ts';
import { frame, tcpConnect, upgradedSocket, upgradeRequest } from '../../testkit/raw-socket.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';

/**
 * Faulty clients against one relay. After each fault a separate, well-behaved client (the witness) must
 * still publish and read back correctly, and the relay must have logged no internal error.
 */
const key = new TestKey();
const now = (): number => Math.floor(Date.now() / 1000);

describe('faulty clients do not disturb the others', () => {
  let relay: TestRelay;
  let witness: RawClient;
  const logger = new MemoryLogger();

  before(async () => {
    relay = await startTestRelay({
      logger,
      limits: { maxMessageBytes: 4096, eventsPerSecond: 20, eventsBurst: 50 },
    });
    witness = await RawClient.connect(relay.url);
  });

  after(async () => {
    await witness.close();
    await relay.close();
  });

  async function witnessWorks(): Promise<void> {
    const e = key.sign();
    assert.deepEqual(await witness.publish(e), [true, '']);
    assert.deepEqual(
      (await witness.query('w', { ids: [e.id] })).map((x) => x.id),
      [e.id],
    );
    assert.deepEqual(
      logger.records.filter((r) => r.level === 'error'),
      [],
    );
  }

  test('malformed JSON and unknown message types get NOTICEs; the connection keeps working', async () => {
    const c = await RawClient.connect(relay.url);
    for (const text of [
      '{',
      '["EVENT",',
      'null',
      '42',
      '"x"',
      '[]',
      '[{}]',
      '["PING"]',
      '["event",{}]',
      '\u0000',
    ]) {
      c.send(text);
      assert.match(await c.notice(), /^invalid: /, JSON.stringify(text));
    }
    assert.deepEqual(await c.publish(key.sign()), [true, '']);
    await c.close();
    await witnessWorks();
  });

  test('bad ids, bad signatures, future and expired events are refused with invalid:', async () => {
    const c = await RawClient.connect(relay.url);
    const e = key.sign();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...e, content: 'forged' }, /^invalid: event id/],
      [{ ...e, sig: `${'0'.repeat(64)}${e.sig.slice(64)}` }, /^invalid: bad signature/],
      [{ ...e, pubkey: new TestKey().pubkey }, /^invalid: event id/],
      [key.sign({ created_at: now() + 100_000 }), /^invalid: created_at/],
      [key.sign({ tags: [['expiration', '1']] }), /^invalid: event has expired/],
      [{ ...e, id: e.id.toUpperCase() }, /./],
    ];
    for (const [event, re] of cases.slice(0, 5)) {
      const [ok, message] = await c.publish(event);
      assert.equal(ok, false);
      assert.match(message, re);
    }
    c.send(['EVENT', cases[5]?.[0]]);
    assert.match(await c.notice(), /^invalid: id/);
    await c.close();
    await witnessWorks();
  });

  test('oversized messages: answered below ws cap, socket closed with 1009 above it', async () => {
    const c = await RawClient.connect(relay.url);
    const big = key.sign({ content: 'x'.repeat(5000) });
    assert.deepEqual(await c.publish(big), [false, 'invalid: message is larger than 4096 bytes']);
    c.send(['REQ', 'big', { '#t': ['y'.repeat(5000)] }]);
    assert.equal(await c.notice(), 'invalid: message is larger than 4096 bytes');
    assert.deepEqual(await c.publish(key.sign()), [true, '']);
    c.send(JSON.stringify(['EVENT', key.sign({ content: 'z'.repeat(200_000) })]));
    assert.equal((await c.whenClosed()).code, 1009);
    await witnessWorks();
  });

  test('floods: events beyond the burst are rate-limited:, garbage is answered, others unaffected', async () => {
    const events = Array.from({ length: 120 }, () => key.sign());
    const c = await RawClient.connect(relay.url);
    const answers = await Promise.all(events.map((e) => c.publish(e)));
    const accepted = answers.filter(([ok]) => ok).length;
    const limited = answers.filter(([ok, m]) => !ok && m.startsWith('rate-limited: ')).length;
    assert.equal(accepted + limited, events.length);
    assert.ok(accepted >= 50 && limited > 0, `accepted ${accepted}, limited ${limited}`);
    for (let i = 0; i < 2000; i++) c.send(i % 2 ? '[[[[' : '["NOPE"]');
    for (let i = 0; i < 2000; i++) await c.notice();
    await c.close();
    await witnessWorks();
  });

  test('a binary frame gets a NOTICE; invalid UTF-8 closes only that socket (1007)', async () => {
    const c = await RawClient.connect(relay.url);
    c.ws.send(Buffer.from('["REQ","b",{}]'), { binary: true });
    assert.match(await c.notice(), /binary/);
    await c.close();
    const raw = await upgradedSocket(relay.url);
    const closed = new Promise<number>((resolve) => {
      raw.on('data', (d: Buffer) => {
        if (((d[0] as number) & 0x0f) === 8) resolve(d.readUInt16BE(2));
      });
    });
    raw.write(frame(1, Buffer.from([0x5b, 0xff, 0xfe, 0x5d])));
    assert.equal(await closed, 1007);
    raw.destroy();
    await witnessWorks();
  });

  test('abrupt disconnects: after an EVENT, mid-frame, and mid-handshake', async () => {
    const before = relay.server.stats().connections;
    const a = await upgradedSocket(relay.url);
    a.write(frame(1, Buffer.from(JSON.stringify(['EVENT', key.sign()]))));
    a.write(frame(1, Buffer.from(JSON.stringify(['REQ', 'gone', {}]))));
    a.destroy();
    const b = await upgradedSocket(relay.url);
    b.write(frame(1, Buffer.from(JSON.stringify(['EVENT', key.sign()]))).subarray(0, 40));
    b.destroy();
    const c = await tcpConnect(relay.url);
    c.write(upgradeRequest(relay.url).slice(0, 30));
    c.destroy();
    await until(() => relay.server.stats().connections === before, undefined, 'sockets forgotten');
    await witnessWorks();
  });

  test('half-open sockets (stalled handshake, stalled frame) do not block anyone', async () => {
    const stalledHandshake = await tcpConnect(relay.url);
    stalledHandshake.on('error', () => {});
    stalledHandshake.write(upgradeRequest(relay.url).slice(0, 50));
    const stalledFrame = await upgradedSocket(relay.url);
    stalledFrame.write(frame(1, Buffer.from(JSON.stringify(['EVENT', key.sign()]))).subarray(0, 60));
    await witnessWorks();
    stalledHandshake.destroy();
    stalledFrame.destroy();
  });
});

test('a client that floods without reading the answers is disconnected; others are unaffected', async () => {
  const relay = await startTestRelay({ limits: { maxBufferedBytes: 64 * 1024 } });
  const witness = await RawClient.connect(relay.url);
  const flooder = await RawClient.connect(relay.url);
  flooder.ws.pause();
  await until(() => relay.server.stats().connections === 2);
  // The relay stops reading a client it drops (then gives it a second to take the close frame), so flood
  // only while the flooder's own socket takes the data.
  const deadline = Date.now() + 60_000;
  while (relay.server.stats().connections === 2) {
    assert.ok(Date.now() < deadline, 'the flooder was never disconnected');
    if (flooder.ws.bufferedAmount < 1 << 20) {
      for (let i = 0; i < 2000; i++) flooder.send('["FLOOD"]');
      await new Promise((r) => setImmediate(r));
    } else await new Promise((r) => setTimeout(r, 5));
  }
  assert.deepEqual(await witness.publish(key.sign()), [true, '']);
  flooder.ws.terminate();
  await witness.close();
  await relay.close();
});

test('the heartbeat closes a half-open upgraded socket that never answers pings', async () => {
  const relay = await startTestRelay({ heartbeatIntervalMs: 200 });
  const raw = await upgradedSocket(relay.url);
  raw.write(frame(1, Buffer.from('["REQ","x",{}]')).subarray(0, 10));
  const ended = new Promise<void>((resolve) => raw.once('close', () => resolve()));
  await ended;
  await until(() => relay.server.stats().connections === 0);
  const c = await RawClient.connect(relay.url);
  assert.deepEqual(await c.publish(key.sign()), [true, '']);
  await c.close();
  await relay.close();
});

test('huge tag filters and events with thousands of tags cannot freeze the relay', async (t) => {
  // Finding 2 of issue 12: 32 REQs of {"#t":["zz"],"#p":[64,000 values]}, then events with 2,499 p tags,
  // made an unrelated client's EVENT → OK take 44.8 s. Now a list is at most maxFilterValues long, one
  // connection's subscriptions hold at most maxConnectionFilterValues values, and matching is by hash.
  const relay = await startTestRelay({ limits: { eventsPerSecond: 10_000, eventsBurst: 10_000 } });
  t.after(() => relay.close());
  const attacker = await RawClient.connect(relay.url);
  const witness = await RawClient.connect(relay.url);
  t.after(() => Promise.all([attacker.close(), witness.close()]));
  const hex = (prefix: string, i: number): string => `${prefix}${i.toString(16).padStart(63, '0')}`;

  const many = Array.from({ length: 30_000 }, (_, i) => i.toString(36));
  attacker.send(['REQ', 'huge', { '#t': ['zz'], '#p': many }]);
  assert.match(await attacker.closed('huge'), /^invalid: /);

  let accepted = 0;
  for (let i = 0; i < 32; i++) {
    const subId = `s${i}`;
    attacker.send([
      'REQ',
      subId,
      { '#t': ['zz'], '#p': Array.from({ length: 2500 }, (_, j) => hex('a', j)) },
    ]);
    const end = await attacker.next((m) => (m[0] === 'EOSE' || m[0] === 'CLOSED') && m[1] === subId);
    if (end[0] === 'EOSE') accepted++;
    else assert.match(end[2] as string, /^(blocked|invalid): /);
  }
  assert.ok(accepted >= 1 && accepted <= 4, `${accepted} huge subscriptions accepted`);

  // Events that reach every one of those filters (the t tag) and miss them after 2,499 p tags.
  const heavy = Array.from({ length: 20 }, (_, n) =>
    key.sign({
      tags: [['t', 'zz'], ...Array.from({ length: 2499 }, (_, j) => ['p', hex('b', n * 2500 + j)])],
    }),
  );
  const published = Promise.all(heavy.map((e) => attacker.publish(e)));
  const mine = key.sign({ content: 'witness' });
  assert.deepEqual(await witness.publish(mine), [true, '']);
  assert.ok((await published).every(([ok]) => ok));
  assert.deepEqual(
    (await witness.query('w', { ids: [mine.id] })).map((e) => e.id),
    [mine.id],
  );
});
