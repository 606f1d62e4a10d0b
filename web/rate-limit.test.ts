import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import { ClientRateLimiter, clientKey } from './rate-limit.ts';

function limiter(perMinute: number, maxClients = 10_000) {
  const clock = new ManualClock();
  return { clock, limiter: new ClientRateLimiter({ perMinute, maxClients, clock }) };
}

describe('ClientRateLimiter', () => {
  test('a burst of perMinute, then refused with the whole seconds until the next token', () => {
    const { clock, limiter: l } = limiter(10);
    for (let i = 0; i < 10; i++) assert.deepEqual(l.take('a'), { ok: true }, `take ${i}`);
    assert.deepEqual(l.take('a'), { ok: false, retryAfterSeconds: 6 });
    clock.advance(1_000);
    assert.deepEqual(l.take('a'), { ok: false, retryAfterSeconds: 5 }, 'a refusal takes nothing');
    clock.advance(4_500);
    assert.deepEqual(l.take('a'), { ok: false, retryAfterSeconds: 1 }, 'never less than 1 s');
    clock.advance(500);
    assert.deepEqual(l.take('a'), { ok: true });
    assert.equal(l.take('a').ok, false);
    // Another client has its own bucket.
    assert.deepEqual(l.take('b'), { ok: true });
  });

  test('a minute refills the bucket entirely, never beyond the burst', () => {
    const { clock, limiter: l } = limiter(3);
    for (let i = 0; i < 3; i++) l.take('a');
    clock.advance(3_600_000);
    for (let i = 0; i < 3; i++) assert.equal(l.take('a').ok, true);
    assert.deepEqual(l.take('a'), { ok: false, retryAfterSeconds: 20 });
  });

  test('a clock that goes back refills nothing', () => {
    const { clock, limiter: l } = limiter(1);
    assert.equal(l.take('a').ok, true);
    clock.advance(-120_000);
    assert.equal(l.take('a').ok, false);
  });

  test('the table never tracks more than maxClients: a spray of 20,000 addresses', () => {
    const { limiter: l } = limiter(10);
    for (let i = 0; i < 20_000; i++) {
      l.take(`2001:db8::${i.toString(16)}`);
      assert.ok(l.size <= 10_000);
    }
    assert.equal(l.size, 10_000);
  });

  test('the client seen longest ago is forgotten first; one just used is kept', () => {
    const { limiter: l } = limiter(1, 3);
    l.take('a');
    l.take('b');
    l.take('c');
    assert.equal(l.take('a').ok, false, 'a is used again: now the most recent');
    l.take('d'); // evicts b, the oldest
    assert.equal(l.size, 3);
    assert.equal(l.take('a').ok, false, 'a is still limited');
    assert.equal(l.take('b').ok, true, 'b was forgotten and starts afresh');
  });

  test('clients idle for a minute are dropped as they are met', () => {
    const { clock, limiter: l } = limiter(5);
    for (let i = 0; i < 100; i++) l.take(`10.0.0.${i}`);
    assert.equal(l.size, 100);
    clock.advance(59_999);
    l.take('x');
    assert.equal(l.size, 101, 'not yet refilled entirely');
    clock.advance(1);
    l.take('y');
    assert.equal(l.size, 2, 'the 100 full buckets are gone; x (not idle) and y remain');
  });

  test('options are checked', () => {
    const clock = new ManualClock();
    assert.throws(() => new ClientRateLimiter({ perMinute: 0, maxClients: 1, clock }), /positive whole/);
    assert.throws(() => new ClientRateLimiter({ perMinute: 1.5, maxClients: 1, clock }), /positive whole/);
    assert.throws(() => new ClientRateLimiter({ perMinute: 1, maxClients: 0, clock }), /tracked clients/);
  });
});

test('clientKey: IPv4 as is, IPv4-mapped as IPv4, IPv6 by its /64', () => {
  assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('::FFFF:192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('2001:db8:0:1::1'), '2001:db8:0:1::/64');
  assert.equal(clientKey('2001:0DB8:0000:0001:aaaa:bbbb:cccc:dddd'), '2001:db8:0:1::/64');
  assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey('::1:2:3:4:5:1.2.3.4'), '0:1:2:3::/64');
  assert.equal(clientKey(''), '');
  assert.equal(clientKey('not an address'), 'not an address');
});
