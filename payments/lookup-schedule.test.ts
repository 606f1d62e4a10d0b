import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import { LookupSchedule } from './lookup-schedule.ts';

const hash = (i: number) => i.toString(16).padStart(64, '0');

describe('LookupSchedule', () => {
  const make = (clock: ManualClock, perRound = 10) =>
    new LookupSchedule({
      firstDelayMs: 2000,
      maxDelayMs: 60_000,
      maxDelayUnnotifiedMs: 10_000,
      perRound,
      clock,
    });
  const farExpiry = (clock: ManualClock) => Math.floor(clock.now() / 1000) + 3600;

  test('an invoice is looked up when first seen, then ever more rarely up to the ceiling', () => {
    const clock = new ManualClock();
    const s = make(clock);
    const open = [{ paymentHash: hash(1), expiresAt: farExpiry(clock) }];
    const lookups: number[] = [];
    const start = clock.now();
    for (let t = 0; t <= 300_000; t += 500) {
      clock.set(start + t);
      for (const h of s.due(open)) {
        lookups.push(t);
        s.looked(h, true);
      }
    }
    // 0, then waits of 2, 4, 8, 16, 32 s, then every 60 s.
    assert.deepEqual(lookups, [0, 2000, 6000, 14_000, 30_000, 62_000, 122_000, 182_000, 242_000]);
  });

  test('without notifications the ceiling is lower, so a payment is found sooner', () => {
    const clock = new ManualClock();
    const s = make(clock);
    const open = [{ paymentHash: hash(1), expiresAt: farExpiry(clock) }];
    for (let i = 0; i < 10; i++) {
      for (const h of s.due(open)) s.looked(h, false);
      clock.advance(10_000);
    }
    assert.deepEqual(s.due(open), [hash(1)]);
  });

  test('a lookup the wallet did not answer leaves the invoice due', () => {
    const clock = new ManualClock();
    const s = make(clock);
    const open = [{ paymentHash: hash(1), expiresAt: farExpiry(clock) }];
    assert.deepEqual(s.due(open), [hash(1)]);
    assert.deepEqual(s.due(open), [hash(1)], 'not reported as looked: still due');
    s.looked(hash(1), true);
    assert.deepEqual(s.due(open), []);
  });

  test('an invoice is due at its expiry, however long its wait', () => {
    const clock = new ManualClock();
    const s = make(clock);
    const expiresAt = Math.floor(clock.now() / 1000) + 5;
    const open = [{ paymentHash: hash(1), expiresAt }];
    s.looked(hash(1), true);
    s.looked(hash(1), true); // a wait of 4 s
    clock.advance(3000);
    assert.deepEqual(s.due(open), []);
    clock.advance(2000);
    assert.deepEqual(s.due(open), [hash(1)]);
  });

  test('a round asks about at most perRound invoices, the longest overdue first, and a flood waits its turn', () => {
    const clock = new ManualClock();
    const s = make(clock, 10);
    const old = { paymentHash: hash(0), expiresAt: farExpiry(clock) };
    s.looked(old.paymentHash, true); // due in 2 s
    clock.advance(5000);
    const flood = Array.from({ length: 500 }, (_, i) => ({
      paymentHash: hash(i + 1),
      expiresAt: farExpiry(clock),
    }));
    const first = s.due([...flood, old]);
    assert.equal(first.length, 10);
    assert.equal(first[0], old.paymentHash, 'the overdue invoice goes before the newcomers');
    // Over a minute of 2 s rounds, the flood costs at most 10 lookups a round.
    let asked = 0;
    for (let round = 0; round < 30; round++) {
      for (const h of s.due([...flood, old])) {
        asked++;
        s.looked(h, true);
      }
      clock.advance(2000);
    }
    assert.ok(asked <= 300, `${asked} lookups in 30 rounds`);
  });

  test('invoices no longer open are forgotten', () => {
    const clock = new ManualClock();
    const s = make(clock);
    const open = [1, 2, 3].map((i) => ({ paymentHash: hash(i), expiresAt: farExpiry(clock) }));
    for (const h of s.due(open)) s.looked(h, true);
    assert.equal(s.size, 3);
    s.due(open.slice(0, 1));
    assert.equal(s.size, 1);
  });
});
