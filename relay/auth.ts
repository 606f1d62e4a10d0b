import { randomBytes } from 'node:crypto';
import type { NostrEvent } from '../core/nostr.ts';

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
