/**
 * The part of `node:crypto` the project's shared modules use, for the browser bundle (build-config.ts):
 * createHash and createHmac (sha256, sha1, ripemd160, sha512) on @noble/hashes, randomBytes and randomInt on
 * crypto.getRandomValues. Digests are `Buffer`s (the `buffer` package) so `.toString('hex')` works as in Node.
 */
import { hmac } from '@noble/hashes/hmac';
import { ripemd160 } from '@noble/hashes/ripemd160';
import { sha1 } from '@noble/hashes/sha1';
import { sha256, sha512 } from '@noble/hashes/sha2';
import { Buffer } from 'buffer/';

type Algorithm = typeof sha256;
type Data = string | Uint8Array;

function algorithm(name: string): Algorithm {
  switch (name.toLowerCase().replace('-', '')) {
    case 'sha256':
      return sha256;
    case 'sha512':
      return sha512 as unknown as Algorithm;
    case 'sha1':
      return sha1 as unknown as Algorithm;
    case 'ripemd160':
    case 'rmd160':
      return ripemd160 as unknown as Algorithm;
    default:
      throw new Error(`digest ${name} is not available in the browser`);
  }
}

function bytes(data: Data, encoding?: string): Uint8Array {
  if (typeof data !== 'string') return data;
  return Buffer.from(data, (encoding ?? 'utf8') as BufferEncoding);
}

interface Digester {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

export interface BrowserHash {
  update(data: Data, encoding?: string): BrowserHash;
  digest(): Buffer;
  digest(encoding: string): string;
}

function wrap(inner: Digester): BrowserHash {
  const self: BrowserHash = {
    update(data: Data, encoding?: string) {
      inner.update(bytes(data, encoding));
      return self;
    },
    digest(encoding?: string) {
      const out = Buffer.from(inner.digest());
      return (encoding ? out.toString(encoding as BufferEncoding) : out) as Buffer & string;
    },
  };
  return self;
}

export function createHash(name: string): BrowserHash {
  return wrap(algorithm(name).create());
}

export function createHmac(name: string, key: Data): BrowserHash {
  return wrap(hmac.create(algorithm(name), bytes(key)));
}

export function randomBytes(size: number): Buffer {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  return Buffer.from(out);
}

/** An integer in [min, max), uniformly (rejection sampling). */
export function randomInt(min: number, max?: number): number {
  const [lo, hi] = max === undefined ? [0, min] : [min, max];
  const range = hi - lo;
  if (!(range > 0) || range > 2 ** 32) throw new RangeError(`randomInt: bad range [${lo}, ${hi})`);
  const limit = 2 ** 32 - (2 ** 32 % range);
  const word = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(word);
    const v = word[0] ?? 0;
    if (v < limit) return lo + (v % range);
  }
}

export default { createHash, createHmac, randomBytes, randomInt };
