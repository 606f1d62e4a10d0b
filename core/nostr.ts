/** Nostr wire types shared by every folder. The shapes are nostr-tools' own, re-exported so modules depend on core/. */
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

/** First value of the first tag named `name`, if any. */
export function tagValue(tags: readonly (readonly string[])[], name: string): string | undefined {
  for (const t of tags) if (t[0] === name) return t[1];
  return undefined;
}
