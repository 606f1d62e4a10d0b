/**
 * The auction's public events (project-defined; docs/protocol.md "Auctions"): the coordinator's auction
 * open (kind 7610) and a bidder's sealed bid (kind 7611); the record of the settlement (kind 7613) is in
 * auction/record.ts. Builders return unsigned templates (the caller signs with a Signer); parsers take a signed event
 * and throw AuctionEventError with a message fit for a log line or a NIP-90 error feedback.
 */
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import {
  isHex64,
  isJobRequestKind,
  JOB_REQUEST_MAX,
  JOB_REQUEST_MIN,
  parseNonNegativeInt,
  quote,
} from '../dvm/kinds.ts';
import { byChainOrder, checkKind, countTag, hexTag, now, requireCount, requireHex } from './event-checks.ts';
import { AUCTION_OPEN_KIND, AuctionEventError, BID_COMMITMENT_KIND } from './kinds.ts';
import type { AuctionTerms, SealedBid } from './settle.ts';

// ---------------------------------------------------------------------------------------------------------
// Kind 7610: auction open

export interface AuctionOpenSpec {
  /** The NIP-90 job request auctioned. */
  request: Pick<NostrEvent, 'id' | 'pubkey' | 'kind'>;
  /** Unix seconds: commitments created after this are late. */
  deadline: number;
  /**
   * The most the work may cost, in millisats: the customer's `bid` less the instance's fee. Higher bids are
   * invalid.
   */
  reserveMsats?: number;
  /**
   * The agents invited to bid (one ["bidder", pubkey] tag each); only they can be eligible, and each must
   * also have announced the kind (NIP-89). Empty or absent: everyone who announced the kind.
   */
  invited?: readonly string[];
  /**
   * Per invited bidder, what it is paid at most when its bid is the only valid one (its listed NIP-89 price
   * for the kind), never less than its own bid: ["bidder", pubkey, msats].
   */
  soleBidCaps?: Readonly<Record<string, number>>;
  createdAt?: number;
}

/**
 * A kind 7610 template: ["e", request id], ["k", request kind], ["deadline", unix s], ["reserve", msats]
 * when set, ["bidder", pubkey] per invited agent (["bidder", pubkey, msats] with its sole-bid cap), ["p",
 * customer]; content empty. Throws RangeError on a bad request, a deadline not after created_at, or a bad
 * reserve or cap.
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
    const cap = spec.soleBidCaps?.[pk];
    if (cap === undefined) tags.push(['bidder', pk]);
    else {
      requireCount(cap, "an invited bidder's sole-bid cap (millisats)");
      tags.push(['bidder', pk, String(cap)]);
    }
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
  /** What an invited bidder is paid at most when its bid is the only valid one (["bidder", pubkey, msats]). */
  soleBidCaps: Record<string, number>;
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
  const soleBidCaps: Record<string, number> = {};
  for (const t of event.tags) {
    if (t[0] !== 'bidder') continue;
    if (!isHex64(t[1]))
      throw new AuctionEventError(`a bidder tag must hold a pubkey, got ${quote(String(t[1]))}`);
    if (t[2] !== undefined) {
      const cap = parseNonNegativeInt(t[2]);
      if (cap === undefined)
        throw new AuctionEventError(`a bidder tag's cap must be millisats, got ${quote(String(t[2]))}`);
      soleBidCaps[t[1]] ??= cap;
    }
    if (!invited.includes(t[1])) invited.push(t[1]);
  }
  const open: AuctionOpen = {
    id: event.id,
    coordinator: event.pubkey,
    jobId,
    kind,
    deadline,
    invited,
    soleBidCaps,
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
  if (Object.keys(open.soleBidCaps).length > 0) terms.soleBidCapMsats = open.soleBidCaps;
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

/** The most a commitment event may weigh (its JSON); an honest one is about 600 bytes. */
export const MAX_COMMITMENT_BYTES = 4096;

function eventBytes(e: NostrEvent): number {
  return Buffer.byteLength(JSON.stringify(e), 'utf8');
}

/**
 * When bidding in this auction closed before its deadline (docs/auctions.md, "Early close"): the open names
 * its bidders (`bidder` tags) and every one of them has a commitment dated no later than the deadline; then
 * the second the last of them committed (per bidder its earliest such commitment: the one that counts).
 * Undefined otherwise, and for an open that names no bidders: bidding runs to the deadline. Pass the
 * commitments that count (auctionCommitments); signatures are the caller's to check.
 */
export function closedEarlyAt(
  open: Pick<AuctionOpen, 'invited' | 'deadline'>,
  commitments: readonly Pick<Commitment, 'bidder' | 'createdAt'>[],
): number | undefined {
  if (open.invited.length === 0) return undefined;
  const first = new Map<string, number>();
  for (const c of commitments) {
    if (!Number.isSafeInteger(c.createdAt) || c.createdAt > open.deadline) continue;
    const seen = first.get(c.bidder);
    if (seen === undefined || c.createdAt < seen) first.set(c.bidder, c.createdAt);
  }
  let closed = 0;
  for (const pk of open.invited) {
    const at = first.get(pk);
    if (at === undefined) return undefined;
    closed = Math.max(closed, at);
  }
  return closed;
}

/**
 * The commitments that count in an auction, out of what a relay returned for `#e` = its id: kind 7611,
 * well formed, whose (first) `e` tag is the auction and `job` tag its job, by an invited bidder when the open
 * names its bidders, no larger than MAX_COMMITMENT_BYTES; once each, in chain order (created_at, id).
 * Anything else is nobody's bid: the record leaves it out and verifyAuction ignores it. Signatures are not
 * checked here (the relay checked them; verifyAuction checks them again).
 */
export function auctionCommitments(
  open: Pick<AuctionOpen, 'id' | 'jobId'> & { invited?: readonly string[] },
  events: readonly NostrEvent[],
): CommitmentOf[] {
  const byId = new Map<string, CommitmentOf>();
  const invited = open.invited && open.invited.length > 0 ? new Set(open.invited) : undefined;
  for (const event of events) {
    if (event.kind !== BID_COMMITMENT_KIND || byId.has(event.id)) continue;
    // Only invited bidders' bids count, and only commitments of a commitment's size: anyone can publish an
    // event that tags the auction, and junk must not crowd out, or swell the record of, the real bids.
    if (invited && !invited.has(event.pubkey)) continue;
    if (eventBytes(event) > MAX_COMMITMENT_BYTES) continue;
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
