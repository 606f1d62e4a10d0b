import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { type HandlerInfo, parseHandlerInfo } from '../../dvm/announcement.ts';
import { parseHeartbeat } from '../../dvm/coordination.ts';
import {
  type DeskAnnouncement,
  isDeskAnnouncement,
  parseDeskAnnouncement,
} from '../../dvm/desk-announcement.ts';
import { DVM_HEARTBEAT_KIND, dvmHeartbeatFresh, parseDvmHeartbeat } from '../../dvm/dvm-heartbeat.ts';
import { HANDLER_INFO_KIND, HEARTBEAT_KIND } from '../../dvm/kinds.ts';

/** A desk announced on a peer relay. */
export interface PeerDesk {
  pubkey: string;
  /** The peer relay it was found on. */
  relay: string;
  /** From its announcement's content ('' when it names none). */
  name: string;
  about: string;
  kinds: number[];
  /** Its roster: the agents' pubkeys. */
  agents: string[];
  /** The relays it says it reads. */
  relays: string[];
  /** Milliseconds since the epoch: its announcement's date or its agents' last heartbeat, the later. */
  lastSeen: number;
}

/** An agent of a peer desk, as its announcements and heartbeats on the peer relay tell it. */
export interface PeerAgent {
  pubkey: string;
  /** `<name>@<relay host>`, the name from its announcement (its `d` tag without `timmy-`, else its content). */
  name: string;
  /** The desk whose roster names it (the newest announcement, when several do). */
  desk: string;
  relay: string;
  /** Announced (NIP-89) kinds; before any announcement, the kinds its heartbeat names. */
  kinds: number[];
  /** Listed per-job prices: kind → msats. */
  prices: Map<number, number>;
  /** A heartbeat within the agent timeout. */
  alive: boolean;
  /**
   * Milliseconds since the epoch of the last heartbeat: a live one (kind 20600) when received, a stored one
   * (kind 11998, unexpired) when dated; undefined before the first.
   */
  lastBeatAt: number | undefined;
  load: number;
}

export interface PeerBookOptions {
  /** The peer relay's URL. */
  relay: string;
  /** This instance's desk: its own announcement is not a peer. */
  self?: string;
  /** When not empty, the only desks followed (hex pubkeys). */
  trusted?: ReadonlySet<string>;
  clock: Clock;
  logger: Logger;
  /** An agent is alive within this of its last heartbeat (dvm.agentTimeoutMs). */
  agentTimeoutMs: number;
  maxDesks: number;
  /** Agents in all, over every desk of this relay. */
  maxAgents: number;
  /** An event with more tags is ignored. */
  maxTags: number;
}

/** What an event did to the book: `roster` when the set of followed agents changed. */
export type BookChange = 'roster' | 'changed' | 'unchanged';

/** Announcements kept per agent (one per `d`), and the most content read from one. */
const MAX_ANNOUNCEMENTS_PER_AGENT = 8;
const MAX_CONTENT_CHARS = 16_384;

interface Beat {
  at: number;
  load: number;
  kinds: number[];
}

/**
 * What one peer relay holds for this desk: the desks announced there (trusted ones, never this desk itself),
 * the agents their rosters name, those agents' NIP-89 announcements and their heartbeats. Bounded: at most
 * `maxDesks` desks and `maxAgents` agents; an event past a bound, malformed, from a stranger, too large or
 * older than what is known changes nothing, and the reason is logged at debug.
 */
export class PeerBook {
  private readonly desksByKey = new Map<string, DeskAnnouncement>();
  /** agent → the desk that lists it (the newest announcement among those that do). */
  private deskOf = new Map<string, string>();
  private readonly infos = new Map<string, Map<string, HandlerInfo>>();
  private readonly beats = new Map<string, Beat>();
  /** The agents' kind 11998 heartbeats: when dated (ms), and the load they state. */
  private readonly dvmBeats = new Map<string, { at: number; load: number | undefined }>();
  private readonly host: string;
  private readonly log: Logger;

  constructor(private readonly options: PeerBookOptions) {
    this.host = hostOf(options.relay);
    this.log = options.logger.child({ peerRelay: options.relay });
  }

