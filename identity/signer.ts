import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import * as nip44 from 'nostr-tools/nip44';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import type { PeerCipher, Signer } from '../core/signer.ts';

/** Peers whose NIP-44 conversation key a signer keeps (a wallet service's clients, an agent's customers). */
const CONVERSATION_KEYS = 1024;

import { encodeNpub, parseSecretKey } from './nip19.ts';

/** BIP-340 signing on bcrypto's native libsecp256k1 (about 60x nostr-tools' pure-JS signing here). */
const schnorr = createRequire(import.meta.url)('bcrypto/lib/schnorr') as {
  sign(msg: Buffer, key: Buffer): Buffer;
};

/** ECDH on bcrypto's native libsecp256k1 (NIP-04's shared secret: ~0.05 ms, nostr-tools' pure JS ~3 ms here). */
const secp256k1 = createRequire(import.meta.url)('bcrypto/lib/secp256k1') as {
  derive(pub: Buffer, priv: Buffer, compress?: boolean): Buffer;
};

/**
 * A Signer holding a secret key in memory. The key lives in a private field: it is not enumerable, so it
 * never shows in JSON.stringify, util.inspect or a structured log line, and there is no getter for it.
 */
export class LocalSigner implements Signer {
  readonly #secretKey: Uint8Array;
  /** Hex public key. */
  readonly pubkey: string;
  readonly npub: string;

  /** Takes a copy of `secretKey` (32 bytes, a valid secp256k1 scalar); the caller may zero its own. */
  constructor(secretKey: Uint8Array) {
    if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
      throw new TypeError('LocalSigner: the secret key must be 32 bytes');
    }
    this.#secretKey = Uint8Array.from(secretKey);
    try {
      this.pubkey = getPublicKey(this.#secretKey);
    } catch {
      // zero, or not below the curve order
      this.#secretKey.fill(0);
      throw new TypeError('LocalSigner: the secret key is not a valid secp256k1 secret key');
    }
    this.npub = encodeNpub(this.pubkey);
  }

  /** From an nsec or 64 hex characters (what `timmy keys import` accepts). */
  static fromSecret(nsecOrHex: string): LocalSigner {
    const key = parseSecretKey(nsecOrHex);
    try {
      return new LocalSigner(key);
    } finally {
      key.fill(0);
    }
  }

  async getPublicKey(): Promise<string> {
    return this.pubkey;
  }

  /** Signs a copy of the template: NIP-01 id (sha256 of the serialisation), BIP-340 signature with fresh aux randomness. */
  async signEvent(template: EventTemplate): Promise<NostrEvent> {
    const unsigned = {
      kind: template.kind,
      created_at: template.created_at,
      tags: template.tags.map((t) => [...t]),
      content: template.content,
      pubkey: this.pubkey,
    };
    const hash = createHash('sha256')
      .update(
        JSON.stringify([
          0,
          unsigned.pubkey,
          unsigned.created_at,
          unsigned.kind,
          unsigned.tags,
          unsigned.content,
        ]),
      )
      .digest();
    const sig = schnorr.sign(hash, Buffer.from(this.#secretKey));
    return { ...unsigned, id: hash.toString('hex'), sig: sig.toString('hex') };
  }

  /** NIP-44 conversation keys by peer (an ECDH each: ~1 ms), the most recently used CONVERSATION_KEYS kept. */
  readonly #conversations = new Map<string, Uint8Array>();
  /** NIP-04 shared secrets by peer (the ECDH point's x), kept the same way. */
  readonly #nip04Keys = new Map<string, Uint8Array>();

  #conversationKey(peer: string): Uint8Array {
    return remembered(this.#conversations, peer, () =>
      nip44.v2.utils.getConversationKey(this.#secretKey, peer),
    );
  }

  #nip04Key(peer: string): Uint8Array {
    return remembered(this.#nip04Keys, peer, () => {
      if (!/^[0-9a-f]{64}$/i.test(peer)) throw new Error('NIP-04: the peer must be a 64-hex public key');
      const point = secp256k1.derive(Buffer.from(`02${peer}`, 'hex'), Buffer.from(this.#secretKey), true);
      return Uint8Array.from(point.subarray(1, 33));
    });
  }

  readonly nip44: PeerCipher = {
    encrypt: async (peer, plaintext) => nip44.v2.encrypt(plaintext, this.#conversationKey(peer)),
    decrypt: async (peer, ciphertext) => nip44.v2.decrypt(ciphertext, this.#conversationKey(peer)),
  };

  /** NIP-04: AES-256-CBC under the shared x coordinate, `base64(ciphertext)?iv=base64(iv)`. */
  readonly nip04: PeerCipher = {
    encrypt: async (peer, plaintext) => {
      const iv = randomBytes(16);
      const cipher = createCipheriv('aes-256-cbc', this.#nip04Key(peer), iv);
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${ct.toString('base64')}?iv=${iv.toString('base64')}`;
    },
    decrypt: async (peer, ciphertext) => {
      const [ct, ivB64, ...rest] = ciphertext.split('?iv=');
      const iv = Buffer.from(ivB64 ?? '', 'base64');
      if (!ct || iv.length !== 16 || rest.length > 0)
        throw new Error('NIP-04: not base64(ciphertext)?iv=base64(iv)');
      const decipher = createDecipheriv('aes-256-cbc', this.#nip04Key(peer), iv);
      return Buffer.concat([decipher.update(ct, 'base64'), decipher.final()]).toString('utf8');
    },
  };

  toJSON(): { pubkey: string } {
    return { pubkey: this.pubkey };
  }
}

/** The value kept for `peer`, derived and kept now if it is not (the CONVERSATION_KEYS most recently used). */
function remembered(keys: Map<string, Uint8Array>, peer: string, derive: () => Uint8Array): Uint8Array {
  let key = keys.get(peer);
  if (key) {
    keys.delete(peer);
  } else {
    key = derive();
    if (keys.size >= CONVERSATION_KEYS) {
      const oldest = keys.keys().next();
      if (!oldest.done) keys.delete(oldest.value);
    }
  }
  keys.set(peer, key);
  return key;
}

/** A LocalSigner with a fresh random key. */
export function generateLocalSigner(): LocalSigner {
  const key = generateSecretKey();
  try {
    return new LocalSigner(key);
  } finally {
    key.fill(0);
  }
}
