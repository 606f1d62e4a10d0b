import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import { isAddressableKind, isEphemeralKind, isReplaceableKind } from '../core/nostr.ts';
import { buildJobRequest } from '../dvm/request.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import { chainHead } from './chain.ts';
import { commitBid, newNonce } from './commitment.ts';
import {
  auctionCommitments,
  auctionTerms,
  buildAuctionOpen,
  buildCommitment,
  parseAuctionOpen,
  parseCommitment,
  sealedBid,
} from './events.ts';
import { AUCTION_OPEN_KIND, AUCTION_RECORD_KIND, AuctionEventError, BID_COMMITMENT_KIND } from './kinds.ts';
import { buildAuctionRecord, canonicalJson, parseAuctionRecord } from './record.ts';
import { type BidOpening, settleVickrey } from './settle.ts';

const hex = (label: string): string => createHash('sha256').update(label).digest('hex');
const coordinator = generateLocalSigner();
const customer = generateLocalSigner();
const T = 1_700_000_000;
const DEADLINE = T + 60;
const request = await customer.signEvent(
  buildJobRequest({ kind: 5050, inputs: [{ data: 'a haiku', type: 'text' }], createdAt: T }),
);
const open = await coordinator.signEvent(
  buildAuctionOpen({ request, deadline: DEADLINE, reserveMsats: 10_000, createdAt: T }),
);

/** `template` with its tags changed, signed by `by`. */
const withTags = (template: EventTemplate, tags: string[][], by = coordinator): Promise<NostrEvent> =>
  by.signEvent({ ...template, tags });

function rejects(event: NostrEvent, parse: (e: NostrEvent) => unknown, re: RegExp): void {
  assert.throws(
    () => parse(event),
    (err: unknown) => err instanceof AuctionEventError && re.test(err.message),
    `expected AuctionEventError matching ${re}`,
  );
}

