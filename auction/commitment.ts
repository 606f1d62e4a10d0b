import { createHash, randomBytes } from 'node:crypto';
import { isHex64 } from '../dvm/kinds.ts';

/**
 * Sealed-bid commitments (commit/reveal). A bidder publishes `commitBid(...)` on the relay before the
 * deadline and later sends the opening (amount and nonce) to the auctioneer only. The preimage binds the
 * job and the bidder, so an opening cannot be replayed in another auction or claimed by another key.
 */

/** Domain tag, first element of the hashed preimage; a new preimage layout gets a new tag. */
export const BID_COMMITMENT_TAG = 'timmy-bid-v1';

/** What a commitment hides: the bid amount, bound to one job and one bidder, salted with a nonce. */
export interface BidPreimage {
  /** Event id of the job request (64 lowercase hex). */
  jobId: string;
  /** The bidder's public key (64 lowercase hex). */
  bidder: string;
  /** The bid, in millisatoshis (non-negative safe integer). */
  amountMsats: number;
  /** 32 random bytes as 64 lowercase hex (see newNonce). */
  nonce: string;
}

/** True for a non-negative safe integer (a valid msat amount). */
export function isMsats(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Why the preimage is invalid, or undefined when it is valid. */
export function preimageProblem(p: BidPreimage): string | undefined {
  if (!isHex64(p.jobId)) return 'jobId must be 64 lowercase hex';
  if (!isHex64(p.bidder)) return 'bidder must be 64 lowercase hex';
  if (!isMsats(p.amountMsats)) return 'amountMsats must be a non-negative safe integer';
  if (!isHex64(p.nonce)) return 'nonce must be 64 lowercase hex';
  return undefined;
}

/** Hex sha256 of the UTF-8 JSON `["timmy-bid-v1", jobId, bidder, amountMsats, nonce]`. Throws RangeError. */
export function commitBid(p: BidPreimage): string {
  const problem = preimageProblem(p);
  if (problem !== undefined) throw new RangeError(`commitBid: ${problem}`);
  // Number.isSafeInteger accepts -0; JSON writes it as 0, the same amount.
  const preimage = JSON.stringify([BID_COMMITMENT_TAG, p.jobId, p.bidder, p.amountMsats, p.nonce]);
  return createHash('sha256').update(preimage, 'utf8').digest('hex');
}

/** A fresh nonce: 32 random bytes from node:crypto, as 64 lowercase hex. */
export function newNonce(): string {
  return randomBytes(32).toString('hex');
}

/** True when `opening` is well formed and hashes to `commitment` (64 lowercase hex); never throws. */
export function checkOpening(commitment: string, opening: BidPreimage): boolean {
  if (!isHex64(commitment) || preimageProblem(opening) !== undefined) return false;
  return commitBid(opening) === commitment;
}
