import type { Filter, NostrEvent } from '../core/nostr.ts';
import { type CompiledFilter, compileFilter, MatchedEvent, matchesCompiled } from './filter-match.ts';

/** Something with filters that wants the live events matching them. */
export interface Subscriber {
  readonly filters: readonly Filter[];
}

/** One filter of one subscriber, compiled (relay/filter-match.ts). */
interface Entry<S> {
  readonly sub: S;
  readonly filter: CompiledFilter;
}

type Bucket<S> = Set<Entry<S>>;

/**
 * The live subscriptions of all connections, indexed so that a new event is matched only against the
 * filters that could take it. Each filter is filed under the values of its most selective field (its ids,
 * else its authors, else its shortest `#x` list, else its kinds), or under "any" when it has none. An
 * event looks up its own id, pubkey and kind and each distinct tag value (tag value → filters), and each
 * filter found is checked once with hashed sets. So an event costs its tag count plus the filters it can
 * reach, never tags × filter values; what one connection can add to that is bounded by the relay's limits
 * on filter values (relay/filters.ts).
 */
export class SubscriptionIndex<S extends Subscriber> {
  /** `*` (any), `i:<id>`, `a:<pubkey>`, `k:<kind>`. */
  private readonly buckets = new Map<string, Bucket<S>>();
  /** Tag name → tag value → filters filed under it. */
  private readonly tagBuckets = new Map<string, Map<string, Bucket<S>>>();
  private readonly filed = new Map<S, { entry: Entry<S>; keys: FilterKeys }[]>();

  get size(): number {
    return this.filed.size;
  }

  add(sub: S): void {
    this.remove(sub);
    const entries = sub.filters.map((f) => {
      const entry = { sub, filter: compileFilter(f) };
      const keys = filterKeys(f);
      this.file(entry, keys);
      return { entry, keys };
    });
    this.filed.set(sub, entries);
  }

  remove(sub: S): void {
    const entries = this.filed.get(sub);
    if (!entries) return;
    this.filed.delete(sub);
    for (const { entry, keys } of entries) this.unfile(entry, keys);
  }

  /** The subscribers with a filter that matches `event`, each once. */
  match(event: NostrEvent): S[] {
    if (this.filed.size === 0) return [];
    const out: S[] = [];
    const taken = new Set<S>();
    const checked = new Set<Entry<S>>();
    const m = new MatchedEvent(event);
    const visit = (bucket: Bucket<S> | undefined): void => {
      if (!bucket) return;
      for (const entry of bucket) {
        if (taken.has(entry.sub) || checked.has(entry)) continue;
        checked.add(entry);
        if (matchesCompiled(entry.filter, m)) {
          taken.add(entry.sub);
          out.push(entry.sub);
        }
      }
    };
    visit(this.buckets.get(ANY));
    visit(this.buckets.get(`i:${event.id}`));
    visit(this.buckets.get(`a:${event.pubkey}`));
    visit(this.buckets.get(`k:${event.kind}`));
    if (this.tagBuckets.size > 0) {
      const seen = new Set<Bucket<S>>();
      for (const [name, value] of event.tags) {
        if (name === undefined || value === undefined) continue;
        const bucket = this.tagBuckets.get(name)?.get(value);
        if (!bucket || seen.has(bucket)) continue;
        seen.add(bucket);
        visit(bucket);
      }
    }
    return out;
  }

  private file(entry: Entry<S>, keys: FilterKeys): void {
    if (keys.tag === undefined) {
      for (const k of keys.values) {
        let bucket = this.buckets.get(k);
        if (!bucket) {
          bucket = new Set();
          this.buckets.set(k, bucket);
        }
        bucket.add(entry);
      }
      return;
    }
    let byValue = this.tagBuckets.get(keys.tag);
    if (!byValue) {
      byValue = new Map();
      this.tagBuckets.set(keys.tag, byValue);
    }
    for (const v of keys.values) {
      let bucket = byValue.get(v);
      if (!bucket) {
        bucket = new Set();
        byValue.set(v, bucket);
      }
      bucket.add(entry);
    }
  }

  private unfile(entry: Entry<S>, keys: FilterKeys): void {
    if (keys.tag === undefined) {
      for (const k of keys.values) {
        const bucket = this.buckets.get(k);
        bucket?.delete(entry);
        if (bucket?.size === 0) this.buckets.delete(k);
      }
      return;
    }
    const byValue = this.tagBuckets.get(keys.tag);
    if (!byValue) return;
    for (const v of keys.values) {
      const bucket = byValue.get(v);
      bucket?.delete(entry);
      if (bucket?.size === 0) byValue.delete(v);
    }
    if (byValue.size === 0) this.tagBuckets.delete(keys.tag);
  }
}

const ANY = '*';

/** Where one filter is filed: bucket keys, or (with `tag`) values of that tag name. */
interface FilterKeys {
  tag?: string;
  values: readonly string[];
}

/** The keys of a filter's most selective field (an empty list: no keys, the filter can match nothing). */
function filterKeys(f: Filter): FilterKeys {
  if (f.ids) return { values: unique(f.ids.map((id) => `i:${id}`)) };
  if (f.authors) return { values: unique(f.authors.map((a) => `a:${a}`)) };
  let best: FilterKeys | undefined;
  for (const [key, values] of Object.entries(f)) {
    if (key[0] !== '#' || !Array.isArray(values)) continue;
    if (!best || values.length < best.values.length) best = { tag: key.slice(1), values: values as string[] };
  }
  if (best) return { tag: best.tag, values: unique(best.values) };
  if (f.kinds) return { values: unique(f.kinds.map((k) => `k:${k}`)) };
  return { values: [ANY] };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
