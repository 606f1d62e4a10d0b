import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../core/clock.ts';
import { type BreakerState, CircuitBreaker } from './circuit-breaker.ts';

function make(failureThreshold = 3, cooldownMs = 1000, halfOpenSuccesses = 1) {
  const clock = new ManualClock();
  return { clock, breaker: new CircuitBreaker({ failureThreshold, cooldownMs, halfOpenSuccesses, clock }) };
}

test('opens after N consecutive failures, a success in between resets the count', () => {
  const { breaker } = make(3);
  breaker.recordFailure();
  breaker.recordFailure();
  breaker.recordSuccess();
  breaker.recordFailure();
  breaker.recordFailure();
  assert.equal(breaker.state, 'closed');
  breaker.recordFailure();
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.canRequest(), false);
  assert.equal(breaker.snapshot().opens, 1);
});

test('half-open after the cool-down: one probe at a time; success closes, failure reopens', () => {
  const { breaker, clock } = make(1, 1000);
  breaker.recordFailure();
  assert.equal(breaker.snapshot().retryAt, clock.now() + 1000);
  clock.advance(999);
  assert.equal(breaker.canRequest(), false);
  clock.advance(1);
  assert.equal(breaker.state, 'half-open');
  assert.equal(breaker.canRequest(), true, 'the probe');
  assert.equal(breaker.canRequest(), false, 'a second call while the probe is in flight');
  breaker.recordFailure();
  assert.equal(breaker.state, 'open', 'a failed probe reopens');
  clock.advance(1000);
  assert.equal(breaker.canRequest(), true);
  breaker.recordSuccess();
  assert.equal(breaker.state, 'closed');
  assert.equal(breaker.canRequest(), true);
  assert.equal(breaker.canRequest(), true, 'closed: no limit');
});

test('halfOpenSuccesses probes are needed to close', () => {
  const { breaker, clock } = make(1, 10, 2);
  breaker.recordFailure();
  clock.advance(10);
  assert.equal(breaker.canRequest(), true);
  breaker.recordSuccess();
  assert.equal(breaker.state, 'half-open');
  assert.equal(breaker.snapshot().probeSuccesses, 1);
  assert.equal(breaker.canRequest(), true, 'the next probe');
  breaker.recordSuccess();
  assert.equal(breaker.state, 'closed');
});

test('permits: a released probe frees the slot; outcomes from before a state change are ignored', () => {
  const { breaker, clock } = make(2, 100);
  const early = breaker.acquire();
  assert.ok(early && !early.probe);
  breaker.acquire()?.fail();
  breaker.acquire()?.fail();
  assert.equal(breaker.state, 'open');
  early.succeed(); // a call begun while closed that ends after the circuit opened
  assert.equal(breaker.state, 'open');
  clock.advance(100);
  const probe = breaker.acquire();
  assert.ok(probe?.probe);
  assert.equal(breaker.acquire(), null);
  probe.release();
  assert.equal(breaker.state, 'half-open');
  const again = breaker.acquire();
  assert.ok(again?.probe);
  again.succeed();
  again.fail(); // reported twice: ignored
  assert.equal(breaker.state, 'closed');
});

test('constructor rejects nonsense options', () => {
  const clock = new ManualClock();
  assert.throws(
    () => new CircuitBreaker({ failureThreshold: 0, cooldownMs: 1, halfOpenSuccesses: 1, clock }),
  );
});

type Op = { kind: 'ok' } | { kind: 'fail' } | { kind: 'wait'; ms: number } | { kind: 'grab' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ kind: 'ok' }),
  fc.constant<Op>({ kind: 'fail' }),
  fc.constant<Op>({ kind: 'grab' }),
  fc.integer({ min: 0, max: 3000 }).map((ms): Op => ({ kind: 'wait', ms })),
);
const configArb = fc.record({
  threshold: fc.integer({ min: 1, max: 5 }),
  cooldown: fc.integer({ min: 0, max: 2000 }),
  successes: fc.integer({ min: 1, max: 3 }),
});

test('property: matches a reference model; never opens without N consecutive failures', () => {
  fc.assert(
    fc.property(configArb, fc.array(opArb, { maxLength: 80 }), (cfg, ops) => {
      const { breaker, clock } = make(cfg.threshold, cfg.cooldown, cfg.successes);
      // Reference model, single flight (a "grab" is a probe that never reports back until the next op).
      let state: BreakerState = 'closed';
      // Read through a function so TypeScript does not narrow a variable that closures change.
      const now = (): BreakerState => state;
      let streak = 0;
      let okProbes = 0;
      let openedAt = 0;
      let held: ReturnType<typeof breaker.acquire> = null;
      const tick = (): void => {
        if (state === 'open' && clock.now() >= openedAt + cfg.cooldown) {
          state = 'half-open';
          okProbes = 0;
        }
      };
      for (const op of ops) {
        tick();
        if (op.kind === 'wait') {
          clock.advance(op.ms);
          continue;
        }
        if (op.kind === 'grab') {
          held?.release();
          held = breaker.acquire();
          assert.equal(held !== null, now() !== 'open');
          continue;
        }
        held?.release();
        held = null;
        const permit = breaker.acquire();
        assert.equal(permit !== null, now() !== 'open', `acquire in ${now()}`);
        if (!permit) continue;
        const wasClosed = now() === 'closed';
        if (op.kind === 'ok') {
          permit.succeed();
          if (now() === 'closed') streak = 0;
          else if (++okProbes >= cfg.successes) {
            state = 'closed';
            streak = 0;
          }
        } else {
          permit.fail();
          if (now() === 'closed') streak++;
          if (now() === 'half-open' || streak >= cfg.threshold) {
            state = 'open';
            openedAt = clock.now();
          }
        }
        if (wasClosed && now() === 'open') assert.ok(streak >= cfg.threshold);
        tick();
        assert.equal(breaker.state, state);
      }
    }),
    { numRuns: 500 },
  );
});

test('property: after the cool-down a probe is always allowed, and probes can always close it', () => {
  fc.assert(
    fc.property(configArb, fc.array(opArb, { maxLength: 60 }), (cfg, ops) => {
      const { breaker, clock } = make(cfg.threshold, cfg.cooldown, cfg.successes);
      for (const op of ops) {
        if (op.kind === 'wait') clock.advance(op.ms);
        else {
          const p = breaker.acquire();
          if (op.kind === 'ok') p?.succeed();
          else if (op.kind === 'fail') p?.fail();
          else p?.release();
        }
      }
      clock.advance(cfg.cooldown);
      for (let i = 0; i < cfg.successes; i++) {
        const probe = breaker.acquire();
        assert.ok(probe, `a call is allowed after the cool-down (state ${breaker.state})`);
        if (probe.probe) assert.equal(breaker.acquire(), null, 'one probe at a time');
        probe.succeed();
      }
      assert.equal(breaker.state, 'closed');
    }),
    { numRuns: 500 },
  );
});
