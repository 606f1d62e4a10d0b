import { matchFilter } from 'nostr-tools';
import type { Clock } from '../core/clock.ts';
import { systemClock, unixSeconds } from '../core/clock.ts';
import type { EventStore, QueryOptions, SaveOutcome } from '../core/event-store.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import { isAddressableKind, isReplaceableKind, tagValue } from '../core/nostr.ts';

/**
 * The in-memory fake of `EventStore`: same semantics as the SQLite store (both pass
 * tests/contracts/event-store.contract.ts), nothing durable, linear scans: for tests only.
 */
export class MemoryEventStore implements EventStore {
  private readonly events = new Map<string, NostrEvent>();
  /** NIP-09 `e` tombstones: `${id}:${pubkey}` of ids their author deleted. */
  private readonly deletedIds = new Set<string>();
  /** NIP-09 `a` tombstones: address → created_at of the newest deletion. */
  private readonly deletedAddresses = new Map<string, number>();
  private readonly clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async save(events: readonly NostrEvent[]): Promise<SaveOutcome[]> {
    const now = unixSeconds(this.clock);
    return events.map((e) => this.saveOne(structuredClone(e) as NostrEvent, now));
  }

  private saveOne(e: NostrEvent, now: number): SaveOutcome {
    if (!isWellFormed(e)) return { status: 'rejected', reason: 'invalid: malformed event' };
    if (this.events.has(e.id)) return { status: 'duplicate' };
    if (e.kind !== 5 && this.deletedIds.has(`${e.id}:${e.pubkey}`)) {
      return { status: 'rejected', reason: 'blocked: deleted by author' };
    }
    if (isExpired(e, now)) return { status: 'rejected', reason: 'invalid: event is expired' };
    const addr = addressOf(e);
    if (addr !== undefined) {
      const deletedUntil = this.deletedAddresses.get(addr);
      if (deletedUntil !== undefined && e.created_at <= deletedUntil) {
        return { status: 'rejected', reason: 'blocked: deleted by author' };
      }
      const current = [...this.events.values()].filter((old) => addressOf(old) === addr);
      if (current.some((old) => compare(old, e) < 0)) {
        return { status: 'rejected', reason: 'duplicate: have a newer version' };
      }
      for (const old of current) this.events.delete(old.id);
    }
    this.events.set(e.id, e);
    if (e.kind === 5) this.applyDeletion(e);
    return { status: 'saved' };
  }

  private applyDeletion(del: NostrEvent): void {
    for (const [name, value] of del.tags) {
      if (value === undefined) continue;
      if (name === 'e') {
        const target = this.events.get(value);
        if (target && target.pubkey === del.pubkey && target.kind !== 5) this.events.delete(value);
        this.deletedIds.add(`${value}:${del.pubkey}`);
      } else if (name === 'a') {
        const addr = coordinateAddress(value);
        if (addr === undefined || addr.pubkey !== del.pubkey) continue;
        this.deletedAddresses.set(
          addr.key,
          Math.max(del.created_at, this.deletedAddresses.get(addr.key) ?? 0),
        );
        for (const old of [...this.events.values()]) {
          if (addressOf(old) === addr.key && old.created_at <= del.created_at) this.events.delete(old.id);
        }
      }
    }
  }

  async query(filters: readonly Filter[], options: QueryOptions = {}): Promise<NostrEvent[]> {
    const now = options.nowSeconds ?? unixSeconds(this.clock);
    const sorted = [...this.events.values()].filter((e) => !isExpired(e, now)).sort(compare);
    const out = new Map<string, NostrEvent>();
    for (const f of filters) {
      let limit = f.limit === undefined ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(f.limit));
      if (options.maxLimit !== undefined) limit = Math.min(limit, options.maxLimit);
      let n = 0;
      for (const e of sorted) {
        if (n >= limit) break;
        if (matches(f, e)) {
          out.set(e.id, e);
          n++;
        }
      }
    }
    return [...out.values()].sort(compare).map((e) => structuredClone(e));
  }

  /** `query`, each event as JSON text (the SQLite store returns the stored text). */
  async queryRaw(filters: readonly Filter[], options: QueryOptions = {}): Promise<string[]> {
    return (await this.query(filters, options)).map((e) => JSON.stringify(e));
  }

  async count(filters: readonly Filter[], options: Pick<QueryOptions, 'nowSeconds'> = {}): Promise<number> {
    return (
      await this.query(
        filters.map((f) => ({ ...f, limit: undefined })),
        options,
      )
    ).length;
  }

  async purgeExpired(nowSeconds: number): Promise<number> {
    let n = 0;
    for (const e of [...this.events.values()]) {
      if (isExpired(e, nowSeconds)) {
        this.events.delete(e.id);
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {}
}

/** nostr-tools' matcher, except that tag filters on names other than one letter match nothing (unindexed). */
function matches(f: Filter, e: NostrEvent): boolean {
  for (const key of Object.keys(f)) {
    if (key.startsWith('#') && !/^#[a-zA-Z]$/.test(key)) return false;
  }
  return matchFilter(f, e);
}

/** Newest first, then lowest id: the query order, and "which version wins" for replaceable events. */
function compare(a: NostrEvent, b: NostrEvent): number {
  return b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** `kind:pubkey:d` of a replaceable (d always '') or addressable event; undefined for other kinds. */
function addressOf(e: NostrEvent): string | undefined {
  if (isReplaceableKind(e.kind)) return `${e.kind}:${e.pubkey}:`;
  if (isAddressableKind(e.kind)) return `${e.kind}:${e.pubkey}:${tagValue(e.tags, 'd') ?? ''}`;
  return undefined;
}

/** The address an `a` tag names, in `addressOf`'s form; undefined unless the kind is replaceable/addressable. */
function coordinateAddress(a: string): { key: string; pubkey: string } | undefined {
  const [kindText = '', pubkey = '', ...rest] = a.split(':');
  if (!/^\d{1,9}$/.test(kindText)) return undefined;
  const kind = Number(kindText);
  if (isReplaceableKind(kind)) return { key: `${kind}:${pubkey}:`, pubkey };
  if (isAddressableKind(kind)) return { key: `${kind}:${pubkey}:${rest.join(':')}`, pubkey };
  return undefined;
}

/** NIP-40: expired at or before `nowSeconds`; a tag that is empty or not a number is no expiration. */
function isExpired(e: NostrEvent, nowSeconds: number): boolean {
  const exp = tagValue(e.tags, 'expiration');
  if (exp === undefined || exp.trim() === '') return false;
  const n = Number(exp);
  return Number.isFinite(n) && n <= nowSeconds;
}

function isWellFormed(e: NostrEvent): boolean {
  return (
    [e.id, e.pubkey, e.sig, e.content].every((v) => typeof v === 'string') &&
    Number.isSafeInteger(e.created_at) &&
    Number.isSafeInteger(e.kind) &&
    Array.isArray(e.tags) &&
    e.tags.every((t) => Array.isArray(t) && t.every((x) => typeof x === 'string'))
  );
}
