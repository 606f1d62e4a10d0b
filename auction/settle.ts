import { isHex64 } from '../dvm/kinds.ts';
import { checkOpening, isMsats } from './commitment.ts';

/**
 * Settlement of a sealed-bid procurement auction (lowest bid wins). Pure: the same terms, bids, openings
 * and reputations give the same Settlement whatever the order of `bids` and `openings`.
 * See docs/decisions/0005-vickrey-auctions.md.
 */

export type InvalidReason =
  | 'no-opening'
  | 'mismatch'
  | 'duplicate'
  | 'late'
  | 'not-eligible'
  | 'above-reserve'
  | 'malformed';

/** A commitment event seen on the relay. */
export interface SealedBid {
  bidder: string;
  commitment: string;
  commitmentEventId: string;
  /** The commitment event's created_at (unix seconds). */
  createdAt: number;
}

/** An opening received (gift-wrapped) from `bidder` for one of its commitment events. */
export interface BidOpening {
  bidder: string;
  commitmentEventId: string;
  amountMsats: number;
  nonce: string;
}

export interface AuctionTerms {
  jobId: string;
  kind: number;
  /** Unix seconds; a commitment with createdAt > deadline is late. */
  deadline: number;
  /** The most the work may cost (the customer's bid less the instance's fee): bids above it are invalid. */
  reserveMsats?: number;
  /**
   * Per bidder, what it is paid at most when its bid is the only valid one (its listed price, stated in the
   * auction open); never less than its own bid.
   */
  soleBidCapMsats?: Readonly<Record<string, number>>;
  /** Pubkeys whose NIP-89 announcement covers the kind. */
  eligible: readonly string[];
}

export interface RankedBid {
  bidder: string;
  commitmentEventId: string;
  amountMsats: number;
  createdAt: number;
  reputation: number;
}

export interface InvalidBid {
  bidder: string;
  commitmentEventId: string;
  reason: InvalidReason;
  detail: string;
}

export interface Settlement {
  mechanism: 'vickrey' | 'first-price';
  winner?: RankedBid;
  priceMsats?: number;
  /** All valid bids, best first. */
  ranked: RankedBid[];
  /** Sorted by bidder, then createdAt, then commitmentEventId. */
  invalid: InvalidBid[];
}

/** A bidder's reputation score; higher wins ties. NaN (or a non-number) counts as 0. */
export type Reputation = (pubkey: string) => number;

const short = (hex: string): string => (hex.length > 12 ? `${hex.slice(0, 8)}…` : JSON.stringify(hex));

/** Negative: `a` ranks before `b`. Lower amount, higher reputation, earlier commitment, lower pubkey. */
export function compareRanked(a: RankedBid, b: RankedBid): number {
  if (a.amountMsats !== b.amountMsats) return a.amountMsats - b.amountMsats;
  if (a.reputation !== b.reputation) return b.reputation > a.reputation ? 1 : -1;
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return cmpStr(a.bidder, b.bidder) || cmpStr(a.commitmentEventId, b.commitmentEventId);
}

