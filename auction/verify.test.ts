import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getEventHash } from 'nostr-tools/pure';
import type { NostrEvent } from '../core/nostr.ts';
import { buildHandlerInfo } from '../dvm/announcement.ts';
import { buildJobRequest } from '../dvm/request.ts';
import { generateLocalSigner, type LocalSigner } from '../identity/signer.ts';
import { chainHead } from './chain.ts';
import { commitBid, newNonce } from './commitment.ts';
import {
  auctionTerms,
  buildAuctionOpen,
  buildCommitment,
  parseAuctionOpen,
  parseCommitment,
  sealedBid,
} from './events.ts';
import { unwrapOpening, wrapOpening } from './gift-wrap.ts';
import { buildAuctionRecord } from './record.ts';
import type { BidOpening } from './settle.ts';
import { settleVickrey } from './settle.ts';
import { eligibleBidders, verifyAuction } from './verify.ts';

const T = 1_700_000_000;
const DEADLINE = T + 60;
const KIND = 5050;
const short = (hex: string): string => `${hex.slice(0, 12)}…`;
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const coordinator = generateLocalSigner();
const customer = generateLocalSigner();
const request = await customer.signEvent(
  buildJobRequest({
    kind: KIND,
    inputs: [{ data: 'a haiku', type: 'text' }],
    bidMsats: 10_000,
    createdAt: T,
  }),
);
const openEvent = await coordinator.signEvent(
  buildAuctionOpen({ request, deadline: DEADLINE, reserveMsats: 10_000, createdAt: T }),
);
const open = parseAuctionOpen(openEvent);

const announce = (s: LocalSigner, kinds: number[]): Promise<NostrEvent> =>
  s.signEvent(buildHandlerInfo({ d: 'agent', kinds, metadata: { name: 'agent' }, createdAt: T - 100 }));

interface Bidder {
  name: string;
  signer: LocalSigner;
  amountMsats: number;
  reputation: number;
}
const bidders: Bidder[] = [
  { name: 'A', signer: generateLocalSigner(), amountMsats: 3000, reputation: 0.5 },
  { name: 'B', signer: generateLocalSigner(), amountMsats: 2000, reputation: 0.9 },
  { name: 'C', signer: generateLocalSigner(), amountMsats: 2000, reputation: 0.6 },
  { name: 'D', signer: generateLocalSigner(), amountMsats: 5000, reputation: 0.1 },
  { name: 'E', signer: generateLocalSigner(), amountMsats: 4000, reputation: 0.3 },
];
const pk = (name: string): string => bidders.find((b) => b.name === name)?.signer.pubkey ?? name;
const announcements = await Promise.all(bidders.map((b) => announce(b.signer, [KIND, 5001])));
const reputations: Record<string, number> = Object.fromEntries(
  bidders.map((b) => [b.signer.pubkey, b.reputation]),
);

/** A bid: its signed commitment (chained on `prev`) and the opening the coordinator unwraps. */
async function bid(
  signer: LocalSigner,
  amountMsats: number,
  prev: string,
  createdAt: number,
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
  const wrap = await wrapOpening({
    opening: { auctionId: open.id, jobId: open.jobId, commitmentEventId: commitment.id, amountMsats, nonce },
    bidder: signer,
    recipient: coordinator.pubkey,
    now: DEADLINE + 5,
  });
  const o = await unwrapOpening(wrap, coordinator);
  return {
    commitment,
    opening: {
      bidder: o.bidder,
      commitmentEventId: o.commitmentEventId,
      amountMsats: o.amountMsats,
      nonce: o.nonce,
    },
  };
}

const commitments: NostrEvent[] = [];
const openings: BidOpening[] = [];
{
  let prev = open.id;
  for (const [i, b] of bidders.entries()) {
    const made = await bid(b.signer, b.amountMsats, prev, T + 1 + i);
    commitments.push(made.commitment);
    openings.push(made.opening);
    prev = made.commitment.id;
  }
}
const idOf = (name: string): string => commitments.find((e) => e.pubkey === pk(name))?.id ?? name;

interface RecordInput {
  commitments?: NostrEvent[];
  openings?: BidOpening[];
  eligible?: string[];
  reputations?: Record<string, number>;
  createdAt?: number;
  by?: LocalSigner;
}

/** What the coordinator does after the deadline: settle what it saw, record it, sign. */
function honestTemplate(input: RecordInput = {}) {
  const seen = input.commitments ?? commitments;
  const opened = input.openings ?? openings;
  const reps = input.reputations ?? reputations;
  const terms = auctionTerms(open, input.eligible ?? eligibleBidders(announcements, KIND));
  const bids = seen.map((e) => sealedBid(parseCommitment(e)));
  const settlement = settleVickrey(terms, bids, opened, (p) => reps[p] ?? 0);
  return buildAuctionRecord({
    open: openEvent,
    settlement,
    commitments: seen,
    openings: opened,
    reputations: reps,
    chainHead: chainHead(
      open.id,
      seen.map((e) => ({ id: e.id, createdAt: e.created_at })),
    ),
    createdAt: input.createdAt ?? DEADLINE + 10,
  });
}
const record = (input: RecordInput = {}): Promise<NostrEvent> =>
  (input.by ?? coordinator).signEvent(honestTemplate(input));

