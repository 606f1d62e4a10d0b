import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { NostrEvent } from '../core/nostr.ts';

/**
 * Event verification (NIP-01 id, BIP-340 signature) on bcrypto's native libsecp256k1 binding, about 15x
 * nostr-tools' pure-JS verifyEvent. Used on the main thread and inside the verification workers
 * (relay/verify-pool.ts); both go through `verifyFlat`.
 */
interface Schnorr {
  verify(msg: Buffer, sig: Buffer, key: Buffer): boolean;
  verifyBatch(batch: [Buffer, Buffer, Buffer][]): boolean;
}

const schnorr = createRequire(import.meta.url)('bcrypto/lib/schnorr') as Schnorr;

export type VerifyStatus = 'ok' | 'bad-id' | 'bad-sig';

/** Result codes in the byte arrays that `verifyFlat` returns. */
export const STATUS_CODES: readonly VerifyStatus[] = ['ok', 'bad-id', 'bad-sig'];

/** NIP-01 serialisation, whose sha256 is the event id. */
export function serializeEvent(
  e: Pick<NostrEvent, 'pubkey' | 'created_at' | 'kind' | 'tags' | 'content'>,
): string {
  return JSON.stringify([0, e.pubkey, e.created_at, e.kind, e.tags, e.content]);
}

/** The four strings `verifyFlat` needs per event, appended to `out`. */
export function pushVerifyItem(out: string[], e: NostrEvent): void {
  out.push(serializeEvent(e), e.id, e.sig, e.pubkey);
}

export function verifyEvent(e: NostrEvent): VerifyStatus {
  const items: string[] = [];
  pushVerifyItem(items, e);
  return STATUS_CODES[verifyFlat(items)[0] ?? 2] ?? 'bad-sig';
}

/**
 * Verifies events given as `[serialised, id, sig, pubkey, ...]` (lowercase hex, shapes already checked).
 * Returns one code per event (index into STATUS_CODES). Valid signatures are checked as one batch
 * (about 1.5x faster than one by one); only when the batch fails are they checked singly.
 */
export function verifyFlat(items: readonly string[]): Uint8Array {
  const n = Math.floor(items.length / 4);
  const codes = new Uint8Array(n);
  const batch: [Buffer, Buffer, Buffer][] = [];
  const batchIndex: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = items[i * 4 + 1] ?? '';
    const hash = createHash('sha256')
      .update(items[i * 4] ?? '', 'utf8')
      .digest();
    if (hash.toString('hex') !== id) {
      codes[i] = 1;
      continue;
    }
    batch.push([
      hash,
      Buffer.from(items[i * 4 + 2] ?? '', 'hex'),
      Buffer.from(items[i * 4 + 3] ?? '', 'hex'),
    ]);
    batchIndex.push(i);
  }
  if (batch.length === 0 || safe(() => schnorr.verifyBatch(batch))) return codes;
  for (let j = 0; j < batch.length; j++) {
    const [msg, sig, key] = batch[j] as [Buffer, Buffer, Buffer];
    if (!safe(() => schnorr.verify(msg, sig, key))) codes[batchIndex[j] as number] = 2;
  }
  return codes;
}

function safe(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}
