import { errorMessage } from '../core/errors.ts';
/**
 * Anyone's check of an auction from relay events alone: the open (7610), the record (7613), the
 * commitments on the relay (7611) and the bidders' NIP-89 announcements (31990). Pure: no clock, no network.
 * It recomputes the settlement from what the record discloses (openings, reputations) and lists every
 * disagreement as one sentence.
 */
import type { NostrEvent } from '../core/nostr.ts';
import { parseHandlerInfo } from '../dvm/announcement.ts';
import { checkEventSignature } from '../identity/verify-event.ts';
import { chainHead, checkChain } from './chain.ts';
import { checkOpening } from './commitment.ts';
import type { AuctionOpen, Commitment } from './events.ts';
import {
  auctionCommitments,
  auctionTerms,
  closedEarlyAt,
  parseAuctionOpen,
  parseCommitment,
  sealedBid,
} from './events.ts';
import { type AuctionRecord, parseAuctionRecord } from './record.ts';
import type { InvalidBid, RankedBid, Settlement } from './settle.ts';
import { settleFirstPrice, settleVickrey } from './settle.ts';

export interface AuctionEvidence {
  /** The auction open (kind 7610). */
  open: NostrEvent;
  /** The coordinator's record (kind 7613). */
  record: NostrEvent;
  /** Every kind 7611 with `#e` = the open's id on the relay. */
  relayCommitments: NostrEvent[];
  /** The bidders' kind 31990 announcements. */
  announcements: NostrEvent[];
}

export interface AuctionVerification {
  /** True when there is no problem. */
  ok: boolean;
  problems: string[];
  /** The settlement recomputed from the record's commitments and openings, when it could be. */
  settlement?: Settlement;
}

const short = (hex: string): string => `${hex.slice(0, 12)}…`;

/**
 * The pubkeys (sorted, once each) of the announcements that parse and name `kind` in a `k` tag. Signatures
 * are not checked here: verifyAuction checks them first.
 */
export function eligibleBidders(announcements: readonly NostrEvent[], kind: number): string[] {
  const out = new Set<string>();
  for (const a of announcements) {
    try {
      if (parseHandlerInfo(a).kinds.includes(kind)) out.add(a.pubkey);
    } catch {
      // a malformed announcement makes nobody eligible
    }
  }
  return [...out].sort();
}

/**
 * Who may bid in this auction: the pubkeys whose NIP-89 announcement covers its kind, and when the open
 * names its bidders (`bidder` tags), only those. The auctioneer settles and the verifier checks with this.
 */
export function invitedAndAnnounced(open: AuctionOpen, announcements: readonly NostrEvent[]): string[] {
  const announced = eligibleBidders(announcements, open.kind);
  return open.invited.length > 0 ? announced.filter((pk) => open.invited.includes(pk)) : announced;
}

function winnerText(w: { bidder: string; amountMsats: number } | undefined): string {
  return w === undefined ? 'no winner' : `${short(w.bidder)} at ${w.amountMsats} msats`;
}

function rankedText(list: readonly RankedBid[]): string {
  if (list.length === 0) return 'no valid bid';
  return list.map((b) => `${short(b.bidder)} ${b.amountMsats} msats (reputation ${b.reputation})`).join(', ');
}

/** The record's commitments that are validly signed, well formed, of this auction and unique. */
function recordedCommitments(
  open: AuctionOpen,
  rec: AuctionRecord,
  problems: string[],
): Map<string, Commitment> {
  const recorded = new Map<string, Commitment>();
  for (const e of rec.commitments) {
    const bad = checkEventSignature(e);
    if (bad !== undefined) {
      problems.push(`commitment ${e.id} in the record is not validly signed (${bad})`);
      continue;
    }
    let c: Commitment;
    try {
      c = parseCommitment(e);
    } catch (err) {
      problems.push(`commitment ${e.id} in the record is malformed: ${errorMessage(err)}`);
      continue;
    }
    if (c.auctionId !== open.id || c.jobId !== open.jobId) {
      problems.push(`commitment ${c.id} in the record is for another auction or job`);
    } else if (recorded.has(c.id)) {
      problems.push(`commitment ${c.id} is in the record twice`);
    } else {
      recorded.set(c.id, c);
    }
  }
  return recorded;
}