type Content = {
  commitments: NostrEvent[];
  openings: BidOpening[];
  reputations: Record<string, number>;
  [key: string]: unknown;
};
/** The honest record edited after the fact (content and tags), re-signed by the coordinator. */
async function edited(change: (c: Content, tags: string[][]) => void): Promise<NostrEvent> {
  const t = honestTemplate();
  const content = JSON.parse(t.content) as Content;
  const tags = t.tags.map((x) => [...x]);
  change(content, tags);
  return coordinator.signEvent({ ...t, tags, content: JSON.stringify(content) });
}

function verify(rec: NostrEvent, relay = commitments, anns = announcements) {
  return verifyAuction({ open: openEvent, record: rec, relayCommitments: relay, announcements: anns });
}

function fails(result: ReturnType<typeof verifyAuction>, ...expected: RegExp[]): void {
  assert.equal(result.ok, false, 'the verification should fail');
  for (const re of expected)
    assert.ok(
      result.problems.some((p) => re.test(p)),
      `no problem matches ${re}; problems:\n${result.problems.join('\n')}`,
    );
}

describe('verifyAuction: a correct auction', () => {
  test('five bidders, openings gift-wrapped: PASS, and the recomputed settlement', async () => {
    const result = verify(await record());
    assert.deepEqual(result.problems, []);
    assert.equal(result.ok, true);
    // B and C tie at 2000; B has the better reputation; the second price is C's 2000
    assert.equal(result.settlement?.winner?.bidder, pk('B'));
    assert.equal(result.settlement?.priceMsats, 2000);
    assert.deepEqual(
      result.settlement?.ranked.map((r) => r.bidder),
      ['B', 'C', 'A', 'E', 'D'].map(pk),
    );
  });

  test('the relay order of the commitments does not matter', async () => {
    assert.ok(verify(await record(), [...commitments].reverse()).ok);
  });

  test('no bids: no winner, and it verifies (the job then fails over)', async () => {
    const result = verify(await record({ commitments: [], openings: [] }), []);
    assert.deepEqual(result.problems, []);
    assert.equal(result.settlement?.winner, undefined);
  });

  test('a bidder that never opened, and a late bid, are listed invalid: still PASS', async () => {
    const a = bidders[0] as Bidder; // A bids again, too late
    const late = await bid(a.signer, 100, idOf('E'), DEADLINE + 1);
    const all = [...commitments, late.commitment];
    const noD = openings.filter((o) => o.bidder !== pk('D'));
    const rec = await record({ commitments: all, openings: [...noD, late.opening] });
    const result = verify(rec, all);
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.settlement?.invalid.map((i) => i.reason).sort(), ['late', 'no-opening']);
    // a late commitment the record does not hold is no dropped bid: it could not have counted
    assert.deepEqual(verify(await record()).problems, verify(await record(), all).problems);
  });

  test('eligibility comes from the announcements: a bidder without the kind is invalid', async () => {
    const g = generateLocalSigner();
    const anns = [...announcements, await announce(g, [5001])];
    const gBid = await bid(g, 1000, idOf('E'), T + 6);
    const all = [...commitments, gBid.commitment];
    assert.deepEqual(eligibleBidders(anns, KIND), bidders.map((b) => b.signer.pubkey).sort());
    const rec = await record({ commitments: all, openings: [...openings, gBid.opening] });
    const result = verify(rec, all, anns);
    assert.deepEqual(result.problems, []);
    assert.deepEqual(
      result.settlement?.invalid.map((i) => [i.bidder, i.reason]),
      [[g.pubkey, 'not-eligible']],
    );
  });
});

