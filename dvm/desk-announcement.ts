/**
 * A desk's announcement (docs/federation.md): a NIP-89 handler information event (kind 31990) with the `d` tag
 * `timmy-desk`, by which a Timmy instance's desk tells peers (and any Nostr client) the job kinds its roster
 * serves (`k`), the agents on its roster (`p`), and the relays it reads (one `relays` tag, as NIP-90 requests
 * name theirs); content: kind 0-style metadata, `name` and `about`. Pure.
 */
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import { buildHandlerInfo, HandlerInfoError, parseHandlerInfo } from './announcement.ts';
import { DvmEventError, HANDLER_INFO_KIND, hasProtocol, isHex64, quote } from './kinds.ts';

/** The `d` tag of every desk announcement: one per desk pubkey. */
export const DESK_D_TAG = 'timmy-desk';

export class DeskAnnouncementError extends DvmEventError {
  constructor(message: string) {
    super(message);
    this.name = 'DeskAnnouncementError';
  }
}

export interface DeskAnnouncementSpec {
  /** The job request kinds some agent on the roster serves. */
  kinds: readonly number[];
  /** The roster agents' pubkeys (hex). */
  agents: readonly string[];
  /** The relays the desk reads (ws:// or wss://): where its agents work. */
  relays: readonly string[];
  name: string;
  about?: string;
  createdAt?: number;
}

/**
 * The kind 31990 template of a desk: ["d", "timmy-desk"], ["k", kind] per kind, ["p", agent] per agent (no
 * repeats), ["relays", url, …]. Throws RangeError on no kinds, a bad pubkey or a relay that is not ws(s)://.
 */
export function buildDeskAnnouncement(spec: DeskAnnouncementSpec): EventTemplate {
  for (const a of spec.agents)
    if (!isHex64(a)) throw new RangeError(`agent ${quote(a)} is not a pubkey of 64 lowercase hex characters`);
  for (const r of spec.relays)
    if (!hasProtocol(r, ['ws:', 'wss:']))
      throw new RangeError(`relay ${quote(r)} is not a ws:// or wss:// URL`);
  const extraTags = [...new Set(spec.agents)].map((a) => ['p', a]);
  if (spec.relays.length > 0) extraTags.push(['relays', ...new Set(spec.relays)]);
  return buildHandlerInfo({
    d: DESK_D_TAG,
    kinds: [...spec.kinds],
    metadata: { name: spec.name, ...(spec.about ? { about: spec.about } : {}) },
    extraTags,
    createdAt: spec.createdAt,
  });
}

export interface DeskAnnouncement {
  /** The desk. */
  pubkey: string;
  kinds: number[];
  /** The roster, in the order announced, without repeats. */
  agents: string[];
  relays: string[];
  /** '' when the content names none. */
  name: string;
  about: string;
  createdAt: number;
}

/** Whether an event is a desk announcement at all (kind 31990 with `d` = `timmy-desk`), before any parsing. */
export function isDeskAnnouncement(event: Pick<NostrEvent, 'kind' | 'tags'>): boolean {
  return event.kind === HANDLER_INFO_KIND && event.tags.find((t) => t[0] === 'd')?.[1] === DESK_D_TAG;
}

/** Reads a desk announcement. Throws DeskAnnouncementError naming what is wrong. */
export function parseDeskAnnouncement(event: NostrEvent): DeskAnnouncement {
  if (!isDeskAnnouncement(event))
    throw new DeskAnnouncementError(
      `not a desk announcement (kind ${HANDLER_INFO_KIND} with the d tag "${DESK_D_TAG}")`,
    );
  let info: ReturnType<typeof parseHandlerInfo>;
  try {
    info = parseHandlerInfo(event);
  } catch (err) {
    if (err instanceof HandlerInfoError) throw new DeskAnnouncementError(err.message);
    throw err;
  }
  const agents: string[] = [];
  const relays: string[] = [];
  for (const t of event.tags) {
    if (t[0] === 'p') {
      if (!isHex64(t[1]))
        throw new DeskAnnouncementError(
          `the p tag ${quote(String(t[1]))} is not a pubkey (64 lowercase hex)`,
        );
      if (!agents.includes(t[1])) agents.push(t[1]);
    } else if (t[0] === 'relays') {
      for (const r of t.slice(1)) {
        if (!hasProtocol(r, ['ws:', 'wss:']))
          throw new DeskAnnouncementError(`the relay ${quote(r)} is not a ws:// or wss:// URL`);
        if (!relays.includes(r)) relays.push(r);
      }
    }
  }
  return {
    pubkey: event.pubkey,
    kinds: info.kinds,
    agents,
    relays,
    name: info.metadata.name,
    about: info.metadata.about ?? '',
    createdAt: event.created_at,
  };
}