  /** The agents followed (named by a desk's roster), for the relay subscription. */
  agentPubkeys(): string[] {
    return [...this.deskOf.keys()];
  }

  apply(event: NostrEvent): BookChange {
    const refused = this.refusal(event);
    if (refused !== undefined) {
      this.log.debug(
        { eventId: event.id, author: event.pubkey, kind: event.kind, reason: refused },
        'ignored',
      );
      return 'unchanged';
    }
    try {
      if (isDeskAnnouncement(event)) return this.applyDesk(parseDeskAnnouncement(event));
      if (event.kind === HANDLER_INFO_KIND) return this.applyInfo(parseHandlerInfo(event));
      if (event.kind === HEARTBEAT_KIND) return this.applyBeat(event);
      if (event.kind === DVM_HEARTBEAT_KIND) return this.applyDvmBeat(event);
      return this.ignore(event, `kind ${event.kind} is not followed`);
    } catch (err) {
      return this.ignore(event, `malformed: ${errorMessage(err)}`);
    }
  }

  private refusal(event: NostrEvent): string | undefined {
    if (event.tags.length > this.options.maxTags)
      return `${event.tags.length} tags, more than ${this.options.maxTags}`;
    if (event.content.length > MAX_CONTENT_CHARS) return `content of ${event.content.length} characters`;
    if (isDeskAnnouncement(event)) {
      if (event.pubkey === this.options.self) return 'our own desk';
      const trusted = this.options.trusted;
      if (trusted && trusted.size > 0 && !trusted.has(event.pubkey)) return 'not a trusted desk';
      return undefined;
    }
    if (!this.deskOf.has(event.pubkey)) return 'not an agent of a followed desk';
    return undefined;
  }

  private ignore(event: NostrEvent, reason: string): BookChange {
    this.log.debug({ eventId: event.id, author: event.pubkey, kind: event.kind, reason }, 'ignored');
    return 'unchanged';
  }

  private applyDesk(desk: DeskAnnouncement): BookChange {
    const before = this.desksByKey.get(desk.pubkey);
    if (before && before.createdAt >= desk.createdAt) return 'unchanged';
    if (!before && this.desksByKey.size >= this.options.maxDesks)
      return this.ignoreDesk(desk, `already ${this.options.maxDesks} desks on this relay`);
    const next = new Map(this.desksByKey);
    next.set(desk.pubkey, desk);
    const deskOf = rosterIndex(next);
    if (deskOf.size > this.options.maxAgents)
      return this.ignoreDesk(desk, `its roster would take this relay past ${this.options.maxAgents} agents`);
    this.desksByKey.set(desk.pubkey, desk);
    const rosterChanged = !sameKeys(deskOf, this.deskOf);
    this.deskOf = deskOf;
    for (const agent of [...this.infos.keys(), ...this.beats.keys(), ...this.dvmBeats.keys()])
      if (!deskOf.has(agent)) {
        this.infos.delete(agent);
        this.beats.delete(agent);
        this.dvmBeats.delete(agent);
      }
    this.log.debug({ desk: desk.pubkey, agents: desk.agents.length, kinds: desk.kinds }, 'peer desk');
    return rosterChanged ? 'roster' : 'changed';
  }

  private ignoreDesk(desk: DeskAnnouncement, reason: string): BookChange {
    this.log.debug({ author: desk.pubkey, reason }, 'ignored');
    return 'unchanged';
  }

  private applyInfo(info: HandlerInfo): BookChange {
    let mine = this.infos.get(info.pubkey);
    const before = mine?.get(info.d);
    if (before && before.createdAt >= info.createdAt) return 'unchanged';
    if (!mine) {
      mine = new Map();
      this.infos.set(info.pubkey, mine);
    }
    if (!before && mine.size >= MAX_ANNOUNCEMENTS_PER_AGENT) {
      this.log.debug(
        { author: info.pubkey, d: info.d, reason: 'too many announcements from one agent' },
        'ignored',
      );
      return 'unchanged';
    }
    mine.set(info.d, info);
    return 'changed';
  }