function push<T>(m: Map<string, T[]>, key: string, value: T): void {
  const list = m.get(key);
  if (list === undefined) m.set(key, [value]);
  else list.push(value);
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A malformed created_at (NaN, 1.5) sorts first, so the comparison stays a total order. */
const timeKey = (t: number): number => (Number.isSafeInteger(t) ? t : Number.MIN_SAFE_INTEGER);

function bySeniority(a: SealedBid, b: SealedBid): number {
  return (
    timeKey(a.createdAt) - timeKey(b.createdAt) ||
    cmpStr(a.commitmentEventId, b.commitmentEventId) ||
    cmpStr(a.commitment, b.commitment)
  );
}

function checkTerms(t: AuctionTerms): void {
  if (!isHex64(t.jobId)) throw new RangeError('settle: terms.jobId must be 64 lowercase hex');
  if (!Number.isSafeInteger(t.deadline)) throw new RangeError('settle: terms.deadline must be an integer');
  if (t.reserveMsats !== undefined && !isMsats(t.reserveMsats)) {
    throw new RangeError('settle: terms.reserveMsats must be a non-negative safe integer');
  }
  for (const cap of Object.values(t.soleBidCapMsats ?? {}))
    if (!isMsats(cap))
      throw new RangeError('settle: terms.soleBidCapMsats must hold non-negative safe integers');
}

type Verdict = { ok: true; amountMsats: number } | { ok: false; reason: InvalidReason; detail: string };
const bad = (reason: InvalidReason, detail: string): Verdict => ({ ok: false, reason, detail });

/** The opening step of one counted commitment: no-opening, malformed, mismatch, above-reserve or ok. */
function judgeOpenings(terms: AuctionTerms, bid: SealedBid, openings: readonly BidOpening[]): Verdict {
  if (openings.length === 0)
    return bad('no-opening', `no opening received for commitment ${short(bid.commitmentEventId)}`);
  const wellFormed = openings.filter((o) => isMsats(o.amountMsats) && isHex64(o.nonce));
  if (wellFormed.length === 0) {
    return bad('malformed', 'opening amount must be a non-negative safe integer and nonce 64 lowercase hex');
  }
  const match = wellFormed.find((o) =>
    checkOpening(bid.commitment, {
      jobId: terms.jobId,
      bidder: bid.bidder,
      amountMsats: o.amountMsats,
      nonce: o.nonce,
    }),
  );
  if (match === undefined) {
    const amounts = [...new Set(wellFormed.map((o) => o.amountMsats))].sort((a, b) => a - b).join(', ');
    return bad(
      'mismatch',
      `opening (${amounts} msats) does not match the commitment for job ${short(terms.jobId)}`,
    );
  }
  if (terms.reserveMsats !== undefined && match.amountMsats > terms.reserveMsats) {
    return bad(
      'above-reserve',
      `bid ${match.amountMsats} msats is above the reserve of ${terms.reserveMsats} msats`,
    );
  }
  return { ok: true, amountMsats: match.amountMsats };
}

interface Sorted {
  ranked: RankedBid[];
  invalid: InvalidBid[];
}

/**
 * Validates every commitment and ranks the valid bids. Per commitment, in order: not-eligible; malformed
 * (createdAt not an integer or commitment not 64 lowercase hex); late; duplicate (per bidder the earliest
 * createdAt, then lowest event id, counts); and for the counted one: no-opening (no opening from that
 * bidder for that event), malformed (no opening has a valid amount and nonce), mismatch (none hashes to the
 * commitment with terms.jobId), above-reserve. Exact repeats of one SealedBid are counted once.
 */
export function validateBids(
  terms: AuctionTerms,
  bids: readonly SealedBid[],
  openings: readonly BidOpening[],
  reputation: Reputation,
): Sorted {
  checkTerms(terms);
  const eligible = new Set(terms.eligible);
  const rejected: { bid: SealedBid; out: InvalidBid }[] = [];
  const reject = (bid: SealedBid, reason: InvalidReason, detail: string): void => {
    rejected.push({
      bid,
      out: { bidder: bid.bidder, commitmentEventId: bid.commitmentEventId, reason, detail },
    });
  };
  const seen = new Set<string>();
  const onTime = new Map<string, SealedBid[]>();
  for (const b of bids) {
    const key = JSON.stringify([b.bidder, b.commitmentEventId, b.commitment, b.createdAt]);
    if (seen.has(key)) continue;
    seen.add(key);
    if (!eligible.has(b.bidder)) {
      reject(b, 'not-eligible', `bidder ${short(b.bidder)} has no announcement covering kind ${terms.kind}`);
    } else if (!Number.isSafeInteger(b.createdAt) || !isHex64(b.commitment)) {
      reject(b, 'malformed', 'commitment must be 64 lowercase hex with an integer created_at');
    } else if (b.createdAt > terms.deadline) {
      reject(
        b,
        'late',
        `committed at ${b.createdAt}, ${b.createdAt - terms.deadline} s after the deadline ${terms.deadline}`,
      );
    } else {
      push(onTime, b.bidder, b);
    }
  }
  const openingsOf = new Map<string, BidOpening[]>();
  for (const o of openings) push(openingsOf, o.commitmentEventId, o);
  const ranked: RankedBid[] = [];
  for (const [bidder, mine] of onTime) {
    const [counted, ...later] = [...mine].sort(bySeniority);
    if (counted === undefined) continue;
    for (const d of later) {
      reject(
        d,
        'duplicate',
        `bidder already committed in ${short(counted.commitmentEventId)} at ${counted.createdAt}`,
      );
    }
    const own = (openingsOf.get(counted.commitmentEventId) ?? []).filter((o) => o.bidder === bidder);
    const verdict = judgeOpenings(terms, counted, own);
    if (!verdict.ok) {
      reject(counted, verdict.reason, verdict.detail);
      continue;
    }
    const r = reputation(bidder);
    ranked.push({
      bidder,
      commitmentEventId: counted.commitmentEventId,
      amountMsats: verdict.amountMsats,
      createdAt: counted.createdAt,
      reputation: typeof r === 'number' && !Number.isNaN(r) ? r : 0,
    });
  }
  ranked.sort(compareRanked);
  rejected.sort(
    (a, b) =>
      cmpStr(a.bid.bidder, b.bid.bidder) ||
      bySeniority(a.bid, b.bid) ||
      cmpStr(a.out.reason, b.out.reason) ||
      cmpStr(a.out.detail, b.out.detail),
  );
  return { ranked, invalid: rejected.map((r) => r.out) };
}

/**
 * Second-price (Vickrey) procurement: the lowest valid bid wins and is paid the second-lowest valid amount
 * (equal to its own when tied). With a single valid bid there is no second price: the winner is paid the
 * lower of the reserve and its sole-bid cap (its listed price), but never less than its own bid; with
 * neither, its own bid. No valid bid: no winner, no price. (docs/auctions.md, "What a sole bidder is paid")
 */
export function settleVickrey(
  terms: AuctionTerms,
  bids: readonly SealedBid[],
  openings: readonly BidOpening[],
  reputation: Reputation,
): Settlement {
  const { ranked, invalid } = validateBids(terms, bids, openings, reputation);
  const [winner, second] = ranked;
  if (winner === undefined) return { mechanism: 'vickrey', ranked, invalid };
  const priceMsats = second?.amountMsats ?? solePrice(terms, winner);
  return { mechanism: 'vickrey', winner, priceMsats, ranked, invalid };
}

/** What the only valid bid is paid: min(reserve, its cap), at least its own amount; its amount without either. */
function solePrice(terms: AuctionTerms, winner: RankedBid): number {
  const ceiling = Math.min(
    terms.reserveMsats ?? Infinity,
    terms.soleBidCapMsats?.[winner.bidder] ?? Infinity,
  );
  return Number.isFinite(ceiling) ? Math.max(winner.amountMsats, ceiling) : winner.amountMsats;
}

/** First-price baseline: same validation and ranking; the winner is paid its own bid. */
export function settleFirstPrice(
  terms: AuctionTerms,
  bids: readonly SealedBid[],
  openings: readonly BidOpening[],
  reputation: Reputation,
): Settlement {
  const { ranked, invalid } = validateBids(terms, bids, openings, reputation);
  const [winner] = ranked;
  if (winner === undefined) return { mechanism: 'first-price', ranked, invalid };
  return { mechanism: 'first-price', winner, priceMsats: winner.amountMsats, ranked, invalid };
}
