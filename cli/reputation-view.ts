import { systemClock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import type { Subscribe } from '../core/transport.ts';
import { parsePubkey } from '../identity/nip19.ts';
import { RelayClient } from '../relay/client.ts';
import { ReputationBook } from '../reputation/book.ts';
import { LABEL_KIND, LABEL_NAMESPACE, type LabelRejection } from '../reputation/labels.ts';
import type { ScoreOptions } from '../reputation/options.ts';
import { DELETION_KIND } from '../reputation/revocation.ts';
import type { Context } from './context.ts';
import { readInstanceRecord } from './instance-record.ts';
import { CliError } from './io.ts';
import { deskKey } from './local-keys.ts';

/**
 * The reputation as this instance sees it, loaded from a relay as any client would: the ai.wot labels (kind
 * 1985, `#L` ai.wot) and the deletions of labels (kind 5, `#k` 1985, as reputation/revocation.ts writes
 * them), read in pages by `until` and bounded; the seeds are the desk's key and `reputation.seeds`, the
 * options `reputation.halfLifeDays` and `reputation.damping`. `timmy rep`, `timmy agents` and `timmy peers`
 * read their scores here.
 */

export interface ReputationView {
  book: ReputationBook;
  /** The labels the book refused (parse rejections, with their reason), per rated pubkey ('' when unreadable). */
  rejections: Map<string, LabelRejection[]>;
  /** The observer's seeds (hex). */
  seeds: string[];
  /** What was read: labels and deletions, and whether a bound cut the reading short. */
  read: { labels: number; deletions: number; truncated: boolean };
}

export interface LoadOptions {
  seeds: readonly string[];
  score?: Partial<ScoreOptions>;
  /** At most this many labels and this many deletions are read (default 100,000 each). */
  maxEvents?: number;
  /** Events asked for per query (a relay may answer fewer: its own limit). Default 1000. */
  pageSize?: number;
}

const MAX_EVENTS = 100_000;
const PAGE = 1000;

/** The book of the labels and deletions on `relay`. Relay errors are thrown as they come. */
export async function loadReputation(
  relay: Pick<Subscribe, 'query'>,
  options: LoadOptions,
): Promise<ReputationView> {
  const max = options.maxEvents ?? MAX_EVENTS;
  const page = options.pageSize ?? PAGE;
  const labels = await readPaged(relay, { kinds: [LABEL_KIND], '#L': [LABEL_NAMESPACE] }, max, page);
  const deletions = await readPaged(relay, { kinds: [DELETION_KIND], '#k': [String(LABEL_KIND)] }, max, page);
  // The relay client checks every event's id and signature as it arrives (relay/client.ts).
  const book = new ReputationBook({
    seeds: options.seeds,
    clock: systemClock,
    verify: null,
    ...(options.score ? { score: options.score } : {}),
  });
  const rejections = new Map<string, LabelRejection[]>();
  for (const r of book.addAll([...labels.events, ...deletions.events])) {
    if (r.status !== 'rejected') continue;
    const key = r.rejection.subject ?? '';
    const list = rejections.get(key) ?? [];
    list.push(r.rejection);
    rejections.set(key, list);
  }
  return {
    book,
    rejections,
    seeds: [...options.seeds],
    read: {
      labels: labels.events.length,
      deletions: deletions.events.length,
      truncated: labels.truncated || deletions.truncated,
    },
  };
}

/**
 * Every event matching `filter`, newest first, by pages: each next page asks `until` the oldest time seen
 * (events of the same second are read again and kept once), then below it once a page brings nothing new.
 * A second holding more events than a page can list loses the rest (NIP-01 pages by time only).
 */
export async function readPaged(
  relay: Pick<Subscribe, 'query'>,
  filter: Filter,
  max: number,
  pageSize: number,
): Promise<{ events: NostrEvent[]; truncated: boolean }> {
  const seen = new Map<string, NostrEvent>();
  let until: number | undefined;
  for (;;) {
    const events = await relay.query([
      { ...filter, limit: pageSize, ...(until === undefined ? {} : { until }) },
    ]);
    if (events.length === 0) break;
    let fresh = 0;
    let oldest = Number.POSITIVE_INFINITY;
    for (const e of events) {
      oldest = Math.min(oldest, e.created_at);
      if (seen.has(e.id)) continue;
      if (seen.size >= max) return { events: [...seen.values()], truncated: true };
      seen.set(e.id, e);
      fresh++;
    }
    // Each round either keeps new events (at most `max`) or moves `until` back: the loop ends.
    const next = fresh > 0 ? oldest : oldest - 1;
    if (next < 0 || (fresh === 0 && until !== undefined && next >= until)) break; // `until` not honoured
    until = next;
  }
  return { events: [...seen.values()], truncated: false };
}

/** The seeds of this instance: the desk's key (when it has one) and `reputation.seeds`. */
export async function instanceSeeds(ctx: Context): Promise<string[]> {
  const seeds = new Set<string>();
  const desk = await deskKey(ctx).catch(() => undefined);
  if (desk?.pubkey) seeds.add(desk.pubkey);
  for (const s of ctx.config.reputation.seeds) {
    try {
      seeds.add(parsePubkey(s));
    } catch (err) {
      throw new CliError(`reputation.seeds: ${s}: ${errorMessage(err)}`, 2);
    }
  }
  return [...seeds];
}

/** The book as this instance sees it, read from the relay at `url`. */
export async function reputationAt(ctx: Context, url: string): Promise<ReputationView> {
  const seeds = await instanceSeeds(ctx);
  const client = new RelayClient({ url, logger: ctx.logger });
  try {
    await client.connect().catch((err: unknown) => {
      throw new CliError(`cannot reach the relay ${url}: ${errorMessage(err)}`, 1);
    });
    return await loadReputation(client, {
      seeds,
      score: { halfLifeDays: ctx.config.reputation.halfLifeDays, damping: ctx.config.reputation.damping },
    });
  } finally {
    client.close();
  }
}

/**
 * The book from the running instance's relay, for views that show scores beside other things (`timmy
 * agents`, `timmy peers`): undefined when no instance runs or its relay cannot be read (scores then unknown).
 */
export async function runningReputation(ctx: Context): Promise<ReputationView | undefined> {
  const record = await readInstanceRecord(ctx.dataDir);
  if (record.state !== 'running') return undefined;
  try {
    return await reputationAt(ctx, record.record.localRelayUrl);
  } catch (err) {
    ctx.logger.warn({ err: errorMessage(err) }, 'reputation scores unavailable');
    return undefined;
  }
}
