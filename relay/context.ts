import type { Clock } from '../core/clock.ts';
import type { EventStore } from '../core/event-store.ts';
import type { Logger } from '../core/logger.ts';
import type { ReadAccess } from './access.ts';
import type { AuthVerifier } from './auth.ts';
import type { Sub } from './connection.ts';
import type { Ingest } from './ingest.ts';
import type { RelayLimits } from './limits.ts';
import type { AuthMode } from './policies.ts';
import type { SubscriptionIndex } from './subscriptions.ts';

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
  readonly live: SubscriptionIndex<Sub>;
  /** How long a stored answer waits for a client that reads nothing before it is given up. */
  readonly slowReaderTimeoutMs: number;
  readonly counters: { received: number; stored: number; rejected: number };
  closing(): boolean;
}
