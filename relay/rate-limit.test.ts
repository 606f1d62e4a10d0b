import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import { TokenBucket } from './rate-limit.ts';

test('a full bucket allows a burst, then refuses', () => {
  const bucket = new TokenBucket(10, 3, new ManualClock());
  assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), false);
});

test('tokens come back at the configured rate, up to the burst', () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket(10, 5, clock);
  for (let i = 0; i < 5; i++) assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), false);
  clock.advance(100); // 10/s → one token
  assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), false);
  clock.advance(60_000);
  assert.equal(bucket.available(), 5);
});

test('a refused take takes nothing', () => {
  const clock = new ManualClock();
  const bucket = new TokenBucket(1, 2, clock);
  assert.equal(bucket.take(3), false);
  assert.equal(bucket.available(), 2);
});

test('a clock that goes backwards adds no tokens', () => {
  const clock = new ManualClock(10_000);
  const bucket = new TokenBucket(1000, 2, clock);
  bucket.take(2);
  clock.set(5_000);
  assert.equal(bucket.take(), false);
  clock.set(5_001);
  assert.equal(bucket.take(), true);
});
