import type { Clock } from '../core/clock.ts';
import type { EventStore } from '../core/event-store.ts';
import type { Logger } from '../core/logger.ts';
import type { ReadAccess } from './access.ts';
import type { AuthVerifier } from './auth.ts';
import type { Sub } from './connection.ts';
import type { Ingest } from './ingest.ts';
import type { RelayLimits } from './limits.ts';
import { prefixOf } from './messages.ts';
import type { AuthMode } from './policies.ts';
import type { SubscriptionIndex } from './subscriptions.ts';

export interface RelayCounters {
  received: number;
  stored: number;
  rejected: number;
  /** Rejections by their NIP-01 prefix (`invalid`, `rate-limited`, …; `other` for any other). */
  rejectedBy: Map<string, number>;
}

/** Counts one `OK false`, under its message's NIP-01 prefix (a bounded set of names). */
export function countRejected(counters: RelayCounters, message: string): void {
  counters.rejected++;
  const reason = prefixOf(message) ?? 'other';
  counters.rejectedBy.set(reason, (counters.rejectedBy.get(reason) ?? 0) + 1);
}

/** What every connection shares: the relay's collaborators, settings and counters. */
export interface RelayContext {
  readonly store: EventStore;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly limits: RelayLimits;
  readonly auth: AuthMode;
  readonly access: ReadAccess;
  readonly ingest: Ingest;
  readonly verifyAuth: AuthVerifier;
  /** Authenticated keys exempt from the per-connection rate limit (RelayServerOptions.unlimited). */
  readonly unlimited: (pubkey: string) => boolean;
  readonly live: SubscriptionIndex<Sub>;
  /** How long a stored answer waits for a client that reads nothing before it is given up. */
  readonly slowReaderTimeoutMs: number;
  readonly counters: RelayCounters;
  closing(): boolean;
}
