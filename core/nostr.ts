/** Nostr wire types shared by every folder. The shapes are nostr-tools' own, re-exported so modules depend on core/. */
import type { Event as NostrEvent } from 'nostr-tools';

export type { Event as NostrEvent, EventTemplate, Filter, UnsignedEvent } from 'nostr-tools';

/** NIP-01 kind classes. */
export function isReplaceableKind(kind: number): boolean {
  return kind === 0 || kind === 3 || (kind >= 10000 && kind < 20000);
}
export function isEphemeralKind(kind: number): boolean {
  return kind >= 20000 && kind < 30000;
}
export function isAddressableKind(kind: number): boolean {
  return kind >= 30000 && kind < 40000;
}

/**
 * The event's seven NIP-01 fields as a plain object, in the NIP-01 order: drops whatever else an object
 * carries (nostr-tools marks the events it signs or verifies with a symbol; a store returns plain JSON).
 */
export function plainEvent(e: NostrEvent): NostrEvent {
  return {
    id: e.id,
    pubkey: e.pubkey,
    created_at: e.created_at,
    kind: e.kind,
    tags: e.tags,
    content: e.content,
    sig: e.sig,
  };
}

/** First value of the first tag named `name`, if any. */
export function tagValue(tags: readonly (readonly string[])[], name: string): string | undefined {
  for (const t of tags) if (t[0] === name) return t[1];
  return undefined;
}
