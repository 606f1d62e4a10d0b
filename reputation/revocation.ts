/**
 * Revoking a label with a NIP-09 deletion (kind 5): `["e", "<label id>"]` per label, `["k", "1985"]`. Only
 * the label's own author can revoke it: a deletion from any other key changes nothing (the book and the
 * scoring check the author; this module only reads the event). Pure.
 */
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import { isHex64 } from '../dvm/kinds.ts';
import { LABEL_KIND } from './labels.ts';

export const DELETION_KIND = 5;

export interface Revocation {
  id: string;
  /** Who deletes: counts only for the labels this key wrote. */
  author: string;
  /** The event ids named (`e` tags with 64 hex). */
  targets: string[];
}

/** Unsigned kind 5 deleting `labelIds` (the caller's own labels). */
export function buildRevocation(labelIds: readonly string[], createdAt: number, reason = ''): EventTemplate {
  if (labelIds.length === 0 || !labelIds.every(isHex64)) {
    throw new TypeError('a revocation names one or more 64-hex label ids');
  }
  return {
    kind: DELETION_KIND,
    created_at: createdAt,
    tags: [...labelIds.map((id) => ['e', id]), ['k', String(LABEL_KIND)]],
    content: reason,
  };
}

/** The targets of a kind 5, or undefined when it is not a deletion or names no event. */
export function parseRevocation(event: NostrEvent): Revocation | undefined {
  if (event.kind !== DELETION_KIND || !isHex64(event.pubkey) || !Array.isArray(event.tags)) return undefined;
  const targets = [
    ...new Set(
      event.tags.filter((t) => Array.isArray(t) && t[0] === 'e' && isHex64(t[1])).map((t) => t[1] as string),
    ),
  ];
  return targets.length === 0 ? undefined : { id: event.id, author: event.pubkey, targets };
}
