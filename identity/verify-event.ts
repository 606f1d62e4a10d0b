import { getEventHash, verifyEvent } from 'nostr-tools/pure';
import type { NostrEvent } from '../core/nostr.ts';

/**
 * Checking an event that came from outside (a JSON-parsed value) in two steps, so callers can run their
 * cheap checks (kind, tags, clock) between them: `parseEventShape` (the NIP-01 fields and their types,
 * into a fresh object) and `checkEventSignature` (the id, then the schnorr signature). The signature is
 * checked on a fresh copy, so a result that nostr-tools cached on an object (its `verifiedSymbol`) is never
 * trusted: a signed event modified afterwards fails.
 */
export type EventCheck = { ok: true; event: NostrEvent } | { ok: false; reason: string };

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

export function parseEventShape(value: unknown): EventCheck {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'not an event object' };
  }
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string' || !HEX64.test(v.id))
    return { ok: false, reason: 'id is not 64 lowercase hex' };
  if (typeof v.pubkey !== 'string' || !HEX64.test(v.pubkey)) {
    return { ok: false, reason: 'pubkey is not 64 lowercase hex' };
  }
  if (typeof v.sig !== 'string' || !HEX128.test(v.sig)) {
    return { ok: false, reason: 'sig is not 128 lowercase hex' };
  }
  if (typeof v.kind !== 'number' || !Number.isInteger(v.kind) || v.kind < 0 || v.kind > 65535) {
    return { ok: false, reason: 'kind is not an integer between 0 and 65535' };
  }
  if (typeof v.created_at !== 'number' || !Number.isSafeInteger(v.created_at) || v.created_at < 0) {
    return { ok: false, reason: 'created_at is not a non-negative integer' };
  }
  if (typeof v.content !== 'string') return { ok: false, reason: 'content is not a string' };
  if (
    !Array.isArray(v.tags) ||
    !v.tags.every((t) => Array.isArray(t) && t.every((x) => typeof x === 'string'))
  ) {
    return { ok: false, reason: 'tags is not an array of string arrays' };
  }
  return {
    ok: true,
    event: {
      id: v.id,
      pubkey: v.pubkey,
      created_at: v.created_at,
      kind: v.kind,
      tags: (v.tags as string[][]).map((t) => [...t]),
      content: v.content,
      sig: v.sig,
    },
  };
}

/** undefined when the id and signature are right, else the reason. */
export function checkEventSignature(event: NostrEvent): string | undefined {
  if (getEventHash(event) !== event.id) return 'id does not match the event content';
  const copy: NostrEvent = {
    id: event.id,
    pubkey: event.pubkey,
    created_at: event.created_at,
    kind: event.kind,
    tags: event.tags,
    content: event.content,
    sig: event.sig,
  };
  return verifyEvent(copy) ? undefined : 'bad signature';
}

/** Both steps at once. */
export function checkSignedEvent(value: unknown): EventCheck {
  const shaped = parseEventShape(value);
  if (!shaped.ok) return shaped;
  const bad = checkEventSignature(shaped.event);
  return bad === undefined ? shaped : { ok: false, reason: bad };
}
