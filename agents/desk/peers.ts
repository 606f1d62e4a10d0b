import { normalizeURL } from 'nostr-tools/utils';
import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { type PeerAgent, PeerBook, type PeerDesk } from './peer-book.ts';
import { type PeerConnection, PeerRelay, type PeerRelayStatus } from './peer-relay.ts';

export type { PeerAgent, PeerDesk } from './peer-book.ts';
export type { PeerConnection, PeerRelayState, PeerRelayStatus } from './peer-relay.ts';

export interface PeerDirectoryOptions {
  /**
   * The peer relays at start (federation.peers and those added from the dashboard): ws:// or wss:// URLs;
   * repeats are followed once. `add` and `remove` change the set at run time.
   */
  peers: readonly string[];
  /** Makes the one connection of each peer relay (a RelayClient; tests and the CLI choose). */
  connect: (url: string) => PeerConnection;
  /** This instance's desk pubkey (hex): its own announcement on a peer relay is skipped. */
  self?: string;
  /** federation.trustedDesks as hex pubkeys: when not empty, only these desks are followed. */
  trustedDesks?: readonly string[];
  clock: Clock;
  logger: Logger;
  /** A peer agent is alive within this of its last heartbeat (dvm.agentTimeoutMs). */
  agentTimeoutMs: number;
  /** Bounds per peer relay (default 1,000 each). */
  maxDesksPerRelay?: number;
  maxAgentsPerRelay?: number;
  /** An event with more tags is ignored (default 2,100: a desk of 1,000 agents serving 1,000 kinds). */
  maxTags?: number;
  /** First retry after a peer relay failed (default 1 s), doubling up to `maxRetryMs` (default 60 s). */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * The desk's view of its peers (docs/federation.md): for each peer relay, the desks announced there and
 * their agents — kinds and prices from their NIP-89 announcements, alive from their heartbeats within
 * `agentTimeoutMs` (read at each call, so a lapse needs no event). One connection per peer relay, read-only;
 * a relay that is down or dies later is retried with backoff and never stops the others. An agent listed on
 * two peer relays appears once per relay.
 */
export class PeerDirectory {
  private readonly relays = new Map<string, { book: PeerBook; follower: PeerRelay }>();
  private readonly listeners = new Set<() => void>();
  private started = false;

  constructor(private readonly options: PeerDirectoryOptions) {}

  /** Connects to every peer relay and starts following; idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const url of this.options.peers) this.follow(url);
    for (const { follower } of this.relays.values()) follower.start();
    const peers = [...this.relays.values()].map((r) => r.follower.status().url);
    if (peers.length > 0) this.options.logger.info({ peers }, 'following peer relays');
    else this.options.logger.debug({ peers }, 'following peer relays');
  }

  /**
   * Follows one more peer relay at run time (a peer added from the dashboard): its own connection, its own
   * book; followed at once when the directory has started. False when it is followed already.
   */
  add(url: string): boolean {
    const added = this.follow(url);
    if (!added) return false;
    if (this.started) added.start();
    this.options.logger.info({ peerRelay: url }, 'following a peer relay added at run time');
    this.emit();
    return true;
  }

  /**
   * Stops following a peer relay (removed from the dashboard): its connection is closed, and its desks and
   * agents leave the directory, so the listeners (the roster) drop them. False when it was not followed.
   */
  remove(url: string): boolean {
    const key = normalizedRelayUrl(url);
    const relay = this.relays.get(key);
    if (!relay) return false;
    this.relays.delete(key);
    relay.follower.stop();
    this.options.logger.info({ peerRelay: relay.follower.status().url }, 'no longer following a peer relay');
    this.emit();
    return true;
  }

  /** Whether `url` (normalized) is one of the relays followed. */
  has(url: string): boolean {
    return this.relays.has(normalizedRelayUrl(url));
  }

  /** The book and follower of one more relay; undefined when it is there already. */
  private follow(url: string): PeerRelay | undefined {
    const key = normalizedRelayUrl(url);
    if (this.relays.has(key)) return undefined;
    const o = this.options;
    const trusted = [...new Set(o.trustedDesks ?? [])];
    const maxDesks = o.maxDesksPerRelay ?? 1000;
    const maxAgents = o.maxAgentsPerRelay ?? 1000;
    const book = new PeerBook({
      relay: url,
      self: o.self,
      trusted: new Set(trusted),
      clock: o.clock,
      logger: o.logger,
      agentTimeoutMs: o.agentTimeoutMs,
      maxDesks,
      maxAgents,
      maxTags: o.maxTags ?? 2100,
    });
    const follower: PeerRelay = new PeerRelay({
      url,
      connection: connectOrFail(o.connect, url),
      book,
      trusted,
      logger: o.logger,
      maxDesks,
      maxAgents,
      retryMs: o.retryMs ?? 1000,
      maxRetryMs: o.maxRetryMs ?? 60_000,
      // A removed relay's late callbacks change nothing the listeners see.
      changed: () => {
        if (this.relays.get(key)?.follower === follower) this.emit();
      },
    });
    this.relays.set(key, { book, follower });
    return follower;
  }

  /** Closes every connection; the directory keeps what it learnt. */
  stop(): void {
    for (const { follower } of this.relays.values()) follower.stop();
    this.listeners.clear();
  }

  desks(): PeerDesk[] {
    return [...this.relays.values()].flatMap((r) => r.book.desks());
  }

  agents(): PeerAgent[] {
    return [...this.relays.values()].flatMap((r) => r.book.agents());
  }

  relayStatus(): PeerRelayStatus[] {
    return [...this.relays.values()].map((r) => r.follower.status());
  }

  /** Every peer relay has answered its stored queries, or is unreachable. */
  settled(): boolean {
    return this.relayStatus().every((s) => s.answered || s.state === 'unreachable');
  }

  /** Calls `fn` when a desk or an agent is added, changed or revived, or a relay's state changes; returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) {
      try {
        fn();
      } catch (err) {
        this.options.logger.error({ err: errorMessage(err) }, 'a peer directory listener failed');
      }
    }
  }
}

/** The factory's connection; when it throws (a URL it cannot use), one whose every subscription fails. */
function connectOrFail(connect: (url: string) => PeerConnection, url: string): PeerConnection {
  try {
    return connect(url);
  } catch (err) {
    const reason = `error: ${errorMessage(err)}`;
    return {
      subscribe: (_filters, handlers) => {
        queueMicrotask(() => handlers.onClose?.(reason));
        return { close: () => {} };
      },
      query: () => Promise.reject(new Error(reason)),
      close: () => {},
    };
  }
}

/** A relay URL as the directory keys it (nostr-tools' normalizeURL; the URL itself when it cannot). */
export function normalizedRelayUrl(url: string): string {
  try {
    return normalizeURL(url);
  } catch {
    return url;
  }
}
