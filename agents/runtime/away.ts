/**
 * An agent's work for the desks of a peer relay (docs/federation.md, "How an agent works for a peer's desk").
 * On a peer relay an agent follows the desk announcements (kind 31990 with d = `timmy-desk`); for each desk
 * announced there that it may work for (not its own desk, and trusted: `federation.trustedDesks`), it runs one
 * more runtime — an AgentRuntime bound to that desk and that relay, over its own part of the work log
 * (`WorkLog.forAway`) — which bids, works and beats on that relay as the agent does at home. A desk that
 * deletes its announcement (NIP-09), or that the trust check drops (`refresh`), has its runtime stopped.
 * Only the desks in this set are honoured: every runtime follows one desk's events (authors = that desk).
 */
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { Subscribe, Subscription } from '../../core/transport.ts';
import { DESK_D_TAG, isDeskAnnouncement, parseDeskAnnouncement } from '../../dvm/desk-announcement.ts';
import { HANDLER_INFO_KIND } from '../../dvm/kinds.ts';

const DELETION_KIND = 5;

/** What AwayWork starts and stops per desk (an AgentRuntime). */
export interface AwayRuntime {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** May the agent work for this desk announced on this relay? */
export type TrustedDesk = (desk: string, relayUrl: string) => boolean;

export interface AwayWorkOptions {
  /** The agent's name (logs) and pubkey. */
  agent: string;
  pubkey: string;
  /** Its home desk: never worked for as a peer's. */
  homeDesk: string;
  /** The agent's own connection to the peer relay. */
  relay: Subscribe;
  relayUrl: string;
  /** Default: every desk announced on the relay. */
  trusted?: TrustedDesk;
  /** The runtime that works for `desk` on this relay. */
  runtimeFor(desk: string): AwayRuntime;
  logger: Logger;
}

interface Working {
  runtime: AwayRuntime;
  /** Settles once the runtime started (or failed to). */
  ready: Promise<boolean>;
}

export class AwayWork {
  private readonly log: Logger;
  private sub: Subscription | undefined;
  /** Desks announced on the relay: their announcement's id and date. */
  private readonly announced = new Map<string, { id: string; at: number }>();
  private readonly working = new Map<string, Working>();
  /** Runtimes stopping, per desk: a desk that comes back waits for its last runtime to be gone. */
  private readonly stopping = new Map<string, Promise<void>>();
  private stopped = false;
  private retryMs = 1000;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AwayWorkOptions) {
    this.log = options.logger.child({ agent: options.agent, peer: options.relayUrl });
  }

  /** The desks it works for now. */
  desks(): string[] {
    return [...this.working.keys()];
  }

  /**
   * Follows the desk announcements of the peer relay. A relay that is down (a peer started later, or
   * restarting) is asked again with backoff: 1 s doubling up to a minute.
   */
  start(): void {
    if (this.stopped) return;
    this.sub?.close();
    this.sub = this.options.relay.subscribe(
      [
        { kinds: [HANDLER_INFO_KIND], '#d': [DESK_D_TAG] },
        { kinds: [DELETION_KIND], '#k': [String(HANDLER_INFO_KIND)] },
      ],
      {
        onEvent: (e) => {
          this.retryMs = 1000;
          this.onEvent(e);
        },
        onEose: () => {
          this.retryMs = 1000;
        },
        onClose: (reason) => {
          if (this.stopped) return;
          this.log.warn({ reason, retryInMs: this.retryMs }, 'peer desk subscription closed; will retry');
          clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => this.start(), this.retryMs);
          this.retryTimer.unref();
          this.retryMs = Math.min(60_000, this.retryMs * 2);
        },
      },
    );
  }

  /** Checks every announced desk against the trust check again: starts the newly trusted, stops the others. */
  refresh(): void {
    for (const desk of this.announced.keys()) this.reconcile(desk);
    for (const desk of this.working.keys()) if (!this.announced.has(desk)) this.reconcile(desk);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.sub?.close();
    for (const desk of [...this.working.keys()]) this.leave(desk);
    await Promise.all([...this.stopping.values()]);
  }

  private onEvent(e: NostrEvent): void {
    if (isDeskAnnouncement(e)) {
      try {
        parseDeskAnnouncement(e);
      } catch (err) {
        this.log.debug({ desk: e.pubkey, err: errorMessage(err) }, 'ignoring a malformed desk announcement');
        return;
      }
      const known = this.announced.get(e.pubkey);
      if (known && known.at > e.created_at) return;
      this.announced.set(e.pubkey, { id: e.id, at: e.created_at });
      this.reconcile(e.pubkey);
      return;
    }
    if (e.kind !== DELETION_KIND) return;
    const known = this.announced.get(e.pubkey);
    if (!known || e.created_at < known.at) return;
    const address = `${HANDLER_INFO_KIND}:${e.pubkey}:${DESK_D_TAG}`;
    if (!e.tags.some((t) => (t[0] === 'a' && t[1] === address) || (t[0] === 'e' && t[1] === known.id)))
      return;
    this.announced.delete(e.pubkey);
    this.log.info({ desk: e.pubkey }, 'a peer desk withdrew its announcement');
    this.reconcile(e.pubkey);
  }

  private wanted(desk: string): boolean {
    const o = this.options;
    return (
      !this.stopped &&
      this.announced.has(desk) &&
      desk !== o.homeDesk &&
      desk !== o.pubkey &&
      (o.trusted?.(desk, o.relayUrl) ?? true)
    );
  }

  private reconcile(desk: string): void {
    const want = this.wanted(desk);
    if (want && !this.working.has(desk)) this.join(desk);
    else if (!want && this.working.has(desk)) this.leave(desk);
  }

  private join(desk: string): void {
    let runtime: AwayRuntime;
    try {
      runtime = this.options.runtimeFor(desk);
    } catch (err) {
      this.log.error({ desk, err: errorMessage(err) }, 'cannot work for a peer desk');
      return;
    }
    const previous = this.stopping.get(desk) ?? Promise.resolve();
    const ready = previous
      .then(() => runtime.start())
      .then(
        () => {
          this.log.info({ desk }, 'working for a peer desk');
          return true;
        },
        (err: unknown) => {
          this.log.error({ desk, err: errorMessage(err) }, 'could not start working for a peer desk');
          if (this.working.get(desk)?.runtime === runtime) this.working.delete(desk);
          return false;
        },
      );
    this.working.set(desk, { runtime, ready });
  }

  private leave(desk: string): void {
    const w = this.working.get(desk);
    if (!w) return;
    this.working.delete(desk);
    const done: Promise<void> = w.ready
      .then(async (started) => {
        if (started) await w.runtime.stop();
        this.log.info({ desk }, 'no longer working for a peer desk');
      })
      .catch((err: unknown) =>
        this.log.warn({ desk, err: errorMessage(err) }, 'stopping a peer desk runtime failed'),
      )
      .finally(() => {
        if (this.stopping.get(desk) === done) this.stopping.delete(desk);
      });
    this.stopping.set(desk, done);
  }
}
