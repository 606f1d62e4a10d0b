import type { LocalAgent } from './dispatch.ts';

/**
 * The agents the desk may invite and assign: this instance's own (from the persona file, fixed) and its
 * peers' (docs/federation.md: found on peer relays, alive and trusted; replaced as the peer directory
 * changes). A local agent's pubkey always wins over a peer's announcement of the same pubkey.
 */
export class Roster {
  private remote: readonly LocalAgent[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(readonly local: readonly LocalAgent[]) {}

  /** Every agent: the local ones first. */
  all(): readonly LocalAgent[] {
    return this.remote.length === 0 ? this.local : [...this.local, ...this.remote];
  }

  get(pubkey: string): LocalAgent | undefined {
    return this.all().find((a) => a.pubkey === pubkey);
  }

  pubkeys(): string[] {
    return this.all().map((a) => a.pubkey);
  }

  /** Kinds some agent on the roster serves, ascending. */
  kinds(): number[] {
    return [...new Set(this.all().flatMap((a) => a.kinds))].sort((a, b) => a - b);
  }

  /** The peers' agents now on the roster. */
  peers(): readonly LocalAgent[] {
    return this.remote;
  }

  /** Replaces the peers' agents; listeners hear of it only when who is on the roster, or what they serve, changed. */
  setPeers(agents: readonly LocalAgent[]): void {
    const mine = new Set(this.local.map((a) => a.pubkey));
    const next = agents.filter((a) => !mine.has(a.pubkey));
    const key = (list: readonly LocalAgent[]): string =>
      list
        .map((a) => `${a.pubkey}:${[...a.kinds].sort((x, y) => x - y).join(',')}`)
        .sort()
        .join(';');
    const changed = key(next) !== key(this.remote);
    this.remote = next;
    if (changed) for (const fn of this.listeners) fn();
  }

  /** Calls `fn` when the roster changes; returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
