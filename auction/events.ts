/**
 * The auction's public events (project-defined; docs/protocol.md "Auctions"): the coordinator's auction
 * open (kind 7610), a bidder's sealed bid (kind 7611) and the coordinator's record of the settlement (kind
 * 7613). Builders return unsigned templates (the caller signs with a Signer); parsers take a signed event
 * and throw AuctionEventError with a message fit for a log line or a NIP-90 error feedback.
 */
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import { plainEvent } from '../core/nostr.ts';
import {
  isHex64,
  isJobRequestKind,
  JOB_REQUEST_MAX,
  JOB_REQUEST_MIN,
  parseNonNegativeInt,
  quote,
} from '../dvm/kinds.ts';
import { parseEventShape } from '../identity/verify-event.ts';
import { chainHead } from './chain.ts';
import { AUCTION_OPEN_KIND, AUCTION_RECORD_KIND, AuctionEventError, BID_COMMITMENT_KIND } from './kinds.ts';
import type {
  AuctionTerms,
  BidOpening,
  InvalidBid,
  InvalidReason,
  RankedBid,
  SealedBid,
  Settlement,
} from './settle.ts';

const now = (): number => Math.floor(Date.now() / 1000);

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Commitment events in chain order: created_at, then id. */
function byChainOrder(a: NostrEvent, b: NostrEvent): number {
  return a.created_at - b.created_at || cmp(a.id, b.id);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function requireHex(value: string, what: string): void {
  if (!isHex64(value)) throw new RangeError(`${what} must be 64 lowercase hex characters`);
}

function requireCount(value: number, what: string): void {
  if (!isCount(value)) throw new RangeError(`${what} must be a non-negative integer, got ${String(value)}`);
}

function checkKind(event: NostrEvent, kind: number, name: string): void {
  if (event.kind !== kind)
    throw new AuctionEventError(`kind ${String(event.kind)} is not ${name} (kind ${kind})`);
}

/** The first tag `name` as 64 lowercase hex, else AuctionEventError naming `what` it should hold. */
function hexTag(event: NostrEvent, name: string, what: string): string {
  const value = event.tags.find((t) => t[0] === name)?.[1];
  if (!isHex64(value))
    throw new AuctionEventError(
      `the ${name} tag must hold ${what} (64 lowercase hex characters), got ${quote(String(value))}`,
    );
  return value;
}

/** The first tag `name` as a non-negative integer; undefined when absent, AuctionEventError when malformed. */
function countTag(event: NostrEvent, name: string, what: string): number | undefined {
  const tag = event.tags.find((t) => t[0] === name);
  if (tag === undefined) return undefined;
  const n = parseNonNegativeInt(tag[1]);
  if (n === undefined)
    throw new AuctionEventError(
      `the ${name} tag must hold ${what} as a non-negative integer, got ${quote(String(tag[1]))}`,
    );
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Kind 7610: auction open

export interface AuctionOpenSpec {
  /** The NIP-90 job request auctioned. */
  request: Pick<NostrEvent, 'id' | 'pubkey' | 'kind'>;
  /** Unix seconds: commitments created after this are late. */
  deadline: number;
  /** The most the customer pays, in millisats (usually the request's `bid` tag): higher bids are invalid. */
  reserveMsats?: number;
  /**
   * The agents invited to bid (one ["bidder", pubkey] tag each); only they can be eligible, and each must
   * also have announced the kind (NIP-89). Empty or absent: everyone who announced the kind.
   */
  invited?: readonly string[];
  createdAt?: number;
}

/**
 * A kind 7610 template: ["e", request id], ["k", request kind], ["deadline", unix s], ["reserve", msats]
 * when set, ["bidder", pubkey] per invited agent, ["p", customer]; content empty. Throws RangeError on a bad request, a deadline not after
 * created_at, or a bad reserve.
 */
export function buildAuctionOpen(spec: AuctionOpenSpec): EventTemplate {
  requireHex(spec.request.id, 'the request id');
  requireHex(spec.request.pubkey, "the request's pubkey");
  if (!isJobRequestKind(spec.request.kind))
    throw new RangeError(
      `kind ${String(spec.request.kind)} is not a job request kind (${JOB_REQUEST_MIN}-${JOB_REQUEST_MAX})`,
    );
  const createdAt = spec.createdAt ?? now();
  requireCount(spec.deadline, 'the deadline');
  if (spec.deadline <= createdAt)
    throw new RangeError(`the deadline ${spec.deadline} must be after the auction opens (${createdAt})`);
  if (spec.reserveMsats !== undefined) requireCount(spec.reserveMsats, 'the reserve (millisats)');
  const tags = [
    ['e', spec.request.id],
    ['k', String(spec.request.kind)],
    ['deadline', String(spec.deadline)],
  ];
  if (spec.reserveMsats !== undefined) tags.push(['reserve', String(spec.reserveMsats)]);
  for (const pk of spec.invited ?? []) {
    requireHex(pk, 'an invited bidder');
    tags.push(['bidder', pk]);
  }
  tags.push(['p', spec.request.pubkey]);
  return { kind: AUCTION_OPEN_KIND, created_at: createdAt, tags, content: '' };
}

export interface AuctionOpen {
  /** The open event's id: the auction's id. */
  id: string;
  coordinator: string;
  /** The job request's id. */
  jobId: string;
  /** The job request's kind. */
  kind: number;
  deadline: number;
  reserveMsats?: number;
  /** Invited bidders (["bidder", pubkey] tags); empty: anyone who announced the kind. */
  invited: string[];
  customer: string;
  createdAt: number;
}

/** Reads a kind 7610 event. Throws AuctionEventError. */
export function parseAuctionOpen(event: NostrEvent): AuctionOpen {
  checkKind(event, AUCTION_OPEN_KIND, 'an auction open');
  const jobId = hexTag(event, 'e', 'the job request id');
  const rawKind = event.tags.find((t) => t[0] === 'k')?.[1];
  const kind = parseNonNegativeInt(rawKind);
  if (kind === undefined || !isJobRequestKind(kind))
    throw new AuctionEventError(
      `the k tag must hold a job request kind (${JOB_REQUEST_MIN}-${JOB_REQUEST_MAX}), got ${quote(String(rawKind))}`,
    );
  const deadline = countTag(event, 'deadline', 'the deadline in unix seconds');
  if (deadline === undefined)
    throw new AuctionEventError('an auction open needs a deadline tag: ["deadline", "<unix seconds>"]');
  if (deadline <= event.created_at)
    throw new AuctionEventError(
      `the deadline ${deadline} is not after the auction opened (created_at ${event.created_at})`,
    );
  const reserveMsats = countTag(event, 'reserve', 'the reserve in millisats');
  const customer = hexTag(event, 'p', "the customer's pubkey");
  const invited: string[] = [];
  for (const t of event.tags) {
    if (t[0] !== 'bidder') continue;
    if (!isHex64(t[1]))
      throw new AuctionEventError(`a bidder tag must hold a pubkey, got ${quote(String(t[1]))}`);
    if (!invited.includes(t[1])) invited.push(t[1]);
  }
  const open: AuctionOpen = {
    id: event.id,
    coordinator: event.pubkey,
    jobId,
    kind,
    deadline,
    invited,
    customer,
    createdAt: event.created_at,
  };
  if (reserveMsats !== undefined) open.reserveMsats = reserveMsats;
  return open;
}

/** The settle.ts terms of an auction, given who is eligible (e.g. `eligibleBidders` of auction/verify.ts). */
export function auctionTerms(open: AuctionOpen, eligible: readonly string[]): AuctionTerms {
  const terms: AuctionTerms = { jobId: open.jobId, kind: open.kind, deadline: open.deadline, eligible };
  if (open.reserveMsats !== undefined) terms.reserveMsats = open.reserveMsats;
  return terms;
}

// ---------------------------------------------------------------------------------------------------------
// Kind 7611: bid commitment

export interface CommitmentSpec {
  /** The auction: its open event's id, and the job request's id. */
  open: { id: string; jobId: string };
  /** commitBid(...) of auction/commitment.ts: hex sha256. */
  commitment: string;
  /**
   * The id of the latest commitment this bidder saw in this auction, or the open's id when it saw none.
   * The commitment's created_at must not be before that commitment's (auction/chain.ts).
   */
  prev: string;
  createdAt?: number;
}

/**
 * A kind 7611 template: ["e", auction id], ["job", job request id], ["commitment", hex], ["prev", id];
 * content empty. Throws RangeError on a value that is not 64 lowercase hex.
 */
export function buildCommitment(spec: CommitmentSpec): EventTemplate {
  requireHex(spec.open.id, 'the auction id');
  requireHex(spec.open.jobId, 'the job request id');
  requireHex(spec.commitment, 'the commitment');
  requireHex(spec.prev, 'prev');
  return {
    kind: BID_COMMITMENT_KIND,
    created_at: spec.createdAt ?? now(),
    tags: [
      ['e', spec.open.id],
      ['job', spec.open.jobId],
      ['commitment', spec.commitment],
      ['prev', spec.prev],
    ],
    content: '',
  };
}

export interface Commitment {
  id: string;
  bidder: string;
  /** The auction (its open event's id). */
  auctionId: string;
  jobId: string;
  commitment: string;
  prev: string;
  createdAt: number;
}

/** Reads a kind 7611 event. Throws AuctionEventError. */
export function parseCommitment(event: NostrEvent): Commitment {
  checkKind(event, BID_COMMITMENT_KIND, 'a bid commitment');
  return {
    id: event.id,
    bidder: event.pubkey,
    auctionId: hexTag(event, 'e', 'the auction id'),
    jobId: hexTag(event, 'job', 'the job request id'),
    commitment: hexTag(event, 'commitment', 'the sha256 commitment'),
    prev: hexTag(event, 'prev', 'the previous commitment id or the auction id'),
    createdAt: event.created_at,
  };
}

/** The settle.ts view of a commitment. */
export function sealedBid(c: Commitment): SealedBid {
  return { bidder: c.bidder, commitment: c.commitment, commitmentEventId: c.id, createdAt: c.createdAt };
}

/** A commitment event with what it says. */
export interface CommitmentOf {
  event: NostrEvent;
  commitment: Commitment;
}

/**
 * The commitments that count in an auction, out of what a relay returned for `#e` = its id: kind 7611,
 * well formed, whose (first) `e` tag is the auction and `job` tag its job; once each, in chain order
 * (created_at, id). Anything else is nobody's bid: the record leaves it out and verifyAuction ignores it.
 * Signatures are not checked here (the relay checked them; verifyAuction checks them again).
 */
export function auctionCommitments(
  open: Pick<AuctionOpen, 'id' | 'jobId'>,
  events: readonly NostrEvent[],
): CommitmentOf[] {
  const byId = new Map<string, CommitmentOf>();
  for (const event of events) {
    if (event.kind !== BID_COMMITMENT_KIND || byId.has(event.id)) continue;
    let commitment: Commitment;
    try {
      commitment = parseCommitment(event);
    } catch {
      continue;
    }
    if (commitment.auctionId === open.id && commitment.jobId === open.jobId)
      byId.set(event.id, { event, commitment });
  }
  return [...byId.values()].sort((a, b) => byChainOrder(a.event, b.event));
}

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
