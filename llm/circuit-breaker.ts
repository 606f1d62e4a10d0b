/**
 * A circuit breaker per provider. Closed: every call goes through; `failureThreshold` consecutive failures
 * open it. Open: calls are refused until `cooldownMs` has passed, then it is half-open. Half-open: exactly one
 * probe call at a time; `halfOpenSuccesses` successful probes close it, a failed probe opens it again for
 * another cool-down. So a failing provider is retried after every cool-down, never disabled for good.
 *
 * Two ways to use it: `acquire()` returns a permit (or null) whose outcome is reported on the permit, which
 * stays correct with concurrent calls (an outcome from before a state change is ignored); or the simple
 * single-flight form `canRequest()` + `recordSuccess()` / `recordFailure()`.
 */
import type { Clock } from '../core/clock.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  halfOpenSuccesses: number;
  clock: Clock;
}

export interface BreakerSnapshot {
  state: BreakerState;
  consecutiveFailures: number;
  /** Successful probes so far in this half-open period. */
  probeSuccesses: number;
  probeInFlight: boolean;
  /** When the circuit last opened (epoch ms), if it is open or half-open. */
  openedAt: number | undefined;
  /** When an open circuit lets a probe through (epoch ms), if it is open. */
  retryAt: number | undefined;
  /** How many times it has opened since it was created. */
  opens: number;
}

/** The right to make one call; report its outcome once (later reports are ignored). */
export interface BreakerPermit {
  /** True when this call is the half-open probe. */
  readonly probe: boolean;
  succeed(): void;
  fail(): void;
  /** The call ended without an outcome (the caller aborted): frees the probe slot, counts nothing. */
  release(): void;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private probeOk = 0;
  private probing = false;
  private openedAt: number | undefined;
  private opened = 0;
  /** Bumped on every state change, so outcomes of calls begun before it are ignored. */
  private epoch = 0;
  private readonly options: BreakerOptions;

  constructor(options: BreakerOptions) {
    if (options.failureThreshold < 1 || options.halfOpenSuccesses < 1 || options.cooldownMs < 0)
      throw new RangeError('circuit breaker: failureThreshold and halfOpenSuccesses >= 1, cooldownMs >= 0');
    this.options = options;
  }

  get state(): BreakerState {
    this.tick();
    return this.current;
  }

  /** Reserves a call: null when the circuit refuses it (open, or a half-open probe already in flight). */
  acquire(): BreakerPermit | null {
    this.tick();
    if (this.current === 'open') return null;
    if (this.current === 'half-open') {
      if (this.probing) return null;
      this.probing = true;
    }
    const epoch = this.epoch;
    const probe = this.current === 'half-open';
    let done = false;
    const once =
      (f: () => void): (() => void) =>
      () => {
        if (done) return;
        done = true;
        if (epoch === this.epoch) f();
      };
    return {
      probe,
      succeed: once(() => this.success()),
      fail: once(() => this.failure()),
      release: once(() => {
        if (probe) this.probing = false;
      }),
    };
  }

  /** Single-flight form: may a call go now? In half-open this reserves the one probe. */
  canRequest(): boolean {
    return this.acquire() !== null;
  }

  recordSuccess(): void {
    this.tick();
    this.success();
  }

  recordFailure(): void {
    this.tick();
    this.failure();
  }

  snapshot(): BreakerSnapshot {
    this.tick();
    const open = this.current !== 'closed';
    return {
      state: this.current,
      consecutiveFailures: this.failures,
      probeSuccesses: this.probeOk,
      probeInFlight: this.probing,
      openedAt: open ? this.openedAt : undefined,
      retryAt:
        this.current === 'open' && this.openedAt !== undefined
          ? this.openedAt + this.options.cooldownMs
          : undefined,
      opens: this.opened,
    };
  }

  /** Open → half-open once the cool-down has passed. */
  private tick(): void {
    if (
      this.current === 'open' &&
      this.openedAt !== undefined &&
      this.options.clock.now() >= this.openedAt + this.options.cooldownMs
    ) {
      this.move('half-open');
    }
  }

  private success(): void {
    if (this.current === 'closed') this.failures = 0;
    else if (this.current === 'half-open') {
      this.probing = false;
      this.probeOk++;
      if (this.probeOk >= this.options.halfOpenSuccesses) this.move('closed');
    }
  }

  private failure(): void {
    if (this.current === 'closed') {
      this.failures++;
      if (this.failures >= this.options.failureThreshold) this.open();
    } else if (this.current === 'half-open') this.open();
  }

  private open(): void {
    this.openedAt = this.options.clock.now();
    this.opened++;
    this.move('open');
  }

  private move(state: BreakerState): void {
    this.current = state;
    this.epoch++;
    this.probing = false;
    this.probeOk = 0;
    if (state === 'closed') {
      this.failures = 0;
      this.openedAt = undefined;
    }
  }
}
