import { randomBytes } from 'node:crypto';
import type { NostrEvent } from '../core/nostr.ts';
import { withPrefix } from './messages.ts';
import { verifyEvent } from './verify.ts';

/**
 * NIP-42 on the relay side. The relay verifies the AUTH event's id and signature itself, then asks an
 * `AuthVerifier` (by default identity/nip42.ts `verifyAuthEvent`) whether it answers this connection's
 * challenge for this relay. `relayUrl` lists the URLs the relay accepts in the `relay` tag.
 */
export type AuthVerifier = (
  event: NostrEvent,
  context: { challenge: string; relayUrl: string | readonly string[]; nowSeconds: number },
) => { ok: true; pubkey: string } | { ok: false; reason: string };

export function newChallenge(): string {
  return randomBytes(16).toString('hex');
}

/** How many pubkeys one connection may authenticate (NIP-42 allows several). */
export const MAX_AUTHED_PUBKEYS = 16;

/**
 * One connection's `["AUTH", event]`: the event's id and signature, then `verifyAuth` (challenge, time, and
 * a `relay` tag naming one of `relayUrls`: the relay's configured URLs, never one the client supplied),
 * then the per-connection pubkey limit. The message is ready for the OK answer.
 */
export function checkAuth(
  event: NostrEvent,
  c: {
    challenge: string;
    relayUrls: readonly string[];
    authed: ReadonlySet<string>;
    verifyAuth: AuthVerifier;
    nowSeconds: number;
  },
): { ok: true; pubkey: string } | { ok: false; message: string } {
  const status = verifyEvent(event);
  if (status !== 'ok') {
    return { ok: false, message: `invalid: ${status === 'bad-id' ? 'bad event id' : 'bad signature'}` };
  }
  const r = c.verifyAuth(event, { challenge: c.challenge, relayUrl: c.relayUrls, nowSeconds: c.nowSeconds });
  if (!r.ok) return { ok: false, message: withPrefix(r.reason, 'invalid') };
  if (!c.authed.has(r.pubkey) && c.authed.size >= MAX_AUTHED_PUBKEYS) {
    return {
      ok: false,
      message: `restricted: at most ${MAX_AUTHED_PUBKEYS} authenticated pubkeys per connection`,
    };
  }
  return r;
}
