import type { EventTemplate, NostrEvent } from './nostr.ts';

/** Encryption to and from one peer pubkey, shaped like NIP-07's `window.nostr.nip44` / `nip04`. */
export interface PeerCipher {
  encrypt(peerPubkey: string, plaintext: string): Promise<string>;
  /** Throws when the payload is malformed or was not encrypted for this key. */
  decrypt(peerPubkey: string, ciphertext: string): Promise<string>;
}

/**
 * Something that can sign Nostr events for one pubkey: a local key (identity/signer.ts), and later a
 * NIP-07 browser extension or a remote signer. Modules take a Signer, never a raw secret key.
 */
export interface Signer {
  /** Hex public key. */
  getPublicKey(): Promise<string>;
  signEvent(template: EventTemplate): Promise<NostrEvent>;
  /** NIP-44 v2 (what this project writes). */
  readonly nip44: PeerCipher;
  /** NIP-04 (read for interoperability: NIP-90 encrypted params use it in the spec). */
  readonly nip04: PeerCipher;
}
