import type { Filter, NostrEvent } from './nostr.ts';

/** Publishing to "a relay URL" (or several): the embedded relay and strfry look the same from here. */
export interface Publish {
  /** Resolves once at least one relay answered `OK true`; rejects with the relay's reason otherwise. */
  publish(event: NostrEvent): Promise<void>;
}

export interface SubscriptionHandlers {
  onEvent(event: NostrEvent): void;
  /** Stored events have all been delivered; live ones follow. */
  onEose?(): void;
  /** The relay closed the subscription (NIP-01 CLOSED), with its reason. */
  onClose?(reason: string): void;
}

export interface Subscription {
  close(): void;
}

export interface Subscribe {
  subscribe(filters: Filter[], handlers: SubscriptionHandlers): Subscription;
  /** Stored events matching `filters`, until EOSE (or the timeout). */
  query(filters: Filter[], options?: { timeoutMs?: number }): Promise<NostrEvent[]>;
}