  private applyBeat(event: NostrEvent): BookChange {
    const hb = parseHeartbeat(event);
    const now = this.options.clock.now();
    if (event.created_at * 1000 < now - this.options.agentTimeoutMs)
      return this.ignore(event, 'a stale heartbeat');
    const before = this.beats.get(event.pubkey);
    const wasAlive = before !== undefined && now - before.at < this.options.agentTimeoutMs;
    this.beats.set(event.pubkey, { at: now, load: hb.load, kinds: hb.kinds });
    return wasAlive && sameNumbers(before.kinds, hb.kinds) ? 'unchanged' : 'changed';
  }

  /** A stored heartbeat (kind 11998): the last known sign of life, dated by its author, never later than now. */
  private applyDvmBeat(event: NostrEvent): BookChange {
    const hb = parseDvmHeartbeat(event);
    const now = this.options.clock.now();
    if (!dvmHeartbeatFresh(hb, Math.floor(now / 1000))) return this.ignore(event, 'an expired DVM heartbeat');
    const at = Math.min(hb.at * 1000, now);
    const before = this.dvmBeats.get(event.pubkey);
    if (before && before.at >= at) return 'unchanged';
    this.dvmBeats.set(event.pubkey, { at, load: hb.load });
    return 'changed';
  }

  private lastBeat(pubkey: string): { at: number; load: number } | undefined {
    const live = this.beats.get(pubkey);
    const stored = this.dvmBeats.get(pubkey);
    if (stored && (!live || stored.at > live.at))
      return { at: stored.at, load: stored.load ?? live?.load ?? 0 };
    return live;
  }

  desks(): PeerDesk[] {
    return [...this.desksByKey.values()].map((d) => {
      const beats = d.agents.map((a) => this.lastBeat(a)?.at ?? 0);
      return {
        pubkey: d.pubkey,
        relay: this.options.relay,
        name: d.name,
        about: d.about,
        kinds: [...d.kinds],
        agents: [...d.agents],
        relays: [...d.relays],
        lastSeen: Math.max(d.createdAt * 1000, ...beats),
      };
    });
  }

  agents(): PeerAgent[] {
    const now = this.options.clock.now();
    return [...this.deskOf].map(([pubkey, desk]) => {
      const infos = [...(this.infos.get(pubkey)?.values() ?? [])].sort((a, b) => b.createdAt - a.createdAt);
      const beat = this.lastBeat(pubkey);
      const kinds =
        infos.length > 0
          ? [...new Set(infos.flatMap((i) => i.kinds))].sort((a, b) => a - b)
          : [...(this.beats.get(pubkey)?.kinds ?? [])];
      const prices = new Map<number, number>();
      for (const info of [...infos].reverse())
        for (const p of info.pricing) if (p.unit === 'job') prices.set(p.kind, p.msats);
      return {
        pubkey,
        name: `${agentName(infos[0], pubkey)}@${this.host}`,
        desk,
        relay: this.options.relay,
        kinds,
        prices,
        alive: beat !== undefined && now - beat.at < this.options.agentTimeoutMs,
        lastBeatAt: beat?.at,
        load: beat?.load ?? 0,
      };
    });
  }
}

/** agent → the desk listing it, the newest desk announcement first. */
function rosterIndex(desks: ReadonlyMap<string, DeskAnnouncement>): Map<string, string> {
  const out = new Map<string, string>();
  const newestFirst = [...desks.values()].sort((a, b) => b.createdAt - a.createdAt);
  for (const d of newestFirst) for (const a of d.agents) if (!out.has(a)) out.set(a, d.pubkey);
  return out;
}

function agentName(info: HandlerInfo | undefined, pubkey: string): string {
  const fromD = info?.d.startsWith('timmy-') ? info.d.slice('timmy-'.length) : '';
  const name = fromD || info?.metadata.name || pubkey.slice(0, 8);
  return name.replace(/[^\w.-]/g, '_').slice(0, 64);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

function sameKeys(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const k of a.keys()) if (!b.has(k)) return false;
  return true;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
