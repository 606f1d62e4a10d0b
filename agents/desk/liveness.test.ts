import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { Liveness } from './liveness.ts';

test('an agent is alive while its beats are younger than the timeout', () => {
  const clock = new ManualClock();
  const l = new Liveness(clock, 1000);
  l.beat('a', { load: 2, capacity: 4, kinds: [5001] });
  clock.advance(999);
  assert.equal(l.isAlive('a'), true);
  assert.equal(l.load('a'), 2);
  clock.advance(1);
  assert.equal(l.isAlive('a'), false);
  l.beat('a', { load: 0, capacity: 4, kinds: [5001] });
  assert.equal(l.isAlive('a'), true);
  assert.equal(l.get('a').lastBeatAt, clock.now());
});

test('an agent that never beat gets one timeout of grace after start, then is dead', () => {
  const clock = new ManualClock();
  const l = new Liveness(clock, 1000);
  assert.equal(l.isAlive('b'), true);
  clock.advance(1000);
  assert.equal(l.isAlive('b'), false);
  assert.deepEqual(l.get('b'), { pubkey: 'b', alive: false, lastBeatAt: undefined, load: 0, capacity: 0 });
});

test('a late, older beat does not roll liveness back', () => {
  const clock = new ManualClock();
  const l = new Liveness(clock, 1000);
  l.beat('a', { load: 1, capacity: 1, kinds: [], at: clock.now() });
  l.beat('a', { load: 5, capacity: 1, kinds: [], at: clock.now() - 5000 });
  assert.equal(l.load('a'), 1);
});
