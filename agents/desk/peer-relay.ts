import type { Logger } from '../../core/logger.ts';
import type { Filter, NostrEvent } from '../../core/nostr.ts';
import type { Subscribe, Subscription } from '../../core/transport.ts';
import { DESK_D_TAG } from '../../dvm/desk-announcement.ts';
import { DVM_HEARTBEAT_KIND } from '../../dvm/dvm-heartbeat.ts';
import { HANDLER_INFO_KIND, HEARTBEAT_KIND } from '../../dvm/kinds.ts';
import type { PeerBook } from './peer-book.ts';

/** One connection to a peer relay (a RelayClient): read-only here, closed with the directory. */
export interface PeerConnection extends Subscribe {
  close(): void;
}

/**
 * `connecting`: asked, no answer yet; `open`: the relay answered (EOSE); `unreachable`: the connection failed
 * or the relay closed a subscription, a retry is scheduled; `stopped`.
 */
export type PeerRelayState = 'connecting' | 'open' | 'unreachable' | 'stopped';

export interface PeerRelayStatus {
  url: string;
  state: PeerRelayState;
  /** Every stored query of the current subscriptions answered (desks, then their agents). */
  answered: boolean;
  /** Why it is unreachable. */
  error?: string;
  /** Failures in a row (0 once it answers again). */
  failures: number;
}

export interface PeerRelayOptions {
  url: string;
  connection: PeerConnection;
  book: PeerBook;
  /** Desk authors to ask the relay for; empty: any. */
  trusted: readonly string[];
  logger: Logger;
  maxDesks: number;
  maxAgents: number;
  /** First retry after a failure; doubles up to `maxRetryMs`. */
  retryMs: number;
  maxRetryMs: number;
  /** Called when what the book holds, or the relay's state, changed. */
  changed: () => void;
}

/** A live change of a desk's roster resubscribes after this, so a burst of announcements costs one. */
const RESUBSCRIBE_DELAY_MS = 50;

/**
 * Follows one peer relay for the peer directory: the desk announcements (trusted authors when a list is
 * given), then the announced agents' NIP-89 announcements and heartbeats, live (20600) and stored (11998)
 * (resubscribed when a roster
 * changes). Never throws and never stalls its caller: a failed connection or a subscription the relay closes
 * is logged, and everything is asked again after a backoff. A connection lost later is reconnected by the
 * RelayClient itself (resubscribing); meanwhile the agents' heartbeats lapse.
 */
export class PeerRelay {
  private deskSub: Subscription | undefined;
  private agentSub: Subscription | undefined;
  private deskAnswered = false;
  private agentsAnswered = false;
  private state: PeerRelayState = 'connecting';
  private error: string | undefined;
  private failures = 0;
  /** Bumped on each (re)subscription, so a late callback of an abandoned one is ignored. */
  private generation = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private resubscribeTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly options: PeerRelayOptions) {
    this.log = options.logger.child({ peerRelay: options.url });
  }

  start(): void {
    if (this.state === 'stopped' || this.deskSub) return;
    this.open();
  }

  stop(): void {
    this.state = 'stopped';
    this.generation++;
    clearTimeout(this.retryTimer);
    clearTimeout(this.resubscribeTimer);
    this.deskSub?.close();
    this.agentSub?.close();
    this.deskSub = undefined;
    this.agentSub = undefined;
    this.options.connection.close();
  }

  status(): PeerRelayStatus {
    return {
      url: this.options.url,
      state: this.state,
      answered: this.deskAnswered && this.agentsAnswered,
      ...(this.error !== undefined ? { error: this.error } : {}),
      failures: this.failures,
    };
  }

  private open(): void {
    const gen = ++this.generation;
    this.deskAnswered = false;
    this.agentsAnswered = false;
    const filter: Filter = { kinds: [HANDLER_INFO_KIND], '#d': [DESK_D_TAG], limit: this.options.maxDesks };
    if (this.options.trusted.length > 0) filter.authors = [...this.options.trusted];
    this.deskSub = this.options.connection.subscribe([filter], {
      onEvent: (e) => this.onEvent(gen, e),
      onEose: () => {
        if (gen !== this.generation) return;
        this.deskAnswered = true;
        if (this.state !== 'open') this.log.info({ after: this.failures }, 'peer relay answered');
        this.state = 'open';
        this.error = undefined;
        this.failures = 0;
        this.followAgents();
      },
      onClose: (reason) => this.failed(gen, reason),
    });
  }

  /** (Re)subscribes to the followed agents' announcements and heartbeats. */
  private followAgents(): void {
    const gen = this.generation;
    clearTimeout(this.resubscribeTimer);
    this.agentSub?.close();
    this.agentSub = undefined;
    const authors = this.options.book.agentPubkeys();
    this.agentsAnswered = authors.length === 0;
    if (authors.length > 0)
      this.agentSub = this.options.connection.subscribe(
        [
          { kinds: [HANDLER_INFO_KIND], authors, limit: authors.length * 4 },
          { kinds: [HEARTBEAT_KIND, DVM_HEARTBEAT_KIND], authors },
        ],
        {
          onEvent: (e) => this.onEvent(gen, e),
          onEose: () => {
            if (gen !== this.generation) return;
            this.agentsAnswered = true;
            this.options.changed();
          },
          onClose: (reason) => this.failed(gen, reason),
        },
      );
    this.options.changed();
  }

  private onEvent(gen: number, event: NostrEvent): void {
    if (gen !== this.generation) return;
    const change = this.options.book.apply(event);
    if (change === 'unchanged') return;
    if (change === 'roster' && this.deskAnswered) {
      // Agents of the new roster are not asked for until the resubscription.
      this.agentsAnswered = false;
      clearTimeout(this.resubscribeTimer);
      this.resubscribeTimer = setTimeout(() => {
        if (gen === this.generation) this.followAgents();
      }, RESUBSCRIBE_DELAY_MS);
      this.resubscribeTimer.unref();
    }
    this.options.changed();
  }

  private failed(gen: number, reason: string): void {
    if (gen !== this.generation || this.state === 'stopped') return;
    this.generation++;
    clearTimeout(this.resubscribeTimer);
    this.deskSub?.close();
    this.agentSub?.close();
    this.deskSub = undefined;
    this.agentSub = undefined;
    this.failures++;
    this.state = 'unreachable';
    this.error = reason || 'closed';
    this.deskAnswered = false;
    this.agentsAnswered = false;
    const delay = Math.min(
      this.options.retryMs * 2 ** Math.min(this.failures - 1, 20),
      this.options.maxRetryMs,
    );
    const fields = { reason: this.error, failures: this.failures, retryInMs: delay };
    if (this.failures === 1) this.log.warn(fields, 'peer relay unreachable; will retry');
    else this.log.debug(fields, 'peer relay still unreachable');
    this.retryTimer = setTimeout(() => {
      if (this.state !== 'stopped') this.open();
    }, delay);
    this.retryTimer.unref();
    this.options.changed();
  }
}
