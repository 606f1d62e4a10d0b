import type { Filter, NostrEvent } from '../core/nostr.ts';

/**
 * NIP-01 filter matching for live events, with each list turned into a hashed set once, when the
 * subscription opens: matching an event then costs lookups, never a scan of a filter's values for each of
 * the event's tags (with nostr-tools' `matchFilter`, tags × values per filter: finding 2 of issue 12).
 * Same answers as `matchFilter` (relay/subscriptions.test.ts checks them against each other).
 */
export interface CompiledFilter {
  readonly ids: ReadonlySet<string> | undefined;
  readonly authors: ReadonlySet<string> | undefined;
  readonly kinds: ReadonlySet<number> | undefined;
  /** One entry per `#x` field: the tag name and its values. */
  readonly tags: readonly (readonly [name: string, values: ReadonlySet<string>])[];
  readonly since: number | undefined;
  readonly until: number | undefined;
}

export function compileFilter(f: Filter): CompiledFilter {
  const tags: [string, ReadonlySet<string>][] = [];
  for (const [key, values] of Object.entries(f)) {
    if (key[0] === '#' && Array.isArray(values)) tags.push([key.slice(1), new Set(values as string[])]);
  }
  return {
    ids: f.ids ? new Set(f.ids) : undefined,
    authors: f.authors ? new Set(f.authors) : undefined,
    kinds: f.kinds ? new Set(f.kinds) : undefined,
    tags,
    // Like matchFilter: since/until of 0 bound nothing.
    since: f.since || undefined,
    until: f.until || undefined,
  };
}

/**
 * One event as the matcher reads it: its tag values by name, gathered once (on the first tag condition)
 * however many filters look at them.
 */
export class MatchedEvent {
  private tagValues: Map<string, Set<string>> | undefined;

  constructor(readonly event: NostrEvent) {}

  valuesOf(name: string): ReadonlySet<string> | undefined {
    if (!this.tagValues) {
      const byName = new Map<string, Set<string>>();
      for (const t of this.event.tags) {
        const [n, v] = t;
        if (n === undefined || v === undefined) continue;
        let set = byName.get(n);
        if (!set) {
          set = new Set();
          byName.set(n, set);
        }
        set.add(v);
      }
      this.tagValues = byName;
    }
    return this.tagValues.get(name);
  }
}

export function matchesCompiled(f: CompiledFilter, m: MatchedEvent): boolean {
  const e = m.event;
  if (f.ids && !f.ids.has(e.id)) return false;
  if (f.kinds && !f.kinds.has(e.kind)) return false;
  if (f.authors && !f.authors.has(e.pubkey)) return false;
  if (f.since !== undefined && e.created_at < f.since) return false;
  if (f.until !== undefined && e.created_at > f.until) return false;
  for (const [name, wanted] of f.tags) {
    const present = m.valuesOf(name);
    if (!present || !intersects(wanted, present)) return false;
  }
  return true;
}

/** Whether two sets share a value, walking the smaller one. */
function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const v of small) if (large.has(v)) return true;
  return false;
}
