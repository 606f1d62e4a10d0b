/**
 * The auction record (kind 7613, project-defined; docs/protocol.md "Auctions"): the coordinator's public
 * account of a settlement — every signed commitment, every opening, the reputations used, the ranking, the
 * invalid bids with reasons, the winner and the price — from which anyone can recompute the outcome
 * (auction/verify.ts).
 */
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import { plainEvent } from '../core/nostr.ts';
import { isHex64, parseNonNegativeInt, quote } from '../dvm/kinds.ts';
import { parseEventShape } from '../identity/verify-event.ts';
import { chainHead } from './chain.ts';
import { checkKind, cmp, countTag, hexTag, isCount, now } from './event-checks.ts';
import { auctionCommitments, parseAuctionOpen } from './events.ts';
import { AUCTION_RECORD_KIND, AuctionEventError } from './kinds.ts';
import type { BidOpening, InvalidBid, InvalidReason, RankedBid, Settlement } from './settle.ts';

// ---------------------------------------------------------------------------------------------------------
// Kind 7613: auction record

/** JSON with object keys sorted and no whitespace: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function byOpening(a: BidOpening, b: BidOpening): number {
  return (
    cmp(a.commitmentEventId, b.commitmentEventId) ||
    cmp(a.bidder, b.bidder) ||
    a.amountMsats - b.amountMsats ||
    cmp(a.nonce, b.nonce)
  );
}

export interface AuctionRecordSpec {
  /** The signed auction open. */
  open: NostrEvent;
  settlement: Settlement;
  /**
   * Every kind 7611 of this auction as seen on the relay (late ones included), signed; what
   * auctionCommitments does not count is left out.
   */
  commitments: NostrEvent[];
  /** Every opening received (unwrapOpening); those of no commitment in `commitments` are left out. */
  openings: BidOpening[];
  /** The reputations the settlement used; kept for the bidders only, completed from `settlement.ranked`. */
  reputations: Record<string, number>;
  /**
   * chainHead of auction/chain.ts over the commitments kept (auctionCommitments): computed when left out;
   * when given, it must be that value.
   */
  chainHead?: string;
  createdAt?: number;
}

/**
 * A kind 7613 template: ["e", auction id], ["job", job request id], ["winner", pubkey, msats] and ["price",
 * msats] when there is a winner, ["head", chain head], ["mechanism", settlement mechanism]. Content: the
 * canonical JSON of {commitments (the full signed events, chain order), openings, reputations, ranked,
 * invalid}. Throws RangeError on a reputation that is not a finite number or that disagrees with the
 * settlement's, a chain head that is not the commitments' (AuctionEventError on a malformed open).
 */
