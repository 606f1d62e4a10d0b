/**
 * Node only: an NwcWallet's signing and verification on bcrypto's native libsecp256k1 (identity/signer.ts,
 * relay/verify.ts) instead of @getalby/sdk's pure JavaScript, which cost ~3-5 ms per signature and per
 * verified event here: several per paid job (the desk's hold invoice, each notification, the settlement; the
 * customer's payment). The browser bundle imports payments/nwc-wallet.ts without this file.
 */
import { hexToBytes } from 'nostr-tools/utils';
import { LocalSigner } from '../identity/signer.ts';
import { parseEventShape } from '../identity/verify-event.ts';
import { verifyEvent } from '../relay/verify.ts';
import type { NwcCrypto } from './nwc-wallet.ts';

export function nativeNwcCrypto(): NwcCrypto {
  return {
    signer: (secretHex) => {
      const key = hexToBytes(secretHex);
      try {
        return new LocalSigner(key);
      } finally {
        key.fill(0);
      }
    },
    // The shape first (the native check expects well-formed hex fields), as the relay does.
    verify: (event) => parseEventShape(event).ok && verifyEvent(event) === 'ok',
  };
}
