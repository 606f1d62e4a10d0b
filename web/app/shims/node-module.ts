/**
 * `node:module` for the browser bundle (build-config.ts): `createRequire` answers the one native module the
 * shared code loads that way for browser-reachable paths, bcrypto's secp256k1 (payments/bolt11.ts), with
 * @noble/curves. Anything else throws when it is required, saying what is missing.
 */
import { secp256k1 } from '@noble/curves/secp256k1';
import { Buffer } from 'buffer/';

const bcryptoSecp256k1 = {
  publicKeyCreate(key: Uint8Array, compress = true): Buffer {
    return Buffer.from(secp256k1.getPublicKey(key, compress));
  },
  privateKeyVerify(key: Uint8Array): boolean {
    return secp256k1.utils.isValidPrivateKey(key);
  },
};

export function createRequire(_from: string | URL): (id: string) => unknown {
  return (id: string) => {
    if (id === 'bcrypto/lib/secp256k1') return bcryptoSecp256k1;
    throw new Error(`${id} is not available in the browser`);
  };
}

export default { createRequire };
