import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NostrEvent } from '../core/nostr.ts';
import { buildHandlerInfo } from '../dvm/announcement.ts';
import { buildJobRequest } from '../dvm/request.ts';
import { generateLocalSigner, type LocalSigner } from '../identity/signer.ts';
import { commitBid, newNonce } from './commitment.ts';
import {
  auctionTerms,
  buildAuctionOpen,
  buildCommitment,
  closedEarlyAt,
  parseAuctionOpen,
  parseCommitment,
  sealedBid,
} from './events.ts';
import { buildAuctionRecord } from './record.ts';
import type { BidOpening } from './settle.ts';
import { settleVickrey } from './settle.ts';
import { eligibleBidders, verifyAuction } from './verify.ts';

/**
 * The early close (docs/auctions.md): bidding ends before the deadline once every invited bidder has
 * committed, and a record published then verifies; one published before that, or while an invited bidder
 * has not committed, does not.
 */
const T = 1_700_000_000;
const DEADLINE = T + 60;
const KIND = 5001;

const coordinator = generateLocalSigner();
const customer = generateLocalSigner();
const a = generateLocalSigner();
const b = generateLocalSigner();
const stranger = generateLocalSigner();
const request = await customer.signEvent(
  buildJobRequest({ kind: KIND, inputs: [{ data: 'x', type: 'text' }], createdAt: T }),
);
const openEvent = await coordinator.signEvent(
  buildAuctionOpen({ request, deadline: DEADLINE, invited: [a.pubkey, b.pubkey], createdAt: T }),
);
const open = parseAuctionOpen(openEvent);
const announcements = await Promise.all(
  [a, b, stranger].map((s) =>
    s.signEvent(buildHandlerInfo({ d: 'x', kinds: [KIND], metadata: { name: 'x' }, createdAt: T - 100 })),
  ),
);

async function bid(
  signer: LocalSigner,
  amountMsats: number,
  createdAt: number,
  prev = open.id,
): Promise<{ commitment: NostrEvent; opening: BidOpening }> {
  const nonce = newNonce();
  const commitment = await signer.signEvent(
    buildCommitment({
      open: { id: open.id, jobId: open.jobId },
      commitment: commitBid({ jobId: open.jobId, bidder: signer.pubkey, amountMsats, nonce }),
      prev,
      createdAt,
    }),
  );
  return {
    commitment,
    opening: { bidder: signer.pubkey, commitmentEventId: commitment.id, amountMsats, nonce },
  };
}

const bidA = await bid(a, 1000, T + 1);
const bidB = await bid(b, 2000, T + 2, bidA.commitment.id);

async function record(
  seen: NostrEvent[],
  openings: BidOpening[],
  createdAt: number,
  target = openEvent,
): Promise<NostrEvent> {
  const terms = parseAuctionOpen(target);
  const settlement = settleVickrey(
    auctionTerms(terms, eligibleBidders(announcements, KIND)),
    seen.map((e) => sealedBid(parseCommitment(e))),
    openings,
    () => 0,
  );
  return coordinator.signEvent(
    buildAuctionRecord({
      open: target,
      settlement,
      commitments: seen,
      openings,
      reputations: { [a.pubkey]: 0, [b.pubkey]: 0 },
      createdAt,
    }),
  );
}

const verify = (rec: NostrEvent, relay: NostrEvent[], target = openEvent) =>
  verifyAuction({ open: target, record: rec, relayCommitments: relay, announcements });