describe('verifyAuction: each tampering fails with a specific problem', () => {
  test('a dropped commitment', async () => {
    const rec = await record({
      commitments: commitments.filter((e) => e.pubkey !== pk('D')),
      openings: openings.filter((o) => o.bidder !== pk('D')),
    });
    fails(
      verify(rec),
      new RegExp(
        `commitment ${idOf('D')} by ${esc(short(pk('D')))} is on the relay but not in the record \\(a dropped bid\\)`,
      ),
    );
  });

  test('an inserted commitment (a shill bid never published)', async () => {
    const shill = generateLocalSigner();
    const anns = [...announcements, await announce(shill, [KIND])];
    const s = await bid(shill, 2100, idOf('E'), T + 7);
    const rec = await record({
      commitments: [...commitments, s.commitment],
      openings: [...openings, s.opening],
      eligible: eligibleBidders(anns, KIND),
    });
    fails(
      verify(rec, commitments, anns),
      new RegExp(`commitment ${s.commitment.id} .* in the record but not on the relay \\(an inserted bid\\)`),
    );
  });

  test('a changed opening amount', async () => {
    const rec = await edited((c) => {
      const o = c.openings.find((x) => x.bidder === pk('C'));
      if (o) o.amountMsats = 2600;
    });
    fails(
      verify(rec),
      new RegExp(`ranks ${esc(short(pk('C')))}'s bid at 2000 msats, but no opening in the record matches`),
      new RegExp(`recomputed: ${esc(short(pk('C')))}'s bid ${idOf('C')} is invalid \\(mismatch`),
    );
  });

  test('a wrong winner', async () => {
    const rec = await edited((_, tags) => {
      const w = tags.find((t) => t[0] === 'winner');
      if (w) w[1] = pk('C');
    });
    fails(
      verify(rec),
      new RegExp(
        `^the record says winner ${esc(short(pk('C')))} at 2000 msats; recomputed ${esc(short(pk('B')))} at 2000 msats$`,
      ),
    );
  });

  test('a wrong price', async () => {
    const rec = await edited((_, tags) => {
      const p = tags.find((t) => t[0] === 'price');
      if (p) p[1] = '3000';
    });
    const result = verify(rec);
    fails(result, /^the record says price 3000 msats; recomputed 2000 msats$/);
    assert.equal(result.problems.length, 1);
  });

  test('a record by another key', async () => {
    const impostor = generateLocalSigner();
    fails(
      verify(await record({ by: impostor })),
      new RegExp(
        `record is signed by ${impostor.pubkey}, not by the auction's coordinator ${coordinator.pubkey}`,
      ),
    );
  });

  test('a forged signature: on the record, on a commitment it holds, on an announcement', async () => {
    const honest = await record();
    const forgedRecord = { ...honest, sig: openEvent.sig };
    fails(
      verify(forgedRecord),
      new RegExp(`the record ${honest.id} is not validly signed \\(bad signature\\)`),
    );

    const rec = await edited((c) => {
      const e = c.commitments.find((x) => x.pubkey === pk('A'));
      if (!e) return;
      e.tags = e.tags.map((t) => (t[0] === 'commitment' ? ['commitment', '0'.repeat(64)] : t));
      e.id = getEventHash(e);
    });
    fails(verify(rec), /commitment [0-9a-f]{64} in the record is not validly signed \(bad signature\)/);

    const ann = announcements[0] as NostrEvent;
    const forgedAnn = { ...ann, tags: [...ann.tags, ['k', '5002']] };
    fails(
      verify(honest, commitments, [forgedAnn, ...announcements.slice(1)]),
      /announcement .* not validly signed/,
    );
  });

  test('an ineligible bidder counted as valid', async () => {
    const g = generateLocalSigner();
    const anns = [...announcements, await announce(g, [5001])];
    const gBid = await bid(g, 1000, idOf('E'), T + 6);
    const all = [...commitments, gBid.commitment];
    const rec = await record({
      commitments: all,
      openings: [...openings, gBid.opening],
      eligible: [...eligibleBidders(anns, KIND), g.pubkey],
    });
    fails(
      verify(rec, all, anns),
      new RegExp(
        `recomputed: ${esc(short(g.pubkey))}'s bid ${gBid.commitment.id} is invalid \\(not-eligible`,
      ),
      new RegExp(
        `record says winner ${esc(short(g.pubkey))} at 1000 msats; recomputed ${esc(short(pk('B')))}`,
      ),
    );
  });

  test('a changed reputation used to flip a tie', async () => {
    const rec = await edited((c) => {
      c.reputations[pk('C')] = 0.95;
    });
    fails(
      verify(rec),
      new RegExp(
        `record says winner ${esc(short(pk('B')))} at 2000 msats; recomputed ${esc(short(pk('C')))} at 2000 msats`,
      ),
    );
  });

  test('a wrong head, a record of another auction, a record before the deadline', async () => {
    fails(
      verify(
        await edited((_, tags) => {
          const h = tags.find((t) => t[0] === 'head');
          if (h) h[1] = open.id;
        }),
      ),
      /the record's head is [0-9a-f]{64}; recomputed [0-9a-f]{64}/,
    );
    fails(
      verify(
        await edited((_, tags) => {
          const e = tags.find((t) => t[0] === 'e');
          if (e) e[1] = request.id;
        }),
      ),
      new RegExp(`record is for auction ${request.id}, not ${open.id}`),
    );
    fails(verify(await record({ createdAt: DEADLINE - 1 })), /published at .*, before the deadline/);
  });

  test('a malformed record or open: one problem, no settlement', async () => {
    const bad = await coordinator.signEvent({ ...honestTemplate(), content: 'nope' });
    const result = verify(bad);
    fails(result, /the record is malformed: .*content must be a JSON object/);
    assert.equal(result.settlement, undefined);
  });
});
