import { createRequire } from 'node:module';
import type { Filter, NostrEvent } from '../core/nostr.ts';

/**
 * Pre-signed events for benchmarks, made before any clock starts. Signing uses bcrypto's native BIP-340
 * (about 12,000 events/s here, against ~400/s for a pure-JS signer) so 100,000 events take seconds.
 */
const require = createRequire(import.meta.url);
const schnorr = require('bcrypto/lib/schnorr') as {
  sign(msg: Buffer, key: Buffer): Buffer;
  publicKeyCreate(key: Buffer): Buffer;
};
const sha256 = require('bcrypto/lib/sha256') as { digest(data: Buffer): Buffer };

/** A small deterministic PRNG (mulberry32) so every run benchmarks the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Author {
  secret: Buffer;
  pubkey: string;
}

export function makeAuthors(n: number, seed = 1): Author[] {
  const rnd = prng(seed);
  const out: Author[] = [];
  while (out.length < n) {
    const secret = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) secret[i] = Math.floor(rnd() * 256);
    try {
      out.push({ secret, pubkey: schnorr.publicKeyCreate(secret).toString('hex') });
    } catch {
      // out-of-range key: draw again
    }
  }
  return out;
}

export function signEvent(
  author: Author,
  template: { kind: number; created_at: number; tags: string[][]; content: string },
): NostrEvent {
  const serial = JSON.stringify([
    0,
    author.pubkey,
    template.created_at,
    template.kind,
    template.tags,
    template.content,
  ]);
  const id = sha256.digest(Buffer.from(serial));
  return {
    ...template,
    pubkey: author.pubkey,
    id: id.toString('hex'),
    sig: schnorr.sign(id, author.secret).toString('hex'),
  };
}

/**
 * `count` kind 1/7/30023-like events from `authors`, spread over `spanSeconds` ending at `now`, with a few
 * tags each, in a realistic size (~300-600 bytes of JSON).
 */
export function makeEvents(
  count: number,
  authors: Author[],
  options: { now: number; spanSeconds: number; seed?: number },
): NostrEvent[] {
  const rnd = prng(options.seed ?? 7);
  const kinds = [1, 1, 1, 1, 7, 7, 6, 30023];
  const out: NostrEvent[] = [];
  for (let i = 0; i < count; i++) {
    const author = authors[Math.floor(rnd() * authors.length)] as Author;
    const kind = kinds[Math.floor(rnd() * kinds.length)] as number;
    const created_at = options.now - Math.floor(rnd() * options.spanSeconds);
    const other = authors[Math.floor(rnd() * authors.length)] as Author;
    const tags: string[][] = [
      ['p', other.pubkey],
      ['t', `topic${Math.floor(rnd() * 50)}`],
    ];
    if (kind === 30023) tags.push(['d', `article-${i}`]);
    const content = `benchmark note ${i} `.padEnd(
      40 + Math.floor(rnd() * 200),
      'lorem ipsum dolor sit amet ',
    );
    out.push(signEvent(author, { kind, created_at, tags, content }));
  }
  return out;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

/** p50, p99, mean and max of a set of samples (milliseconds or any unit), and how many. */
export interface SampleStats {
  p50: number;
  p99: number;
  mean: number;
  max: number;
  n: number;
}

export function sampleStats(samples: number[]): SampleStats {
  const sorted = samples.slice().sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    n: samples.length,
  };
}

/**
 * The relay benchmark's query workload, the same wherever it runs (relay.bench.ts, the curves): `count` REQs
 * of one filter each, kind 1 from 10 random authors of the last 15 days, limit 100; seeded, so every run asks
 * the same.
 */
export function queryFilters(authors: readonly Author[], now: number, count: number): Filter[][] {
  const rnd = prng(99);
  return Array.from({ length: count }, () => [
    {
      kinds: [1],
      authors: Array.from(
        { length: 10 },
        () => (authors[Math.floor(rnd() * authors.length)] as Author).pubkey,
      ),
      since: now - 86_400 * 15,
      limit: 100,
    },
  ]);
}
