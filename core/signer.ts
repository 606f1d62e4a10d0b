import type { EventTemplate, NostrEvent } from './nostr.ts';

/**
 * Something that can sign Nostr events for one pubkey: a local key (identity/signer.ts), and later a
 * NIP-07 browser extension or a remote signer. Modules take a Signer, never a raw secret key.
 */
export interface Signer {
  /** Hex public key. */
  getPublicKey(): Promise<string>;
  signEvent(template: EventTemplate): Promise<NostrEvent>;
}
