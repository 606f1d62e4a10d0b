import { ClientAuth } from 'nostr-tools/kinds';
import { makeAuthEvent } from 'nostr-tools/nip42';
import { prefixed } from '../core/errors.ts';
import type { EventTemplate } from '../core/nostr.ts';
import { tagValue } from '../core/nostr.ts';
import { checkEventSignature, parseEventShape } from './verify-event.ts';

/**
 * NIP-42 client authentication, the relay's side: checking the kind 22242 event a client sends in
 * `["AUTH", <event>]`. Reasons are ready for the `OK` message: `invalid: ...` for an event that is wrong
 * (shape, kind, relay, clock, signature), `auth-required: ...` when it answers another challenge than the
 * connection's current one (the client should authenticate again with the latest challenge).
 */

export type AuthVerification = { ok: true; pubkey: string } | { ok: false; reason: string };

export interface VerifyAuthOptions {
  /** The challenge this relay sent on this connection. */
  challenge: string;
  /** The relay's URL(s) as clients know it (e.g. the local and the public URL). */
  relayUrl: string | readonly string[];
  /** Default: the wall clock. */
  nowSeconds?: number;
  /** How far created_at may be from now, either way (default 600: NIP-42's "~10 minutes"). */
  maxAgeSeconds?: number;
}

/**
 * `scheme://host[:port]/path` with the host lowercased, default ports (80 for ws, 443 for wss) dropped,
 * trailing slashes, query and fragment removed; undefined when not a ws:// or wss:// URL.
 */
export function normalizeRelayUrl(url: string): string | undefined {
  if (typeof url !== 'string') return undefined;
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return undefined;
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return undefined;
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.protocol}//${u.host}${path}`;
}

export function verifyAuthEvent(event: unknown, options: VerifyAuthOptions): AuthVerification {
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const maxAge = options.maxAgeSeconds ?? 600;
  const fail = (prefix: 'invalid' | 'auth-required', detail: string): AuthVerification => ({
    ok: false,
    reason: prefixed(prefix, detail),
  });

  const shaped = parseEventShape(event);
  if (!shaped.ok) return fail('invalid', `malformed auth event: ${shaped.reason}`);
  const e = shaped.event;
  if (e.kind !== ClientAuth) return fail('invalid', `auth event must be kind ${ClientAuth}, not ${e.kind}`);
  if (Math.abs(e.created_at - now) > maxAge) {
    return fail('invalid', `auth event created_at is more than ${maxAge} seconds from now`);
  }

  const challenge = tagValue(e.tags, 'challenge');
  if (challenge === undefined) return fail('invalid', 'auth event has no "challenge" tag');
  if (challenge !== options.challenge) {
    return fail('auth-required', 'the challenge does not match; authenticate with the latest challenge');
  }

  const relayTag = tagValue(e.tags, 'relay');
  if (relayTag === undefined) return fail('invalid', 'auth event has no "relay" tag');
  const claimed = normalizeRelayUrl(relayTag);
  const accepted = (typeof options.relayUrl === 'string' ? [options.relayUrl] : options.relayUrl)
    .map(normalizeRelayUrl)
    .filter((u): u is string => u !== undefined);
  if (claimed === undefined || !accepted.includes(claimed)) {
    return fail('invalid', 'the "relay" tag does not match this relay\'s URL');
  }

  const bad = checkEventSignature(e);
  if (bad !== undefined) return fail('invalid', `auth event: ${bad}`);
  return { ok: true, pubkey: e.pubkey };
}

/** The kind 22242 template a client signs to answer `challenge` (nostr-tools' makeAuthEvent). */
export function authEventTemplate(
  relayUrl: string,
  challenge: string,
  createdAt = Math.floor(Date.now() / 1000),
): EventTemplate {
  return { ...makeAuthEvent(relayUrl, challenge), created_at: createdAt };
}