/** The relay's commitments that count in this auction (auctionCommitments); a bad signature is a problem. */
function relayCommitmentsOf(
  open: AuctionOpen,
  events: readonly NostrEvent[],
  problems: string[],
): Map<string, Commitment> {
  const relay = new Map<string, Commitment>();
  for (const { event, commitment } of auctionCommitments(open, events)) {
    const bad = checkEventSignature(event);
    if (bad !== undefined)
      problems.push(`commitment ${event.id} from the relay is not validly signed (${bad})`);
    else relay.set(commitment.id, commitment);
  }
  return relay;
}

/** Whether `c` would be a duplicate of a recorded commitment of its bidder (the earliest counts). */
function laterThanRecorded(c: Commitment, recorded: Map<string, Commitment>): boolean {
  for (const r of recorded.values())
    if (r.bidder === c.bidder && (r.createdAt < c.createdAt || (r.createdAt === c.createdAt && r.id < c.id)))
      return true;
  return false;
}

function compareSets(
  open: AuctionOpen,
  relay: Map<string, Commitment>,
  recorded: Map<string, Commitment>,
  problems: string[],
  earlyRecord: boolean,
): void {
  for (const c of relay.values())
    if (
      !recorded.has(c.id) &&
      c.createdAt <= open.deadline &&
      // A record published when bidding closed early cannot hold a bidder's second commitment sent after
      // it; that bid would be a duplicate anyway, and leaving it out changes nothing.
      !(earlyRecord && laterThanRecorded(c, recorded))
    )
      problems.push(
        `commitment ${c.id} by ${short(c.bidder)} is on the relay but not in the record (a dropped bid)`,
      );
  for (const c of recorded.values())
    if (!relay.has(c.id))
      problems.push(
        `commitment ${c.id} by ${short(c.bidder)} is in the record but not on the relay (an inserted bid)`,
      );
}

function checkOpenings(rec: AuctionRecord, recorded: Map<string, Commitment>, problems: string[]): void {
  for (const o of rec.openings) {
    const c = recorded.get(o.commitmentEventId);
    if (c === undefined)
      problems.push(
        `the record holds an opening for commitment ${o.commitmentEventId}, which it does not hold`,
      );
    else if (c.bidder !== o.bidder)
      problems.push(
        `the record attributes the opening of ${short(c.bidder)}'s commitment ${c.id} to ${short(o.bidder)}`,
      );
  }
  for (const b of rec.ranked) {
    const c = recorded.get(b.commitmentEventId);
    const opened =
      c !== undefined &&
      rec.openings.some(
        (o) =>
          o.commitmentEventId === c.id &&
          o.bidder === c.bidder &&
          o.amountMsats === b.amountMsats &&
          checkOpening(c.commitment, {
            jobId: rec.jobId,
            bidder: c.bidder,
            amountMsats: o.amountMsats,
            nonce: o.nonce,
          }),
      );
    if (!opened)
      problems.push(
        `the record ranks ${short(b.bidder)}'s bid at ${b.amountMsats} msats, but no opening in the record matches commitment ${b.commitmentEventId} with that amount`,
      );
  }
}

function invalidKey(i: InvalidBid): string {
  return `${i.commitmentEventId}:${i.bidder}`;
}

function compareSettlements(rec: AuctionRecord, s: Settlement, problems: string[]): void {
  const sameWinner =
    rec.winner?.bidder === s.winner?.bidder && rec.winner?.amountMsats === s.winner?.amountMsats;
  if (!sameWinner)
    problems.push(`the record says winner ${winnerText(rec.winner)}; recomputed ${winnerText(s.winner)}`);
  if (rec.priceMsats !== s.priceMsats)
    problems.push(
      `the record says price ${rec.priceMsats ?? 'none'} msats; recomputed ${s.priceMsats ?? 'none'} msats`,
    );
  const recInvalid = new Map(rec.invalid.map((i) => [invalidKey(i), i]));
  const newInvalid = new Map(s.invalid.map((i) => [invalidKey(i), i]));
  for (const [key, i] of newInvalid) {
    const said = recInvalid.get(key);
    if (said === undefined)
      problems.push(
        `recomputed: ${short(i.bidder)}'s bid ${i.commitmentEventId} is invalid (${i.reason}: ${i.detail}); the record does not say so`,
      );
    else if (said.reason !== i.reason)
      problems.push(
        `the record says ${short(i.bidder)}'s bid ${i.commitmentEventId} is invalid (${said.reason}); recomputed: ${i.reason} (${i.detail})`,
      );
  }
  for (const [key, i] of recInvalid)
    if (!newInvalid.has(key))
      problems.push(
        `the record says ${short(i.bidder)}'s bid ${i.commitmentEventId} is invalid (${i.reason}); recomputed it is not`,
      );
  const same = (a: RankedBid, b: RankedBid | undefined): boolean =>
    b !== undefined &&
    a.bidder === b.bidder &&
    a.commitmentEventId === b.commitmentEventId &&
    a.amountMsats === b.amountMsats &&
    a.createdAt === b.createdAt &&
    a.reputation === b.reputation;
  if (rec.ranked.length !== s.ranked.length || rec.ranked.some((b, i) => !same(b, s.ranked[i])))
    problems.push(`the record ranks ${rankedText(rec.ranked)}; recomputed ${rankedText(s.ranked)}`);
}

