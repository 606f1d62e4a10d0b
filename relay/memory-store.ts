import { matchFilter } from 'nostr-tools';
import type { EventStore, QueryOptions, SaveOutcome } from '../core/event-store.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import { isAddressableKind, isReplaceableKind, tagValue } from '../core/nostr.ts';

/** The in-memory fake of `EventStore`: same semantics as the SQLite store, nothing durable. */
export class MemoryEventStore implements EventStore {
  private readonly events = new Map<string, NostrEvent>();
  private readonly deleted = new Set<string>();

  async save(events: readonly NostrEvent[]): Promise<SaveOutcome[]> {
    return events.map((e) => this.saveOne(e));
  }

  private saveOne(e: NostrEvent): SaveOutcome {
    const now = Math.floor(Date.now() / 1000);
    if (this.events.has(e.id)) return { status: 'duplicate' };
    if (this.deleted.has(e.id)) return { status: 'rejected', reason: 'blocked: deleted by author' };
    if (isExpired(e, now)) return { status: 'rejected', reason: 'invalid: event is expired' };
    const addr = addressOf(e);
    if (addr) {
      for (const old of this.events.values()) {
        if (addressOf(old) !== addr) continue;
        if (newer(old, e)) return { status: 'rejected', reason: 'duplicate: have a newer version' };
        this.events.delete(old.id);
      }
      if (isAddressableKind(e.kind) && this.addressDeletedAfter(e)) {
        return { status: 'rejected', reason: 'blocked: deleted by author' };
      }
    }
    if (e.kind === 5) this.applyDeletion(e);
    this.events.set(e.id, e);
    return { status: 'saved' };
  }

  private addressDeletedAfter(e: NostrEvent): boolean {
    const coord = `${e.kind}:${e.pubkey}:${tagValue(e.tags, 'd') ?? ''}`;
    for (const del of this.events.values()) {
      if (del.kind !== 5 || del.pubkey !== e.pubkey) continue;
      if (del.created_at >= e.created_at && del.tags.some((t) => t[0] === 'a' && t[1] === coord)) return true;
    }
    return false;
  }

  private applyDeletion(del: NostrEvent): void {
    for (const t of del.tags) {
      if (t[0] === 'e' && t[1]) {
        const target = this.events.get(t[1]);
        if (target && target.kind === 5) continue;
        if (target && target.pubkey !== del.pubkey) continue;
        if (target) this.events.delete(target.id);
        if (!target || target.pubkey === del.pubkey) this.deleted.add(t[1]);
      } else if (t[0] === 'a' && t[1]) {
        const [kind, pubkey, ...rest] = t[1].split(':');
        if (pubkey !== del.pubkey) continue;
        const d = rest.join(':');
        for (const old of [...this.events.values()]) {
          if (String(old.kind) === kind && old.pubkey === pubkey && (tagValue(old.tags, 'd') ?? '') === d) {
            if (old.created_at <= del.created_at) this.events.delete(old.id);
          }
        }
      }
    }
  }

  async query(filters: readonly Filter[], options: QueryOptions = {}): Promise<NostrEvent[]> {
    const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
    const sorted = [...this.events.values()].filter((e) => !isExpired(e, now)).sort(compare);
    const out = new Map<string, NostrEvent>();
    for (const f of filters) {
      let limit = f.limit ?? options.maxLimit ?? Number.POSITIVE_INFINITY;
      if (options.maxLimit !== undefined) limit = Math.min(limit, options.maxLimit);
      let n = 0;
      for (const e of sorted) {
        if (n >= limit) break;
        if (matchFilter(f, e)) {
          out.set(e.id, e);
          n++;
        }
      }
    }
    return [...out.values()].sort(compare);
  }

  async count(filters: readonly Filter[]): Promise<number> {
    return (await this.query(filters.map((f) => ({ ...f, limit: undefined })))).length;
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

function compare(a: NostrEvent, b: NostrEvent): number {
  return b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function newer(a: NostrEvent, b: NostrEvent): boolean {
  return a.created_at > b.created_at || (a.created_at === b.created_at && a.id < b.id);
}

function addressOf(e: NostrEvent): string | undefined {
  if (isReplaceableKind(e.kind)) return `${e.kind}:${e.pubkey}`;
  if (isAddressableKind(e.kind)) return `${e.kind}:${e.pubkey}:${tagValue(e.tags, 'd') ?? ''}`;
  return undefined;
}

function isExpired(e: NostrEvent, nowSeconds: number): boolean {
  const exp = tagValue(e.tags, 'expiration');
  if (exp === undefined) return false;
  const n = Number(exp);
  return Number.isFinite(n) && n <= nowSeconds;
}
