import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import type { Publish } from '../core/transport.ts';

/** Refusals that retrying cannot change (NIP-01 prefixes); anything else (down, timeout, rate-limited:, error:) is retried. */
const PERMANENT = ['blocked:', 'invalid:', 'restricted:', 'pow:'];

export interface ProfilePublisherOptions {
  logger: Logger;
  /** First retry delay after a failed publish; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * Publishes the agents' kind 0 profiles, each through its own agent's connection. A relay that is down
 * does not stop the instance: the failure is logged and the publish retried with backoff until it succeeds
 * or `stop()` is called (graceful degradation; the relay may be an external strfry that starts later). A
 * refusal that retrying cannot change (`blocked:`, `invalid:`, ...) is logged once as an error; `duplicate:`
 * counts as published.
 */
export class ProfilePublisher {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;

  constructor(private readonly options: ProfilePublisherOptions) {
    this.retryMs = options.retryMs ?? 2000;
    this.maxRetryMs = options.maxRetryMs ?? 60_000;
  }

  /**
   * Tries every profile once, in parallel; resolves with the names published now. Failed ones keep being
   * retried in the background.
   */
  async publishAll(items: readonly { name: string; event: NostrEvent; via: Publish }[]): Promise<string[]> {
    const results = await Promise.all(items.map((item) => this.attempt(item, this.retryMs)));
    return items.filter((_, i) => results[i]).map((item) => item.name);
  }

  private async attempt(
    item: { name: string; event: NostrEvent; via: Publish },
    delay: number,
  ): Promise<boolean> {
    if (this.stopped) return false;
    try {
      await item.via.publish(item.event);
      return true;
    } catch (err) {
      if (this.stopped) return false;
      const reason = errorMessage(err);
      if (reason.startsWith('duplicate:')) {
        this.options.logger.info(
          { agent: item.name, reason },
          'the relay already has this or a newer profile',
        );
        return true;
      }
      if (PERMANENT.some((p) => reason.startsWith(p))) {
        this.options.logger.error(
          { agent: item.name, reason },
          'the relay refuses the agent profile (kind 0); not retrying: check the relay policy (e.g. relay.acceptKinds)',
        );
        return false;
      }
      this.options.logger.warn(
        { agent: item.name, reason, retryInMs: delay },
        'could not publish the agent profile (kind 0); will retry',
      );
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.attempt(item, Math.min(delay * 2, this.maxRetryMs)).then((ok) => {
          if (ok)
            this.options.logger.info({ agent: item.name }, 'agent profile (kind 0) published after retry');
        });
      }, delay);
      timer.unref();
      this.timers.add(timer);
      return false;
    }
  }

  /** Stops retrying. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
