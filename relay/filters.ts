import type { Filter } from '../core/nostr.ts';

/**
 * Strict NIP-01 filter validation: `ids`/`authors` are 64 lowercase hex, `kinds` integers 0..65535,
 * `since`/`until`/`limit` non-negative integers, `#x` (one ASCII letter) arrays of strings. Any other field
 * (NIP-50 `search` included, which this relay does not support) is refused rather than silently ignored, so
 * a client never mistakes an unfiltered answer for a filtered one.
 */
export type FilterCheck = { ok: true; filter: Filter } | { ok: false; reason: string };

const HEX64 = /^[0-9a-f]{64}$/;
const TAG_KEY = /^#[a-zA-Z]$/;

export function parseFilter(raw: unknown): FilterCheck {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, reason: 'a filter must be a JSON object' };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const reason = checkField(key, value);
    if (reason !== undefined) return { ok: false, reason };
    out[key] = value;
  }
  return { ok: true, filter: out as Filter };
}

function checkField(key: string, value: unknown): string | undefined {
  switch (key) {
    case 'ids':
    case 'authors':
      return isArrayOf(value, (v) => typeof v === 'string' && HEX64.test(v))
        ? undefined
        : `${key} must be an array of 64 lowercase hex characters`;
    case 'kinds':
      return isArrayOf(value, (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535)
        ? undefined
        : 'kinds must be an array of integers between 0 and 65535';
    case 'since':
    case 'until':
    case 'limit':
      return Number.isSafeInteger(value) && (value as number) >= 0
        ? undefined
        : `${key} must be a non-negative integer`;
    default:
      if (TAG_KEY.test(key)) {
        return isArrayOf(value, (v) => typeof v === 'string')
          ? undefined
          : `${key} must be an array of strings`;
      }
      return `unsupported filter field ${JSON.stringify(key.slice(0, 32))}`;
  }
}

function isArrayOf(value: unknown, check: (v: unknown) => boolean): boolean {
  if (!Array.isArray(value)) return false;
  for (const v of value) if (!check(v)) return false;
  return true;
}

/** The values in a filter's lists (`ids`, `authors`, `kinds`, every `#x`): what it costs to index and match. */
export function filterValueCount(f: Filter): number {
  let n = 0;
  for (const [key, value] of Object.entries(f)) {
    if (Array.isArray(value) && (key === 'ids' || key === 'authors' || key === 'kinds' || key[0] === '#')) {
      n += value.length;
    }
  }
  return n;
}

/** The `invalid:` reason when one of the filters has a list longer than `maxValues`; undefined otherwise. */
export function filterListViolation(filters: readonly Filter[], maxValues: number): string | undefined {
  for (const [i, f] of filters.entries()) {
    for (const [key, value] of Object.entries(f)) {
      if (Array.isArray(value) && value.length > maxValues) {
        return `invalid: filter ${i}: ${key} has ${value.length} values, at most ${maxValues}`;
      }
    }
  }
  return undefined;
}
