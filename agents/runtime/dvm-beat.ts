import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Signer } from '../../core/signer.ts';
import type { Publish } from '../../core/transport.ts';
import { buildDvmHeartbeat } from '../../dvm/dvm-heartbeat.ts';

export interface DvmBeatOptions {
  /** The d of the agent's NIP-89 announcement. */
  d: string;
  /** Seconds between beats (`federation.heartbeatSeconds`). */
  intervalSeconds: number;
  signer: Signer;
  /** The agent's own relay. */
  relay: Publish;
  load: () => number;
  capacity: number;
  clock: Clock;
  logger: Logger;
}

/**
 * The agent's outward liveness: a kind 11998 heartbeat (dvm/dvm-heartbeat.ts) at start and every interval on
 * its own relay, for clients outside this project (a beat that is not published is only logged; the next one
 * replaces it).
 */
export class DvmBeat {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: DvmBeatOptions) {}

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    const o = this.options;
    try {
      const template = buildDvmHeartbeat({
        d: o.d,
        intervalSeconds: o.intervalSeconds,
        load: o.load(),
        capacity: o.capacity,
        createdAt: Math.floor(o.clock.now() / 1000),
      });
      await o.relay.publish(await o.signer.signEvent(template));
    } catch (err) {
      o.logger.debug({ err: errorMessage(err) }, 'DVM heartbeat (kind 11998) not published');
    }
  }
}
