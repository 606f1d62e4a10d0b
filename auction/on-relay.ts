/**
 * Reading auctions from a relay, as any client would: the records of a coordinator, one auction found by the
 * job, auction or record id, and the evidence `verifyAuction` recomputes it from. `timmy auction …` is a thin
 * layer over these; the dashboard uses them too.
 */
import type { NostrEvent } from '../core/nostr.ts';
import type { Subscribe } from '../core/transport.ts';
import { HANDLER_INFO_KIND, isHex64 } from '../dvm/kinds.ts';
import { AUCTION_OPEN_KIND, AUCTION_RECORD_KIND, BID_COMMITMENT_KIND } from './kinds.ts';
import { type AuctionRecord, parseAuctionRecord } from './record.ts';
import { type AuctionEvidence, type AuctionVerification, verifyAuction } from './verify.ts';

type Reader = Pick<Subscribe, 'query'>;

/** Why an auction could not be read: a malformed id, none found, or not settled yet. */
export class AuctionLookupError extends Error {
  constructor(
    readonly code: 'bad-id' | 'not-found' | 'not-settled',
    message: string,
  ) {
    super(message);
    this.name = 'AuctionLookupError';
  }
}

/** The coordinator's auction records on the relay, newest first (malformed ones skipped). */
export async function listAuctionRecords(
  relay: Reader,
  coordinator: string,
  limit: number,
): Promise<AuctionRecord[]> {
  const events = await relay.query([{ kinds: [AUCTION_RECORD_KIND], authors: [coordinator], limit }]);
  return events
    .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
    .slice(0, limit)
    .flatMap((e) => {
      try {
        return [parseAuctionRecord(e)];
      } catch {
        return [];
      }
    });
}

/** The open and the record for a job id, an auction id or a record id (a job's newest auction). */
export async function findAuction(
  relay: Reader,
  coordinator: string,
  id: string,
): Promise<{ open: NostrEvent; record: NostrEvent }> {
  if (!isHex64(id)) throw new AuctionLookupError('bad-id', `"${id}" is not an event id (64 hex characters)`);
  const [first] = await relay.query([{ ids: [id] }]);
  let open: NostrEvent | undefined;
  if (first?.kind === AUCTION_OPEN_KIND) open = first;
  else if (first?.kind === AUCTION_RECORD_KIND) {
    const auctionId = first.tags.find((t) => t[0] === 'e')?.[1];
    open = auctionId ? (await relay.query([{ ids: [auctionId] }]))[0] : undefined;
  } else {
    const opens = await relay.query([{ kinds: [AUCTION_OPEN_KIND], authors: [coordinator], '#e': [id] }]);
    open = opens.sort((a, b) => b.created_at - a.created_at)[0];
  }
  if (!open) throw new AuctionLookupError('not-found', `no auction found for ${id} on this relay`);
  const records = await relay.query([{ kinds: [AUCTION_RECORD_KIND], '#e': [open.id] }]);
  const record = records.find((r) => r.pubkey === open.pubkey) ?? records[0];
  if (!record)
    throw new AuctionLookupError(
      'not-settled',
      `auction ${open.id.slice(0, 12)} has no record yet (not settled)`,
    );
  return { open, record };
}

/** Everything a verifier needs besides the open and the record: the relay's commitments, the announcements. */
export async function auctionEvidence(
  relay: Reader,
  found: { open: NostrEvent; record: NostrEvent },
): Promise<AuctionEvidence> {
  const relayCommitments = await relay.query([{ kinds: [BID_COMMITMENT_KIND], '#e': [found.open.id] }]);
  const bidders = [...new Set(relayCommitments.map((c) => c.pubkey))];
  const announcements =
    bidders.length > 0 ? await relay.query([{ kinds: [HANDLER_INFO_KIND], authors: bidders }]) : [];
  return { ...found, relayCommitments, announcements };
}

/** Finds the auction and recomputes it from the relay's events. */
export async function verifyOnRelay(
  relay: Reader,
  coordinator: string,
  id: string,
): Promise<AuctionVerification & { evidence: AuctionEvidence }> {
  const evidence = await auctionEvidence(relay, await findAuction(relay, coordinator, id));
  return { ...verifyAuction(evidence), evidence };
}