export function buildAuctionRecord(spec: AuctionRecordSpec): EventTemplate {
  const open = parseAuctionOpen(spec.open);
  const kept = auctionCommitments(open, spec.commitments);
  const commitments = kept.map((c) => plainEvent(c.event));
  const byId = new Map(commitments.map((e) => [e.id, e]));
  const head = chainHead(
    open.id,
    kept.map((c) => c.commitment),
  );
  if (spec.chainHead !== undefined && spec.chainHead !== head)
    throw new RangeError(
      `the chain head ${spec.chainHead} is not the head of the auction's ${commitments.length} commitments (${head})`,
    );
  const openingKeys = new Set<string>();
  const openings: BidOpening[] = [];
  for (const o of spec.openings) {
    if (byId.get(o.commitmentEventId)?.pubkey !== o.bidder) continue;
    const opening = {
      bidder: o.bidder,
      commitmentEventId: o.commitmentEventId,
      amountMsats: o.amountMsats,
      nonce: o.nonce,
    };
    const key = canonicalJson(opening);
    if (openingKeys.has(key)) continue;
    openingKeys.add(key);
    openings.push(opening);
  }
  openings.sort(byOpening);
  const reputations: Record<string, number> = {};
  const bidders = new Set(commitments.map((e) => e.pubkey));
  for (const [pubkey, r] of Object.entries(spec.reputations)) {
    if (!bidders.has(pubkey)) continue;
    if (typeof r !== 'number' || !Number.isFinite(r))
      throw new RangeError(`the reputation of ${pubkey} must be a finite number, got ${String(r)}`);
    reputations[pubkey] = r;
  }
  for (const b of spec.settlement.ranked) {
    const given = reputations[b.bidder];
    if (given === undefined) reputations[b.bidder] = b.reputation;
    else if (given !== b.reputation)
      throw new RangeError(
        `the settlement ranked ${b.bidder} with reputation ${b.reputation}, but reputations says ${given}`,
      );
  }
  const s = spec.settlement;
  const tags = [
    ['e', open.id],
    ['job', open.jobId],
  ];
  if (s.winner !== undefined) {
    tags.push(['winner', s.winner.bidder, String(s.winner.amountMsats)]);
    if (s.priceMsats !== undefined) tags.push(['price', String(s.priceMsats)]);
  }
  tags.push(['head', head], ['mechanism', s.mechanism]);
  const content = canonicalJson({
    commitments,
    openings,
    reputations,
    ranked: s.ranked,
    invalid: s.invalid,
  });
  return { kind: AUCTION_RECORD_KIND, created_at: spec.createdAt ?? now(), tags, content };
}

export interface AuctionRecord {
  id: string;
  /** The record's author: must be the open's. */
  coordinator: string;
  auctionId: string;
  jobId: string;
  mechanism: Settlement['mechanism'];
  head: string;
  winner?: { bidder: string; amountMsats: number };
  priceMsats?: number;
  /** Shape-checked only: their signatures are checked by verifyAuction. */
  commitments: NostrEvent[];
  openings: BidOpening[];
  reputations: Record<string, number>;
  ranked: RankedBid[];
  invalid: InvalidBid[];
  createdAt: number;
}

/** Every InvalidReason of settle.ts (tsc fails here when settle.ts adds one). */
const INVALID_REASONS = Object.keys({
  'no-opening': true,
  mismatch: true,
  duplicate: true,
  late: true,
  'not-eligible': true,
  'above-reserve': true,
  malformed: true,
} satisfies Record<InvalidReason, true>);

const MECHANISMS = Object.keys({ vickrey: true, 'first-price': true } satisfies Record<
  Settlement['mechanism'],
  true
>);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function contentError(what: string, detail: string): AuctionEventError {
  return new AuctionEventError(`the record's content: ${what} ${detail}`);
}

function arrayField(content: Json, name: string): unknown[] {
  const v = content[name];
  if (!Array.isArray(v)) throw contentError(name, 'must be an array');
  return v;
}

function hexField(o: Json, name: string, where: string): string {
  const v = o[name];
  if (!isHex64(v)) throw contentError(where, `needs ${name} as 64 lowercase hex characters`);
  return v;
}

function countField(o: Json, name: string, where: string): number {
  const v = o[name];
  if (!isCount(v)) throw contentError(where, `needs ${name} as a non-negative integer`);
  return v;
}

function stringField(o: Json, name: string, where: string): string {
  const v = o[name];
  if (typeof v !== 'string') throw contentError(where, `needs ${name} as a string`);
  return v;
}

