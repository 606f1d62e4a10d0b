/**
 * NIP-65 relay list (kind 10002): where an instance's desk and agents read and write, so a peer (or any Nostr
 * client) knows where to find their results and heartbeats (docs/federation.md). Pure.
 */
import { RelayList } from 'nostr-tools/kinds';
import { normalizeURL } from 'nostr-tools/utils';
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import { DvmEventError, hasProtocol, quote } from './kinds.ts';

export const RELAY_LIST_KIND: number = RelayList;

export type RelayUse = 'read' | 'write' | 'both';

export interface RelayListEntry {
  url: string;
  use: RelayUse;
}

export class RelayListError extends DvmEventError {
  constructor(message: string) {
    super(message);
    this.name = 'RelayListError';
  }
}

/**
 * A kind 10002 template: ["r", url] for a relay read and written, ["r", url, "read"|"write"] otherwise; URLs
 * normalized (nostr-tools), repeats merged. Throws RangeError on a URL that is not ws:// or wss://.
 */
export function buildRelayList(
  relays: readonly (string | RelayListEntry)[],
  createdAt = Math.floor(Date.now() / 1000),
): EventTemplate {
  const uses = new Map<string, RelayUse>();
  for (const r of relays) {
    const entry = typeof r === 'string' ? { url: r, use: 'both' as const } : r;
    if (!hasProtocol(entry.url, ['ws:', 'wss:']))
      throw new RangeError(`relay ${quote(entry.url)} is not a ws:// or wss:// URL`);
    const url = normalizeURL(entry.url);
    const before = uses.get(url);
    uses.set(url, before === undefined || before === entry.use ? entry.use : 'both');
  }
  const tags = [...uses].map(([url, use]) => (use === 'both' ? ['r', url] : ['r', url, use]));
  return { kind: RELAY_LIST_KIND, created_at: createdAt, tags, content: '' };
}

/** Reads a kind 10002 event; `r` tags that are not ws(s) URLs are skipped. Throws RelayListError on another kind. */
export function parseRelayList(event: NostrEvent): RelayListEntry[] {
  if (event.kind !== RELAY_LIST_KIND)
    throw new RelayListError(
      `kind ${String(event.kind)} is not a relay list (NIP-65 kind ${RELAY_LIST_KIND})`,
    );
  const out: RelayListEntry[] = [];
  for (const t of event.tags) {
    const url = t[1];
    if (t[0] !== 'r' || url === undefined || !hasProtocol(url, ['ws:', 'wss:'])) continue;
    const use: RelayUse = t[2] === 'read' || t[2] === 'write' ? t[2] : 'both';
    out.push({ url: normalizeURL(url), use });
  }
  return out;
}