describe('auction open (kind 7610)', () => {
  test('a regular kind; the tags', () => {
    for (const k of [AUCTION_OPEN_KIND, BID_COMMITMENT_KIND, AUCTION_RECORD_KIND])
      assert.ok(!isEphemeralKind(k) && !isReplaceableKind(k) && !isAddressableKind(k));
    assert.deepEqual(open.tags, [
      ['e', request.id],
      ['k', '5050'],
      ['deadline', String(DEADLINE)],
      ['reserve', '10000'],
      ['p', customer.pubkey],
    ]);
    assert.equal(open.content, '');
    const noReserve = buildAuctionOpen({ request, deadline: DEADLINE, createdAt: T });
    assert.ok(!noReserve.tags.some((t) => t[0] === 'reserve'));
  });

  test('round trip', async () => {
    assert.deepEqual(parseAuctionOpen(open), {
      id: open.id,
      coordinator: coordinator.pubkey,
      jobId: request.id,
      kind: 5050,
      deadline: DEADLINE,
      reserveMsats: 10_000,
      invited: [],
      soleBidCaps: {},
      customer: customer.pubkey,
      createdAt: T,
    });
    const bare = await coordinator.signEvent(buildAuctionOpen({ request, deadline: DEADLINE, createdAt: T }));
    assert.ok(!('reserveMsats' in parseAuctionOpen(bare)));
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    const invitation = await coordinator.signEvent(
      buildAuctionOpen({ request, deadline: DEADLINE, createdAt: T, invited: [a, b] }),
    );
    assert.deepEqual(
      invitation.tags.filter((t) => t[0] === 'bidder'),
      [
        ['bidder', a],
        ['bidder', b],
      ],
    );
    assert.deepEqual(parseAuctionOpen(invitation).invited, [a, b]);
    // A sole-bid cap per invited bidder (its listed price) rides on its bidder tag.
    const capped = await coordinator.signEvent(
      buildAuctionOpen({
        request,
        deadline: DEADLINE,
        createdAt: T,
        invited: [a, b],
        soleBidCaps: { [a]: 4000 },
      }),
    );
    assert.deepEqual(
      capped.tags.filter((t) => t[0] === 'bidder'),
      [
        ['bidder', a, '4000'],
        ['bidder', b],
      ],
    );
    assert.deepEqual(parseAuctionOpen(capped).soleBidCaps, { [a]: 4000 });
    assert.deepEqual(auctionTerms(parseAuctionOpen(capped), [a]).soleBidCapMsats, { [a]: 4000 });
    assert.throws(
      () =>
        buildAuctionOpen({
          request,
          deadline: DEADLINE,
          createdAt: T,
          invited: [a],
          soleBidCaps: { [a]: -1 },
        }),
      /sole-bid cap/,
    );
    const badCap = await coordinator.signEvent({ ...capped, tags: [...capped.tags, ['bidder', b, 'lots']] });
    assert.throws(() => parseAuctionOpen(badCap), /a bidder tag's cap must be millisats, got "lots"/);
    assert.throws(
      () => buildAuctionOpen({ request, deadline: DEADLINE, createdAt: T, invited: ['nope'] }),
      /invited bidder/,
    );
    assert.deepEqual(auctionTerms(parseAuctionOpen(open), ['x']), {
      jobId: request.id,
      kind: 5050,
      deadline: DEADLINE,
      reserveMsats: 10_000,
      eligible: ['x'],
    });
  });

  test('the builder rejects a bad request, deadline or reserve', () => {
    assert.throws(() => buildAuctionOpen({ request: { ...request, kind: 1 }, deadline: DEADLINE }), /kind 1/);
    assert.throws(
      () => buildAuctionOpen({ request: { ...request, id: 'x' }, deadline: DEADLINE }),
      /request id/,
    );
    assert.throws(() => buildAuctionOpen({ request, deadline: T, createdAt: T }), /deadline .* after/);
    assert.throws(() => buildAuctionOpen({ request, deadline: 1.5, createdAt: 0 }), /deadline/);
    assert.throws(
      () => buildAuctionOpen({ request, deadline: DEADLINE, reserveMsats: -1, createdAt: T }),
      /reserve/,
    );
  });

  test('the parser rejects malformed events with a clear message', async () => {
    const t = buildAuctionOpen({ request, deadline: DEADLINE, reserveMsats: 10_000, createdAt: T });
    const without = (name: string): string[][] => t.tags.filter((x) => x[0] !== name);
    const replace = (name: string, value: string): string[][] =>
      t.tags.map((x) => (x[0] === name ? [name, value] : x));
    rejects(
      await withTags({ ...t, kind: 7611 }, t.tags),
      parseAuctionOpen,
      /kind 7611 is not an auction open/,
    );
    rejects(await withTags(t, without('e')), parseAuctionOpen, /e tag must hold the job request id/);
    rejects(await withTags(t, replace('k', '1')), parseAuctionOpen, /k tag must hold a job request kind/);
    rejects(await withTags(t, without('deadline')), parseAuctionOpen, /needs a deadline tag/);
    rejects(await withTags(t, replace('deadline', 'soon')), parseAuctionOpen, /deadline tag .* integer/);
    rejects(await withTags(t, replace('deadline', String(T - 1))), parseAuctionOpen, /not after the auction/);
    rejects(await withTags(t, replace('reserve', '-5')), parseAuctionOpen, /reserve tag/);
    rejects(await withTags(t, without('p')), parseAuctionOpen, /p tag must hold the customer's pubkey/);
  });
});

describe('bid commitment (kind 7611)', () => {
  const bidder = generateLocalSigner();
  const commitment = commitBid({
    jobId: request.id,
    bidder: bidder.pubkey,
    amountMsats: 900,
    nonce: newNonce(),
  });
  const template = buildCommitment({
    open: { id: open.id, jobId: request.id },
    commitment,
    prev: open.id,
    createdAt: T + 5,
  });

  test('the tags', () => {
    assert.equal(template.kind, BID_COMMITMENT_KIND);
    assert.equal(template.content, '');
    assert.deepEqual(template.tags, [
      ['e', open.id],
      ['job', request.id],
      ['commitment', commitment],
      ['prev', open.id],
    ]);
  });

  test('round trip, and its settle.ts view', async () => {
    const e = await bidder.signEvent(template);
    const c = parseCommitment(e);
    assert.deepEqual(c, {
      id: e.id,
      bidder: bidder.pubkey,
      auctionId: open.id,
      jobId: request.id,
      commitment,
      prev: open.id,
      createdAt: T + 5,
    });
    assert.deepEqual(sealedBid(c), {
      bidder: bidder.pubkey,
      commitment,
      commitmentEventId: e.id,
      createdAt: T + 5,
    });
  });

  test('the builder rejects values that are not 64 hex', () => {
    const spec = { open: { id: open.id, jobId: request.id }, commitment, prev: open.id };
    assert.throws(() => buildCommitment({ ...spec, commitment: 'abc' }), /commitment/);
    assert.throws(() => buildCommitment({ ...spec, prev: '' }), /prev/);
    assert.throws(() => buildCommitment({ ...spec, open: { id: 'x', jobId: request.id } }), /auction id/);
    assert.throws(() => buildCommitment({ ...spec, open: { id: open.id, jobId: 'x' } }), /job request id/);
  });

  test('the parser rejects each missing or malformed tag', async () => {
    rejects(
      await withTags({ ...template, kind: 7610 }, template.tags, bidder),
      parseCommitment,
      /not a bid commitment/,
    );
    for (const [name, re] of [
      ['e', /e tag must hold the auction id/],
      ['job', /job tag must hold the job request id/],
      ['commitment', /commitment tag must hold the sha256 commitment/],
      ['prev', /prev tag must hold the previous commitment id or the auction id/],
    ] as const) {
      rejects(
        await withTags(
          template,
          template.tags.filter((t) => t[0] !== name),
          bidder,
        ),
        parseCommitment,
        re,
      );
      const upper = template.tags.map((t) => (t[0] === name ? [name, String(t[1]).toUpperCase()] : t));
      rejects(await withTags(template, upper, bidder), parseCommitment, re);
    }
  });
});

describe('auction record (kind 7613)', async () => {
  const bidders = [generateLocalSigner(), generateLocalSigner(), generateLocalSigner()];
  const amounts = [3000, 2000, 4000];
  const commitments: NostrEvent[] = [];
  const openings: BidOpening[] = [];
  let prev = open.id;
  for (const [i, b] of bidders.entries()) {
    const nonce = newNonce();
    const amountMsats = amounts[i] ?? 0;
    const e = await b.signEvent(
      buildCommitment({
        open: { id: open.id, jobId: request.id },
        commitment: commitBid({ jobId: request.id, bidder: b.pubkey, amountMsats, nonce }),
        prev,
        createdAt: T + 10 + i,
      }),
    );
    commitments.push(e);
    openings.push({ bidder: b.pubkey, commitmentEventId: e.id, amountMsats, nonce });
    prev = e.id;
  }
  const reputations = Object.fromEntries(bidders.map((b, i) => [b.pubkey, i / 10]));
  const terms = auctionTerms(
    parseAuctionOpen(open),
    bidders.map((b) => b.pubkey),
  );
  const settlement = settleVickrey(
    terms,
    commitments.map((e) => sealedBid(parseCommitment(e))),
    openings,
    (pk) => reputations[pk] ?? 0,
  );
  const head = chainHead(
    open.id,
    commitments.map((e) => ({ id: e.id, createdAt: e.created_at })),
  );
  const spec = {
    open,
    settlement,
    commitments,
    openings,
    reputations,
    chainHead: head,
    createdAt: DEADLINE + 1,
  };
  const template = buildAuctionRecord(spec);
  const record = await coordinator.signEvent(template);
  const winner = bidders[1]?.pubkey ?? '';

  test('the tags', () => {
    assert.deepEqual(template.tags, [
      ['e', open.id],
      ['job', request.id],
      ['winner', winner, '2000'],
      ['price', '3000'],
      ['head', head],
      ['mechanism', 'vickrey'],
    ]);
  });

  test('round trip: every commitment, opening, reputation, the ranking and the invalid list', () => {
    const parsed = parseAuctionRecord(record);
    assert.equal(parsed.id, record.id);
    assert.equal(parsed.coordinator, coordinator.pubkey);
    assert.equal(parsed.auctionId, open.id);
    assert.equal(parsed.jobId, request.id);
    assert.equal(parsed.mechanism, 'vickrey');
    assert.equal(parsed.head, head);
    assert.deepEqual(parsed.winner, { bidder: winner, amountMsats: 2000 });
    assert.equal(parsed.priceMsats, 3000);
    assert.deepEqual(parsed.commitments, commitments);
    assert.deepEqual(
      [...parsed.openings].sort((a, b) => a.amountMsats - b.amountMsats),
      [...openings].sort((a, b) => a.amountMsats - b.amountMsats),
    );
    assert.deepEqual(parsed.reputations, reputations);
    assert.deepEqual(parsed.ranked, settlement.ranked);
    assert.deepEqual(parsed.invalid, settlement.invalid);
    assert.equal(parsed.createdAt, DEADLINE + 1);
  });

  test('content is canonical: the same whatever the input order; only the bidders’ reputations', () => {
    assert.equal(template.content, canonicalJson(JSON.parse(template.content)));
    const shuffled = buildAuctionRecord({
      ...spec,
      commitments: [...commitments].reverse(),
      openings: [...openings].reverse(),
      reputations: { [hex('not a bidder')]: 5, ...reputations },
    });
    assert.equal(shuffled.content, template.content);
    assert.equal(canonicalJson({ b: [1, { d: 1, c: 'x' }], a: null }), '{"a":null,"b":[1,{"c":"x","d":1}]}');
  });

  test('openings of no commitment, or by another key, are left out; repeats kept once', () => {
    const first = openings[0] as BidOpening;
    const t = buildAuctionRecord({
      ...spec,
      openings: [
        ...openings,
        first,
        { ...first, commitmentEventId: hex('unknown') },
        { ...first, bidder: hex('someone') },
      ],
    });
    assert.equal(t.content, template.content);
  });

  test('no bids: no winner, no price', async () => {
    const empty = settleVickrey(terms, [], [], () => 0);
    const e = await coordinator.signEvent(
      buildAuctionRecord({ ...spec, settlement: empty, commitments: [], openings: [], chainHead: open.id }),
    );
    assert.ok(!e.tags.some((t) => t[0] === 'winner' || t[0] === 'price'));
    const parsed = parseAuctionRecord(e);
    assert.equal(parsed.winner, undefined);
    assert.equal(parsed.priceMsats, undefined);
    assert.deepEqual(parsed.commitments, []);
  });

  test('what counts: events that are not commitments of this auction and job are left out', async () => {
    const b0 = bidders[0] ?? coordinator;
    const note = await b0.signEvent({ kind: 1, created_at: T, tags: [['e', open.id]], content: '' });
    const commit = (tags: string[][]): Promise<NostrEvent> =>
      b0.signEvent({ kind: BID_COMMITMENT_KIND, created_at: T + 20, tags, content: '' });
    const otherAuction = await commit([
      ['e', hex('other')],
      ['e', open.id],
      ['job', request.id],
      ['commitment', hex('c')],
      ['prev', hex('other')],
    ]);
    const otherJob = await commit([
      ['e', open.id],
      ['job', hex('other job')],
      ['commitment', hex('c')],
      ['prev', open.id],
    ]);
    const malformed = await commit([['e', open.id]]);
    const noise = [note, otherAuction, otherJob, malformed];
    const all = [...noise, ...commitments, ...commitments];
    assert.deepEqual(
      auctionCommitments(parseAuctionOpen(open), all).map((c) => c.event),
      commitments,
    );
    assert.deepEqual(
      auctionCommitments(parseAuctionOpen(open), all).map((c) => c.commitment),
      commitments.map(parseCommitment),
    );
    assert.equal(buildAuctionRecord({ ...spec, commitments: all }).content, template.content);
  });

  test("the head is computed when left out; a given head must be the commitments' one", () => {
    const { chainHead: _given, ...rest } = spec;
    assert.deepEqual(buildAuctionRecord(rest), template);
    assert.throws(() => buildAuctionRecord({ ...spec, chainHead: 'x' }), /chain head x is not the head/);
    assert.throws(
      () => buildAuctionRecord({ ...spec, commitments: commitments.slice(1) }),
      /not the head of the auction's 2 commitments/,
    );
  });

  test('the builder rejects bad reputations; completes them from the settlement', async () => {
    assert.throws(
      () => buildAuctionRecord({ ...spec, reputations: { ...reputations, [winner]: Number.NaN } }),
      /finite number/,
    );
    assert.throws(
      () => buildAuctionRecord({ ...spec, reputations: { ...reputations, [winner]: 0.99 } }),
      /but reputations says 0.99/,
    );
    // reputations missing for a ranked bidder are taken from the settlement
    const t = buildAuctionRecord({ ...spec, reputations: {} });
    assert.deepEqual(parseAuctionRecord(await coordinator.signEvent(t)).reputations, reputations);
  });

  test('the parser rejects malformed tags', async () => {
    const without = (name: string): string[][] => template.tags.filter((t) => t[0] !== name);
    const replace = (name: string, ...values: string[]): string[][] =>
      template.tags.map((t) => (t[0] === name ? [name, ...values] : t));
    rejects(
      await withTags({ ...template, kind: 7611 }, template.tags),
      parseAuctionRecord,
      /not an auction record/,
    );
    rejects(await withTags(template, without('e')), parseAuctionRecord, /e tag must hold the auction id/);
    rejects(await withTags(template, without('job')), parseAuctionRecord, /job tag/);
    rejects(
      await withTags(template, without('head')),
      parseAuctionRecord,
      /head tag must hold the chain head/,
    );
    rejects(
      await withTags(template, without('mechanism')),
      parseAuctionRecord,
      /mechanism tag must be one of/,
    );
    rejects(await withTags(template, replace('mechanism', 'dutch')), parseAuctionRecord, /"dutch"/);
    rejects(await withTags(template, without('price')), parseAuctionRecord, /needs a price tag/);
    rejects(await withTags(template, without('winner')), parseAuctionRecord, /price tag needs a winner tag/);
    rejects(await withTags(template, replace('winner', winner)), parseAuctionRecord, /winner tag must be/);
    rejects(
      await withTags(template, replace('winner', 'npub', '2000')),
      parseAuctionRecord,
      /winner tag must be/,
    );
    rejects(await withTags(template, replace('price', '1e3')), parseAuctionRecord, /price tag must hold/);
  });

  test('the parser rejects malformed content, naming the field', async () => {
    const content = JSON.parse(template.content) as Record<string, unknown[] | Record<string, unknown>>;
    const edit = async (change: (c: typeof content) => unknown): Promise<NostrEvent> => {
      const c = structuredClone(content);
      change(c);
      return coordinator.signEvent({ ...template, content: JSON.stringify(c) });
    };
    const first = (name: string): Record<string, unknown> =>
      (content[name] as Record<string, unknown>[])[0] as Record<string, unknown>;
    rejects(
      await coordinator.signEvent({ ...template, content: '[]' }),
      parseAuctionRecord,
      /content must be a JSON object/,
    );
    rejects(
      await coordinator.signEvent({ ...template, content: 'x' }),
      parseAuctionRecord,
      /content must be a JSON object/,
    );
    rejects(await edit((c) => delete c.commitments), parseAuctionRecord, /commitments must be an array/);
    rejects(
      await edit((c) => {
        c.commitments = [{ ...first('commitments'), sig: 'x' }];
      }),
      parseAuctionRecord,
      /commitments\[0\] is not an event: sig/,
    );
    rejects(
      await edit((c) => {
        c.openings = [{ ...first('openings'), amountMsats: -1 }];
      }),
      parseAuctionRecord,
      /openings\[0\] needs amountMsats/,
    );
    rejects(
      await edit((c) => {
        c.reputations = { [winner]: 'high' };
      }),
      parseAuctionRecord,
      /reputations needs/,
    );
    rejects(
      await edit((c) => {
        c.reputations = { alice: 1 };
      }),
      parseAuctionRecord,
      /not a pubkey: "alice"/,
    );
    rejects(
      await edit((c) => {
        c.ranked = [{ ...first('ranked'), bidder: 'B' }];
      }),
      parseAuctionRecord,
      /ranked\[0\] needs bidder/,
    );
    rejects(
      await edit((c) => {
        c.invalid = [{ bidder: winner, commitmentEventId: record.id, reason: 'rude', detail: '' }];
      }),
      parseAuctionRecord,
      /invalid\[0\] has an unknown reason "rude"/,
    );
    rejects(
      await edit((c) => {
        c.invalid = [7];
      }),
      parseAuctionRecord,
      /invalid\[0\] must be an object/,
    );
  });
});
