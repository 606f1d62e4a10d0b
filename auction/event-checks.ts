/** Small checks shared by the auction event builders and parsers (auction/events.ts, auction/record.ts). */
import type { NostrEvent } from '../core/nostr.ts';
import { isHex64, parseNonNegativeInt, quote } from '../dvm/kinds.ts';
import { AuctionEventError } from './kinds.ts';

export const now = (): number => Math.floor(Date.now() / 1000);

export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Commitment events in chain order: created_at, then id. */
export function byChainOrder(a: NostrEvent, b: NostrEvent): number {
  return a.created_at - b.created_at || cmp(a.id, b.id);
}

export function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export function requireHex(value: string, what: string): void {
  if (!isHex64(value)) throw new RangeError(`${what} must be 64 lowercase hex characters`);
}

export function requireCount(value: number, what: string): void {
  if (!isCount(value)) throw new RangeError(`${what} must be a non-negative integer, got ${String(value)}`);
}

export function checkKind(event: NostrEvent, kind: number, name: string): void {
  if (event.kind !== kind)
    throw new AuctionEventError(`kind ${String(event.kind)} is not ${name} (kind ${kind})`);
}

/** The first tag `name` as 64 lowercase hex, else AuctionEventError naming `what` it should hold. */
export function hexTag(event: NostrEvent, name: string, what: string): string {
  const value = event.tags.find((t) => t[0] === name)?.[1];
  if (!isHex64(value))
    throw new AuctionEventError(
      `the ${name} tag must hold ${what} (64 lowercase hex characters), got ${quote(String(value))}`,
    );
  return value;
}

/** The first tag `name` as a non-negative integer; undefined when absent, AuctionEventError when malformed. */
export function countTag(event: NostrEvent, name: string, what: string): number | undefined {
  const tag = event.tags.find((t) => t[0] === name);
  if (tag === undefined) return undefined;
  const n = parseNonNegativeInt(tag[1]);
  if (n === undefined)
    throw new AuctionEventError(
      `the ${name} tag must hold ${what} as a non-negative integer, got ${quote(String(tag[1]))}`,
    );
  return n;
}
