import { matchFilters } from 'nostr-tools';
import type { Filter, NostrEvent } from '../core/nostr.ts';

/** Something with filters that wants the live events matching them. */
export interface Subscriber {
  readonly filters: readonly Filter[];
}

/**
 * The live subscriptions of all connections, indexed so a new event is matched only against the filters
 * that could take it: each filter is filed under its most selective field (one of its ids, authors, kinds
 * or single-letter tag values) or, without any, under "any". An event looks up its own id, pubkey, kind and
 * tag values, and the candidates found are checked with the full NIP-01 match.
 */
export class SubscriptionIndex<S extends Subscriber> {
  private readonly buckets = new Map<string, Set<S>>();
  private readonly keysOf = new Map<S, string[]>();
  /** Buckets keyed by a tag value: while there are none, events' tags are not looked up. */
  private tagBuckets = 0;

  get size(): number {
    return this.keysOf.size;
  }

  add(sub: S): void {
    this.remove(sub);
    const keys = new Set<string>();
    for (const f of sub.filters) for (const k of filterKeys(f)) keys.add(k);
    for (const k of keys) {
      let bucket = this.buckets.get(k);
      if (!bucket) {
        bucket = new Set();
        this.buckets.set(k, bucket);
        if (k.startsWith('t:')) this.tagBuckets++;
      }
      bucket.add(sub);
    }
    this.keysOf.set(sub, [...keys]);
  }

  remove(sub: S): void {
    const keys = this.keysOf.get(sub);
    if (!keys) return;
    this.keysOf.delete(sub);
    for (const k of keys) {
      const bucket = this.buckets.get(k);
      if (!bucket) continue;
      bucket.delete(sub);
      if (bucket.size > 0) continue;
      this.buckets.delete(k);
      if (k.startsWith('t:')) this.tagBuckets--;
    }
  }

  /** The subscribers with a filter that matches `event`, each once. */
  match(event: NostrEvent): S[] {
    const seen = new Set<S>();
    const out: S[] = [];
    const visit = (key: string): void => {
      const bucket = this.buckets.get(key);
      if (!bucket) return;
      for (const sub of bucket) {
        if (seen.has(sub)) continue;
        seen.add(sub);
        if (matchFilters(sub.filters as Filter[], event)) out.push(sub);
      }
    };
    visit(ANY);
    visit(`i:${event.id}`);
    visit(`a:${event.pubkey}`);
    visit(`k:${event.kind}`);
    if (this.tagBuckets > 0) {
      for (const t of event.tags) {
        if (t[0]?.length === 1 && t[1] !== undefined) visit(`t:${t[0]}:${t[1]}`);
      }
    }
    return out;
  }
}

const ANY = '*';

/** The keys one filter is filed under: the values of its most selective field. */
function filterKeys(f: Filter): string[] {
  if (f.ids) return f.ids.map((id) => `i:${id}`);
  if (f.authors) return f.authors.map((a) => `a:${a}`);
  let tagKeys: string[] | undefined;
  for (const [key, values] of Object.entries(f)) {
    if (key[0] !== '#' || !Array.isArray(values)) continue;
    const name = key.slice(1);
    const keys = (values as string[]).map((v) => `t:${name}:${v}`);
    if (!tagKeys || keys.length < tagKeys.length) tagKeys = keys;
  }
  if (tagKeys) return tagKeys;
  if (f.kinds) return f.kinds.map((k) => `k:${k}`);
  return [ANY];
}