/**
 * Checks an auction from its events. Problems, each one sentence: a bad signature (the open, the record,
 * a commitment, an announcement); a malformed open or record; a record by another key than the open's, or
 * for another auction or job, or published before bidding closed (the deadline, or the early close when every
 * invited bidder committed before it); a commitment on the relay (on time) but
 * not in the record (dropped) or in the record but not on the relay (inserted); chain problems and a wrong
 * head; openings that do not belong to their commitment or do not match a ranked amount; and every
 * difference between the record's settlement (winner, price, invalid bids, ranking) and the one recomputed
 * with the record's openings and reputations and the eligibility read from the announcements.
 */
export function verifyAuction(input: AuctionEvidence): AuctionVerification {
  const problems: string[] = [];
  const signed = (e: NostrEvent, what: string): boolean => {
    const bad = checkEventSignature(e);
    if (bad !== undefined) problems.push(`${what} ${e.id} is not validly signed (${bad})`);
    return bad === undefined;
  };
  signed(input.open, 'the auction open');
  signed(input.record, 'the record');
  let open: AuctionOpen;
  let rec: AuctionRecord;
  try {
    open = parseAuctionOpen(input.open);
  } catch (err) {
    problems.push(`the auction open is malformed: ${errorMessage(err)}`);
    return { ok: false, problems };
  }
  try {
    rec = parseAuctionRecord(input.record);
  } catch (err) {
    problems.push(`the record is malformed: ${errorMessage(err)}`);
    return { ok: false, problems };
  }
  if (rec.coordinator !== open.coordinator)
    problems.push(
      `the record is signed by ${rec.coordinator}, not by the auction's coordinator ${open.coordinator}`,
    );
  if (rec.auctionId !== open.id) problems.push(`the record is for auction ${rec.auctionId}, not ${open.id}`);
  if (rec.jobId !== open.jobId) problems.push(`the record is for job ${rec.jobId}, not ${open.jobId}`);

  const relay = relayCommitmentsOf(open, input.relayCommitments, problems);
  const recorded = recordedCommitments(open, rec, problems);
  // Bidding closes at the deadline, or earlier once every invited bidder has committed (docs/auctions.md,
  // "Early close"); the record may not come before bidding closed.
  const closedAt = closedEarlyAt(open, [...recorded.values()]);
  if (rec.createdAt < open.deadline) {
    if (closedAt === undefined)
      problems.push(
        `the record was published at ${rec.createdAt}, before the deadline ${open.deadline}, and not every invited bidder had committed`,
      );
    else if (rec.createdAt < closedAt)
      problems.push(`the record was published at ${rec.createdAt}, before bidding closed at ${closedAt}`);
  }
  compareSets(open, relay, recorded, problems, closedAt !== undefined && rec.createdAt <= open.deadline);

  const chain = [...recorded.values()];
  problems.push(...checkChain(open.id, chain));
  const head = chainHead(open.id, chain);
  if (head !== rec.head) problems.push(`the record's head is ${rec.head}; recomputed ${head}`);

  checkOpenings(rec, recorded, problems);

  const announcements = input.announcements.filter((a) => signed(a, 'announcement'));
  const terms = auctionTerms(open, invitedAndAnnounced(open, announcements));
  const settle = rec.mechanism === 'first-price' ? settleFirstPrice : settleVickrey;
  const settlement = settle(terms, chain.map(sealedBid), rec.openings, (pk) => rec.reputations[pk] ?? 0);
  for (const b of settlement.ranked)
    if (rec.reputations[b.bidder] === undefined)
      problems.push(`the record gives no reputation for ranked bidder ${short(b.bidder)} (0 assumed)`);
  compareSettlements(rec, settlement, problems);
  return { ok: problems.length === 0, problems, settlement };
}
