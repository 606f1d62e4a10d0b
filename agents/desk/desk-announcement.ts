import { type Clock, systemClock, unixSeconds } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { EventTemplate, Filter } from '../../core/nostr.ts';
import type { Signer } from '../../core/signer.ts';
import type { Publish, Subscribe } from '../../core/transport.ts';
import { sameHandlerInfo } from '../../dvm/announcement.ts';
import { buildDeskAnnouncement, DESK_D_TAG } from '../../dvm/desk-announcement.ts';
import { HANDLER_INFO_KIND } from '../../dvm/kinds.ts';
import { buildRelayList, RELAY_LIST_KIND } from '../../dvm/relay-list.ts';
import type { ProfilePublisher } from '../profile-publisher.ts';

export interface DeskAnnouncementOptions {
  signer: Signer;
  /** The desk's pubkey (hex). */
  pubkey: string;
  /** The desk's own connection to its relay. */
  relay: Publish & Subscribe;
  /** Publishes with retry (the agents' profiles and announcements go the same way). */
  publisher: ProfilePublisher;
  /** The roster: every agent the desk assigns work to, with the kinds it serves. */
  roster: readonly { pubkey: string; kinds: readonly number[] }[];
  /** The instance's relays as others reach them (relay.publicUrl, else its URL). */
  relays: readonly string[];
  name: string;
  about?: string;
  logger: Logger;
  clock?: Clock;
}

/** The desk's two announcements: kind 31990 (`d` = `timmy-desk`), and its NIP-65 relay list (kind 10002). */
export function deskAnnouncementTemplates(options: DeskAnnouncementOptions): EventTemplate[] {
  const at = unixSeconds(options.clock ?? systemClock);
  const kinds = [...new Set(options.roster.flatMap((a) => a.kinds))].sort((a, b) => a - b);
  const out: EventTemplate[] = [];
  if (kinds.length > 0)
    out.push(
      buildDeskAnnouncement({
        kinds,
        agents: options.roster.filter((a) => a.kinds.length > 0).map((a) => a.pubkey),
        relays: options.relays,
        name: options.name,
        about: options.about,
        createdAt: at,
      }),
    );
  out.push(buildRelayList(options.relays, at));
  return out;
}

/**
 * Publishes the desk's announcements (docs/federation.md) when they differ from what the relay has, so that
 * peers and any Nostr client find this instance's desk, its roster and its relays. A desk whose roster serves
 * no kind announces only its relays. Resolves once each was tried; the publisher retries failures in the
 * background. Returns what was published now (`desk`, `relays`).
 */
export async function publishDeskAnnouncements(options: DeskAnnouncementOptions): Promise<string[]> {
  const templates = deskAnnouncementTemplates(options);
  const items = await Promise.all(
    templates.map(async (template) => {
      const name = template.kind === RELAY_LIST_KIND ? 'relays' : 'desk';
      const filter: Filter = { kinds: [template.kind], authors: [options.pubkey] };
      if (template.kind === HANDLER_INFO_KIND) filter['#d'] = [DESK_D_TAG];
      const existing = await options.relay.query([filter], { timeoutMs: 3000 }).catch(() => []);
      if (existing.some((e) => sameHandlerInfo(template, e))) return undefined;
      // A change must replace what the relay has, even within the same second.
      const newest = Math.max(0, ...existing.map((e) => e.created_at));
      template.created_at = Math.max(template.created_at, newest + 1);
      return { name, event: await options.signer.signEvent(template), via: options.relay };
    }),
  );
  const changed = items.filter((i) => i !== undefined);
  if (changed.length === 0) return [];
  const published = await options.publisher.publishAll(changed);
  options.logger.debug({ published }, 'desk announcement (kind 31990) and relay list (kind 10002) published');
  return published;
}
