/**
 * core/signer.ts `Signer` over a NIP-07 browser extension (`window.nostr`): the key stays in the extension.
 * NIP-44 and NIP-04 are used when the extension offers them; otherwise they fail with a clear error. Every
 * signed event is checked (signature, and that it is the extension's pubkey) before it is used.
 */
import { verifyEvent } from 'nostr-tools/pure';
import type { EventTemplate, NostrEvent } from '../../core/nostr.ts';
import type { PeerCipher, Signer } from '../../core/signer.ts';

interface Nip07Cipher {
  encrypt(pubkey: string, plaintext: string): Promise<string>;
  decrypt(pubkey: string, ciphertext: string): Promise<string>;
}

/** What a NIP-07 extension offers (nip04/nip44 optional). */
export interface Nip07 {
  getPublicKey(): Promise<string>;
  signEvent(template: EventTemplate): Promise<NostrEvent>;
  nip04?: Nip07Cipher;
  nip44?: Nip07Cipher;
}

/** The page's NIP-07 extension, when one is installed. */
export function findNip07(): Nip07 | undefined {
  const n = (globalThis as { nostr?: Partial<Nip07> }).nostr;
  return n && typeof n.getPublicKey === 'function' && typeof n.signEvent === 'function'
    ? (n as Nip07)
    : undefined;
}

export class Nip07Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Nip07Error';
  }
}

function cipher(ext: Nip07, name: 'nip04' | 'nip44'): PeerCipher {
  const missing = (): never => {
    throw new Nip07Error(`the NIP-07 extension does not offer ${name} encryption`);
  };
  return {
    encrypt: async (pubkey, plaintext) => {
      const c = ext[name] ?? missing();
      return c.encrypt(pubkey, plaintext);
    },
    decrypt: async (pubkey, ciphertext) => {
      const c = ext[name] ?? missing();
      return c.decrypt(pubkey, ciphertext);
    },
  };
}

export class Nip07Signer implements Signer {
  readonly nip44: PeerCipher;
  readonly nip04: PeerCipher;
  private pubkey: string | undefined;

  constructor(private readonly ext: Nip07) {
    this.nip44 = cipher(ext, 'nip44');
    this.nip04 = cipher(ext, 'nip04');
  }

  /** The signer over the page's extension, or undefined when there is none. */
  static fromWindow(): Nip07Signer | undefined {
    const ext = findNip07();
    return ext ? new Nip07Signer(ext) : undefined;
  }

  async getPublicKey(): Promise<string> {
    if (!this.pubkey) {
      const pk = await this.ext.getPublicKey();
      if (!/^[0-9a-f]{64}$/.test(pk)) throw new Nip07Error('the NIP-07 extension gave no valid public key');
      this.pubkey = pk;
    }
    return this.pubkey;
  }

  async signEvent(template: EventTemplate): Promise<NostrEvent> {
    const pubkey = await this.getPublicKey();
    let event: NostrEvent;
    try {
      event = await this.ext.signEvent({
        kind: template.kind,
        created_at: template.created_at,
        tags: template.tags,
        content: template.content,
      });
    } catch (err) {
      throw new Nip07Error(
        `the NIP-07 extension did not sign: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (!event || event.pubkey !== pubkey || !verifyEvent(event))
      throw new Nip07Error('the NIP-07 extension returned an event that is not validly signed by its key');
    return event;
  }
}
