import type { EventStore } from '../core/event-store.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';

/**
 * Read access to restricted kinds (NIP-42; by default kind 4 DMs and kind 1059 gift wraps): such an event
 * goes only to a connection authenticated as its author or as a `p`-tagged recipient.
 *
 * - A filter that names a restricted kind needs authentication (`CLOSED auth-required:` otherwise).
 * - A filter that names only restricted kinds is narrowed in the store query itself to the authenticated
 *   pubkeys (as author, or as `#p`), so `limit` counts the events the client may see.
 * - A filter without `kinds` is served to anyone, with restricted events filtered out of what is sent
 *   (so such a filter may return fewer than `limit` events).
 */
export class ReadAccess {
  readonly restricted: ReadonlySet<number>;

  constructor(restrictedKinds: readonly number[]) {
    this.restricted = new Set(restrictedKinds);
  }

  /** True when one of the filters names a restricted kind. */
  asksRestricted(filters: readonly Filter[]): boolean {
    return filters.some((f) => f.kinds?.some((k) => this.restricted.has(k)) ?? false);
  }

  canSee(event: NostrEvent, authed: ReadonlySet<string>): boolean {
    if (!this.restricted.has(event.kind)) return true;
    if (authed.has(event.pubkey)) return true;
    for (const t of event.tags) if (t[0] === 'p' && t[1] !== undefined && authed.has(t[1])) return true;
    return false;
  }

  /** The filters to run in the store for this connection (see the class comment). */
  scope(filters: readonly Filter[], authed: ReadonlySet<string>): Filter[] {
    const out: Filter[] = [];
    for (const f of filters) {
      if (f.kinds && f.kinds.length > 0 && f.kinds.every((k) => this.restricted.has(k))) {
        out.push(...this.narrow(f, authed));
      } else out.push(f);
    }
    return out;
  }

  /**
   * NIP-45 count of what this connection may see. A kindless filter's restricted part is subtracted
   * ((∪F) ∩ R = ∪(F ∩ R)), then the restricted events addressed to or from the connection are added back.
   */
  async count(store: EventStore, filters: readonly Filter[], authed: ReadonlySet<string>): Promise<number> {
    if (this.restricted.size === 0) return store.count(filters);
    const restrictedKinds = [...this.restricted];
    const open: Filter[] = [];
    const openRestricted: Filter[] = [];
    const mine: Filter[] = [];
    for (const f of filters) {
      const kinds = f.kinds;
      if (kinds === undefined) {
        open.push(f);
        openRestricted.push({ ...f, kinds: restrictedKinds });
        mine.push(...this.narrow({ ...f, kinds: restrictedKinds }, authed));
        continue;
      }
      const plain = kinds.filter((k) => !this.restricted.has(k));
      const hidden = kinds.filter((k) => this.restricted.has(k));
      if (plain.length > 0 || kinds.length === 0) open.push({ ...f, kinds: plain });
      if (hidden.length > 0) mine.push(...this.narrow({ ...f, kinds: hidden }, authed));
    }
    const [all, hiddenOpen, own] = await Promise.all([
      open.length > 0 ? store.count(open) : 0,
      openRestricted.length > 0 ? store.count(openRestricted) : 0,
      mine.length > 0 ? store.count(mine) : 0,
    ]);
    return all - hiddenOpen + own;
  }

  /** `f` restricted to events authored by, or `p`-tagging, one of `authed`. */
  private narrow(f: Filter, authed: ReadonlySet<string>): Filter[] {
    const out: Filter[] = [];
    const authors = f.authors ? f.authors.filter((a) => authed.has(a)) : [...authed];
    if (authors.length > 0) out.push({ ...f, authors });
    const p = f['#p'] ? f['#p'].filter((x) => authed.has(x)) : [...authed];
    if (p.length > 0) out.push({ ...f, '#p': p });
    return out;
  }
}