function finiteField(o: Json, name: string, where: string): number {
  const v = o[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw contentError(where, `needs ${name} as a number`);
  return v;
}

function objects(content: Json, name: string): { o: Json; where: string }[] {
  return arrayField(content, name).map((o, i) => {
    const where = `${name}[${i}]`;
    if (!isObject(o)) throw contentError(where, 'must be an object');
    return { o, where };
  });
}

function parseRecordContent(
  content: string,
): Pick<AuctionRecord, 'commitments' | 'openings' | 'reputations' | 'ranked' | 'invalid'> {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    value = undefined;
  }
  if (!isObject(value)) throw new AuctionEventError("the record's content must be a JSON object");
  const commitments = arrayField(value, 'commitments').map((e, i) => {
    const shaped = parseEventShape(e);
    if (!shaped.ok) throw contentError(`commitments[${i}]`, `is not an event: ${shaped.reason}`);
    return shaped.event;
  });
  const openings = objects(value, 'openings').map(({ o, where }) => ({
    bidder: hexField(o, 'bidder', where),
    commitmentEventId: hexField(o, 'commitmentEventId', where),
    amountMsats: countField(o, 'amountMsats', where),
    nonce: stringField(o, 'nonce', where),
  }));
  const reps = value.reputations;
  if (!isObject(reps)) throw contentError('reputations', 'must be an object of pubkey → number');
  const reputations: Record<string, number> = {};
  for (const pubkey of Object.keys(reps)) {
    if (!isHex64(pubkey))
      throw contentError('reputations', `has a key that is not a pubkey: ${quote(pubkey)}`);
    reputations[pubkey] = finiteField(reps, pubkey, 'reputations');
  }
  const ranked = objects(value, 'ranked').map(({ o, where }) => ({
    bidder: hexField(o, 'bidder', where),
    commitmentEventId: hexField(o, 'commitmentEventId', where),
    amountMsats: countField(o, 'amountMsats', where),
    createdAt: countField(o, 'createdAt', where),
    reputation: finiteField(o, 'reputation', where),
  }));
  const invalid = objects(value, 'invalid').map(({ o, where }) => {
    const reason = stringField(o, 'reason', where);
    if (!INVALID_REASONS.includes(reason))
      throw contentError(
        where,
        `has an unknown reason ${quote(reason)} (one of ${INVALID_REASONS.join(', ')})`,
      );
    return {
      bidder: hexField(o, 'bidder', where),
      commitmentEventId: hexField(o, 'commitmentEventId', where),
      reason: reason as InvalidReason,
      detail: stringField(o, 'detail', where),
    };
  });
  return { commitments, openings, reputations, ranked, invalid };
}

/** Reads a kind 7613 event, tags and content. Throws AuctionEventError on anything malformed. */
export function parseAuctionRecord(event: NostrEvent): AuctionRecord {
  checkKind(event, AUCTION_RECORD_KIND, 'an auction record');
  const auctionId = hexTag(event, 'e', 'the auction id');
  const jobId = hexTag(event, 'job', 'the job request id');
  const head = hexTag(event, 'head', 'the chain head');
  const mechanism = event.tags.find((t) => t[0] === 'mechanism')?.[1];
  if (mechanism === undefined || !MECHANISMS.includes(mechanism))
    throw new AuctionEventError(
      `the mechanism tag must be one of ${MECHANISMS.join(', ')}, got ${quote(String(mechanism))}`,
    );
  const record: AuctionRecord = {
    id: event.id,
    coordinator: event.pubkey,
    auctionId,
    jobId,
    mechanism: mechanism as Settlement['mechanism'],
    head,
    ...parseRecordContent(event.content),
    createdAt: event.created_at,
  };
  const winnerTag = event.tags.find((t) => t[0] === 'winner');
  const priceMsats = countTag(event, 'price', 'the price in millisats');
  if (winnerTag !== undefined) {
    const amountMsats = parseNonNegativeInt(winnerTag[2]);
    if (!isHex64(winnerTag[1]) || amountMsats === undefined)
      throw new AuctionEventError(
        `the winner tag must be ["winner", "<pubkey>", "<msats>"], got ${quote(JSON.stringify(winnerTag))}`,
      );
    if (priceMsats === undefined)
      throw new AuctionEventError('a record with a winner needs a price tag: ["price", "<msats>"]');
    record.winner = { bidder: winnerTag[1], amountMsats };
    record.priceMsats = priceMsats;
  } else if (priceMsats !== undefined) {
    throw new AuctionEventError('a record with a price tag needs a winner tag');
  }
  return record;
}
