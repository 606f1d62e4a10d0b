/**
 * Kind numbers of the sealed-bid auctions (project-defined, docs/protocol.md "Auctions") and of the NIP-59
 * envelopes the bid openings travel in, and the error every auction/ parser throws.
 */

/** Project-defined, regular: the coordinator opens an auction for one job request. */
export const AUCTION_OPEN_KIND = 7610;
/** Project-defined, regular: a bidder's sealed bid (a hash commitment to its amount). */
export const BID_COMMITMENT_KIND = 7611;
/** Project-defined: the kind of the unsigned rumor (NIP-59) that opens a bid, inside a gift wrap. */
export const BID_OPENING_KIND = 7612;
/** Project-defined, regular: the coordinator's settlement, with everything needed to check it. */
export const AUCTION_RECORD_KIND = 7613;
/** NIP-59 gift wrap: signed by a one-time key, addressed to one recipient by its `p` tag. */
export const GIFT_WRAP_KIND = 1059;
/** NIP-59 seal: signed by the real author, no tags. */
export const SEAL_KIND = 13;
/** NIP-59: how far back a seal's and a gift wrap's created_at may be moved (two days, in seconds). */
export const GIFT_WRAP_MAX_AGE_SECONDS = 2 * 24 * 60 * 60;

/**
 * What every auction/ parser throws for an event it cannot read. The message names what is wrong and how
 * it should look, so it can go as is into a log line or a NIP-90 `error` feedback.
 */
export class AuctionEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuctionEventError';
  }
}