describe('closedEarlyAt', () => {
  const c = (bidder: string, createdAt: number) => ({ bidder, createdAt });
  test('closes when the last invited bidder commits, on time', () => {
    assert.equal(closedEarlyAt(open, [c(a.pubkey, T + 1)]), undefined, 'b has not committed');
    assert.equal(closedEarlyAt(open, [c(a.pubkey, T + 1), c(b.pubkey, T + 3)]), T + 3);
    // per bidder its earliest commitment is the one that counts
    assert.equal(closedEarlyAt(open, [c(a.pubkey, T + 1), c(b.pubkey, T + 9), c(b.pubkey, T + 2)]), T + 2);
  });
  test('a stranger, or a late commitment, does not close it; an open naming no bidders never closes early', () => {
    assert.equal(closedEarlyAt(open, [c(a.pubkey, T + 1), c(stranger.pubkey, T + 2)]), undefined);
    assert.equal(closedEarlyAt(open, [c(a.pubkey, T + 1), c(b.pubkey, DEADLINE + 1)]), undefined);
    assert.equal(closedEarlyAt({ ...open, invited: [] }, [c(a.pubkey, T + 1)]), undefined);
  });
  test('a single invited bidder closes it with its commitment', () => {
    assert.equal(closedEarlyAt({ ...open, invited: [a.pubkey] }, [c(a.pubkey, T + 4)]), T + 4);
  });
});

describe('verifyAuction: a record published when bidding closed early', () => {
  const both = [bidA.commitment, bidB.commitment];
  const opened = [bidA.opening, bidB.opening];

  test('every invited bidder committed: a record before the deadline verifies', async () => {
    const result = verify(await record(both, opened, T + 2), both);
    assert.deepEqual(result.problems, []);
    assert.equal(result.settlement?.winner?.bidder, a.pubkey);
    assert.equal(result.settlement?.priceMsats, 2000);
  });

  test('a record before the deadline while an invited bidder had not committed: a problem', async () => {
    const result = verify(await record([bidA.commitment], [bidA.opening], T + 2), [bidA.commitment]);
    assert.equal(result.ok, false);
    assert.ok(
      result.problems.some((p) => /before the deadline .*not every invited bidder had committed/.test(p)),
      result.problems.join('\n'),
    );
  });

  test('a record dated before the last commitment: published before bidding closed', async () => {
    const result = verify(await record(both, opened, T + 1), both);
    assert.ok(
      result.problems.some((p) => p.includes(`published at ${T + 1}, before bidding closed at ${T + 2}`)),
      result.problems.join('\n'),
    );
  });

  test("a bidder's second commitment after the early record is no dropped bid; an earlier one is", async () => {
    const rec = await record(both, opened, T + 2);
    const again = await bid(b, 500, T + 5, bidB.commitment.id);
    assert.deepEqual(verify(rec, [...both, again.commitment]).problems, []);
    const backdated = await bid(b, 500, T + 1);
    const result = verify(rec, [...both, backdated.commitment]);
    assert.ok(
      result.problems.some((p) => /not in the record \(a dropped bid\)/.test(p)),
      result.problems.join('\n'),
    );
  });

  test('after the deadline nothing changes: a missing on-time commitment is a dropped bid', async () => {
    const again = await bid(b, 500, T + 5, bidB.commitment.id);
    const rec = await record(both, opened, DEADLINE + 2);
    const result = verify(rec, [...both, again.commitment]);
    assert.ok(
      result.problems.some((p) => /not in the record \(a dropped bid\)/.test(p)),
      result.problems.join('\n'),
    );
  });

  test('an open that names no bidders never closes early', async () => {
    const anyone = await coordinator.signEvent(
      buildAuctionOpen({ request, deadline: DEADLINE, createdAt: T }),
    );
    const id = parseAuctionOpen(anyone).id;
    const x = await (async () => {
      const nonce = newNonce();
      const commitment = await a.signEvent(
        buildCommitment({
          open: { id, jobId: open.jobId },
          commitment: commitBid({ jobId: open.jobId, bidder: a.pubkey, amountMsats: 1000, nonce }),
          prev: id,
          createdAt: T + 1,
        }),
      );
      return {
        commitment,
        opening: { bidder: a.pubkey, commitmentEventId: commitment.id, amountMsats: 1000, nonce },
      };
    })();
    const rec = await record([x.commitment], [x.opening], T + 2, anyone);
    const result = verify(rec, [x.commitment], anyone);
    assert.ok(
      result.problems.some((p) => /before the deadline/.test(p)),
      result.problems.join('\n'),
    );
  });
});
