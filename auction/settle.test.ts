// Every assert.ok here carries a message: without one, node builds it by re-parsing the source, which
// under tsx stalled fast-check shrinking for minutes per failure.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { commitBid } from './commitment.ts';
import {
  type AuctionTerms,
  type BidOpening,
  type InvalidReason,
  type RankedBid,
  type SealedBid,
  type Settlement,
  settleFirstPrice,
  settleVickrey,
} from './settle.ts';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const JOB = sha('job');
const OTHER_JOB = sha('another job');
const DEADLINE = 1_700_000_000;
const key = (name: string): string => sha(`key ${name}`);

interface Sealed {
  bid: SealedBid;
  opening: BidOpening;
}
/** A commitment event and its opening; `commitFor` overrides what was hashed (to build mismatches). */
function seal(
  bidder: string,
  amountMsats: number,
  o: {
    at?: number;
    id?: string;
    jobId?: string;
    commitFor?: Partial<{ amountMsats: number; bidder: string }>;
  } = {},
): Sealed {
  const nonce = sha(`nonce ${bidder} ${o.id ?? ''} ${amountMsats}`);
  const commitmentEventId = o.id ?? sha(`event ${bidder} ${amountMsats}`);
  const commitment = commitBid({
    jobId: o.jobId ?? JOB,
    bidder: o.commitFor?.bidder ?? bidder,
    amountMsats: o.commitFor?.amountMsats ?? amountMsats,
    nonce,
  });
  return {
    bid: { bidder, commitment, commitmentEventId, createdAt: o.at ?? DEADLINE - 10 },
    opening: { bidder, commitmentEventId, amountMsats, nonce },
  };
}
function terms(eligible: readonly string[], reserveMsats?: number): AuctionTerms {
  return {
    jobId: JOB,
    kind: 5050,
    deadline: DEADLINE,
    eligible,
    ...(reserveMsats === undefined ? {} : { reserveMsats }),
  };
}
const noRep = (): number => 0;
function run(t: AuctionTerms, sealed: readonly Sealed[], rep: (p: string) => number = noRep): Settlement {
  return settleVickrey(
    t,
    sealed.map((s) => s.bid),
    sealed.map((s) => s.opening),
    rep,
  );
}

const A = key('a');
const B = key('b');
const C = key('c');

describe('settleVickrey: price and winner', () => {
  test('lowest bid wins and is paid the second-lowest amount', () => {
    const s = run(terms([A, B, C]), [seal(A, 300), seal(B, 100), seal(C, 200)]);
    assert.equal(s.mechanism, 'vickrey');
    assert.equal(s.winner?.bidder, B);
    assert.equal(s.priceMsats, 200);
    assert.deepEqual(
      s.ranked.map((r) => [r.bidder, r.amountMsats]),
      [
        [B, 100],
        [C, 200],
        [A, 300],
      ],
    );
    assert.deepEqual(s.invalid, []);
  });
  test('first-price ranks the same and pays the winner its own bid', () => {
    const sealed = [seal(A, 300), seal(B, 100), seal(C, 200)];
    const s = settleFirstPrice(
      terms([A, B, C]),
      sealed.map((x) => x.bid),
      sealed.map((x) => x.opening),
      noRep,
    );
    assert.equal(s.mechanism, 'first-price');
    assert.equal(s.winner?.bidder, B);
    assert.equal(s.priceMsats, 100);
  });
  test('a single valid bid is paid the reserve, or its own amount when there is no reserve', () => {
    assert.equal(run(terms([A], 500), [seal(A, 120)]).priceMsats, 500);
    assert.equal(run(terms([A]), [seal(A, 120)]).priceMsats, 120);
  });
  test('a single valid bid with a sole-bid cap (its listed price) is paid the lower of cap and reserve, never less than its bid', () => {
    const capped = (reserve: number | undefined, cap: number) => ({
      ...terms([A, B], reserve),
      soleBidCapMsats: { [A]: cap },
    });
    assert.equal(
      run(capped(500, 150), [seal(A, 120)]).priceMsats,
      150,
      'the cap, not the customer’s ceiling',
    );
    assert.equal(run(capped(130, 150), [seal(A, 120)]).priceMsats, 130, 'the reserve when it is lower');
    assert.equal(
      run(capped(500, 100), [seal(A, 120)]).priceMsats,
      120,
      'a bid above its cap is paid the bid',
    );
    assert.equal(run(capped(undefined, 150), [seal(A, 120)]).priceMsats, 150, 'no reserve: the cap');
    // Another bidder's cap does not count, and two valid bids are second-price as ever.
    assert.equal(run({ ...terms([A], 500), soleBidCapMsats: { [B]: 150 } }, [seal(A, 120)]).priceMsats, 500);
    assert.equal(run(capped(500, 150), [seal(A, 120), seal(B, 300)]).priceMsats, 300);
  });
  test('a bid equal to the reserve is valid', () => {
    const s = run(terms([A, B], 200), [seal(A, 200), seal(B, 150)]);
    assert.equal(s.winner?.bidder, B);
    assert.equal(s.priceMsats, 200);
  });
  test('no valid bid: no winner, no price', () => {
    const s = run(terms([A]), [seal(B, 10)]);
    assert.equal(s.winner, undefined);
    assert.equal(s.priceMsats, undefined);
    assert.deepEqual(s.ranked, []);
    assert.equal(s.invalid.length, 1);
    assert.deepEqual(run(terms([A]), []), { mechanism: 'vickrey', ranked: [], invalid: [] });
  });
});

describe('settleVickrey: tie-break chain', () => {
  const [lo, hi] = [A, B].sort();
  test('equal amounts: the higher reputation wins, at the tied amount', () => {
    const rep = (p: string): number => (p === lo ? 1 : 5);
    const s = run(terms([A, B]), [seal(lo!, 100), seal(hi!, 100)], rep);
    assert.equal(s.winner?.bidder, hi);
    assert.equal(s.winner?.reputation, 5);
    assert.equal(s.priceMsats, 100);
  });
  test('equal reputation: the earlier commitment wins', () => {
    const s = run(terms([A, B]), [
      seal(lo!, 100, { at: DEADLINE - 5 }),
      seal(hi!, 100, { at: DEADLINE - 6 }),
    ]);
    assert.equal(s.winner?.bidder, hi);
  });
  test('equal time too: the lower pubkey wins', () => {
    const s = run(terms([A, B]), [seal(hi!, 100), seal(lo!, 100)]);
    assert.equal(s.winner?.bidder, lo);
    assert.equal(s.priceMsats, 100);
  });
  test('amount beats reputation and time', () => {
    const rep = (p: string): number => (p === A ? 100 : 0);
    const s = run(terms([A, B]), [seal(A, 101, { at: DEADLINE - 100 }), seal(B, 100)], rep);
    assert.equal(s.winner?.bidder, B);
    assert.equal(s.priceMsats, 101);
  });
  test('a NaN reputation counts as 0', () => {
    const s = run(terms([A]), [seal(A, 1)], () => Number.NaN);
    assert.equal(s.winner?.reputation, 0);
  });
});

describe('settleVickrey: invalid bids, each with a readable detail', () => {
  function only(s: Settlement): { reason: InvalidReason; detail: string } {
    assert.equal(s.invalid.length, 1, JSON.stringify(s.invalid));
    const [i] = s.invalid;
    return { reason: i!.reason, detail: i!.detail };
  }
  test('not-eligible: no announcement for the kind', () => {
    const s = run(terms([B]), [seal(A, 1), seal(B, 50)]);
    assert.equal(s.winner?.bidder, B);
    const i = only(s);
    assert.equal(i.reason, 'not-eligible');
    assert.match(i.detail, /no announcement covering kind 5050/);
  });
  test('not-eligible is reported before late', () => {
    assert.equal(only(run(terms([]), [seal(A, 1, { at: DEADLINE + 1 })])).reason, 'not-eligible');
  });
  test('late: created after the deadline (at the deadline is on time)', () => {
    const i = only(run(terms([A, B]), [seal(A, 1, { at: DEADLINE + 3 }), seal(B, 50, { at: DEADLINE })]));
    assert.equal(i.reason, 'late');
    assert.match(i.detail, /3 s after the deadline/);
  });
  test('duplicate: the earliest commitment counts, even when a later one bids lower', () => {
    const first = seal(A, 100, { at: DEADLINE - 20, id: sha('e1') });
    const second = seal(A, 1, { at: DEADLINE - 10, id: sha('e2') });
    const s = run(terms([A, B]), [second, first, seal(B, 150)]);
    assert.equal(s.winner?.commitmentEventId, sha('e1'));
    assert.equal(s.priceMsats, 150);
    const i = s.invalid[0]!;
    assert.deepEqual([i.reason, i.commitmentEventId], ['duplicate', sha('e2')]);
    assert.match(i.detail, /already committed/);
  });
  test('duplicate at the same second: the lower event id counts; the counted one unopened is no-opening', () => {
    const [id1, id2] = [sha('x'), sha('y')].sort();
    const counted = seal(A, 100, { id: id1! });
    const other = seal(A, 50, { id: id2! });
    const s = settleVickrey(terms([A]), [other.bid, counted.bid], [other.opening], noRep);
    assert.equal(s.winner, undefined);
    assert.deepEqual(
      s.invalid.map((i) => [i.commitmentEventId, i.reason]),
      [
        [id1, 'no-opening'],
        [id2, 'duplicate'],
      ],
    );
  });
  test('no-opening: nothing received, or an opening for another event or from another key', () => {
    const a = seal(A, 1);
    for (const openings of [
      [],
      [{ ...a.opening, commitmentEventId: sha('other') }],
      [{ ...a.opening, bidder: B }],
    ]) {
      const i = only(settleVickrey(terms([A]), [a.bid], openings, noRep));
      assert.equal(i.reason, 'no-opening');
      assert.match(i.detail, /no opening received for commitment/);
    }
  });
  test('malformed: the opening amount or nonce is not well formed', () => {
    const a = seal(A, 1);
    for (const patch of [
      { amountMsats: -1 },
      { amountMsats: 1.5 },
      { nonce: a.opening.nonce.toUpperCase() },
    ]) {
      const i = only(settleVickrey(terms([A]), [a.bid], [{ ...a.opening, ...patch }], noRep));
      assert.equal(i.reason, 'malformed');
      assert.match(i.detail, /opening amount must be/);
    }
  });
  test('malformed: a commitment that is not 64 lowercase hex', () => {
    const a = seal(A, 1);
    const i = only(settleVickrey(terms([A]), [{ ...a.bid, commitment: 'zz' }], [a.opening], noRep));
    assert.equal(i.reason, 'malformed');
  });
  test('mismatch: the opening is not what was committed', () => {
    const i = only(run(terms([A]), [seal(A, 10, { commitFor: { amountMsats: 11 } })]));
    assert.equal(i.reason, 'mismatch');
    assert.match(i.detail, /opening \(10 msats\) does not match the commitment for job/);
  });
  test('mismatch: an opening replayed from another auction', () => {
    const replayed = seal(A, 10, { jobId: OTHER_JOB });
    assert.equal(only(run(terms([A]), [replayed])).reason, 'mismatch');
  });
  test('mismatch: a commitment copied from another bidder', () => {
    assert.equal(only(run(terms([A, B]), [seal(A, 10, { commitFor: { bidder: B } })])).reason, 'mismatch');
  });
  test('several openings for one commitment: the one that matches counts', () => {
    const a = seal(A, 10);
    const s = settleVickrey(terms([A]), [a.bid], [{ ...a.opening, amountMsats: 1 }, a.opening], noRep);
    assert.equal(s.winner?.amountMsats, 10);
  });
  test('above-reserve: bids above the customer bid tag', () => {
    const s = run(terms([A, B], 100), [seal(A, 101), seal(B, 100)]);
    assert.equal(s.winner?.bidder, B);
    assert.equal(s.priceMsats, 100);
    const i = only(s);
    assert.equal(i.reason, 'above-reserve');
    assert.match(i.detail, /bid 101 msats is above the reserve of 100 msats/);
  });
  test('the same commitment event delivered twice counts once', () => {
    const a = seal(A, 10);
    const s = settleVickrey(terms([A]), [a.bid, { ...a.bid }], [a.opening, a.opening], noRep);
    assert.equal(s.ranked.length, 1);
    assert.deepEqual(s.invalid, []);
  });
  test('bad terms throw RangeError', () => {
    const bad: Partial<AuctionTerms>[] = [{ jobId: 'x' }, { deadline: 1.5 }, { reserveMsats: -1 }];
    for (const patch of bad) assert.throws(() => run({ ...terms([A]), ...patch }, []), RangeError);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property-based: random auctions mixing honest bidders and bidders with exactly one defect.

const DEFECTS = [
  'valid',
  'not-eligible',
  'late',
  'duplicate',
  'no-opening',
  'malformed',
  'mismatch',
  'above-reserve',
] as const;
type Defect = (typeof DEFECTS)[number];

const bidderArb = fc.record({
  defect: fc.constantFrom(...DEFECTS),
  amount: fc.integer({ min: 0, max: 40 }),
  badAmount: fc.integer({ min: 0, max: 40 }),
  reputation: fc.integer({ min: 0, max: 2 }),
  offset: fc.integer({ min: 0, max: 4 }),
  variant: fc.nat(3),
});
const auctionArb = fc.record({
  bidders: fc.array(bidderArb, { maxLength: 10 }),
  reserve: fc.option(fc.integer({ min: 0, max: 45 }), { nil: undefined }),
  seeds: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
});
type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;
type BidderSpec = ValueOf<typeof bidderArb>;

interface Scenario {
  terms: AuctionTerms;
  bids: SealedBid[];
  openings: BidOpening[];
  reputation: (p: string) => number;
  /** Valid amount per bidder expected in `ranked`. */
  valid: Map<string, number>;
  /** Expected invalid entries as `bidder eventId reason`. */
  invalid: string[];
}

function buildBidder(s: BidderSpec, i: number, reserve: number | undefined, out: Scenario): void {
  const me = key(`bidder ${i}`);
  const other = key(`bidder ${i + 1}`);
  const ev = (n: number): string => sha(`event ${i} ${n}`);
  const at = DEADLINE - s.offset;
  let amount = reserve === undefined ? s.amount : s.amount % (reserve + 1);
  let defect: Defect = s.defect;
  if (defect === 'above-reserve') {
    if (reserve === undefined) defect = 'valid';
    else amount = reserve + 1 + s.amount;
  }
  const add = (x: Sealed, opened = true): void => {
    out.bids.push(x.bid);
    if (opened) out.openings.push(x.opening);
  };
  const expect = (id: string, reason: InvalidReason): void => {
    out.invalid.push(`${me} ${id} ${reason}`);
  };
  if (defect !== 'not-eligible') out.terms = { ...out.terms, eligible: [...out.terms.eligible, me] };
  const main = seal(me, amount, { at, id: ev(0) });
  switch (defect) {
    case 'valid':
    case 'above-reserve':
      add(main);
      if (defect === 'valid') out.valid.set(me, amount);
      else expect(ev(0), 'above-reserve');
      return;
    case 'not-eligible':
      add(seal(me, s.badAmount, { at: s.variant === 0 ? DEADLINE + 1 : at, id: ev(0) }));
      expect(ev(0), 'not-eligible');
      return;
    case 'late':
      add(seal(me, s.badAmount, { at: DEADLINE + 1 + s.offset, id: ev(0) }), s.variant !== 0);
      expect(ev(0), 'late');
      return;
    case 'duplicate': {
      // The counted commitment is the earliest (at the same second: the lower event id); a later one,
      // bidding lower, is the duplicate.
      const [first, later] = [`0${ev(0).slice(1)}`, `f${ev(1).slice(1)}`];
      add(seal(me, amount, { at: at - 10, id: first }), s.variant !== 0);
      add(seal(me, Math.min(amount, s.badAmount), { at: at - 10 + s.offset, id: later }));
      if (s.variant === 0) expect(first, 'no-opening');
      else out.valid.set(me, amount);
      expect(later, 'duplicate');
      return;
    }
    case 'no-opening': {
      const x = seal(me, s.badAmount, { at, id: ev(0) });
      out.bids.push(x.bid);
      if (s.variant === 1) out.openings.push({ ...x.opening, commitmentEventId: ev(5) });
      if (s.variant === 2) out.openings.push({ ...x.opening, bidder: other });
      expect(ev(0), 'no-opening');
      return;
    }
    case 'malformed': {
      const x = seal(me, s.badAmount, { at, id: ev(0) });
      const patches = [
        { amountMsats: -1 - s.badAmount },
        { amountMsats: 0.5 },
        { nonce: 'ab' },
        { nonce: sha('').toUpperCase() },
      ];
      out.bids.push(x.bid);
      out.openings.push({ ...x.opening, ...patches[s.variant] });
      expect(ev(0), 'malformed');
      return;
    }
    case 'mismatch': {
      const variants = [
        seal(me, s.badAmount, { at, id: ev(0), commitFor: { amountMsats: s.badAmount + 1 } }),
        seal(me, s.badAmount, { at, id: ev(0), jobId: OTHER_JOB }),
        seal(me, s.badAmount, { at, id: ev(0), commitFor: { bidder: other } }),
      ];
      add(variants[s.variant % 3]!);
      expect(ev(0), 'mismatch');
      return;
    }
  }
}

function build(a: ValueOf<typeof auctionArb>): Scenario {
  const reps = new Map<string, number>();
  const out: Scenario = {
    terms: {
      jobId: JOB,
      kind: 5050,
      deadline: DEADLINE,
      eligible: [],
      ...(a.reserve === undefined ? {} : { reserveMsats: a.reserve }),
    },
    bids: [],
    openings: [],
    reputation: (p) => reps.get(p) ?? 0,
    valid: new Map(),
    invalid: [],
  };
  a.bidders.forEach((s, i) => {
    reps.set(key(`bidder ${i}`), s.reputation);
    buildBidder(s, i, a.reserve, out);
  });
  return out;
}

function shuffled<T>(xs: readonly T[], seeds: readonly number[]): T[] {
  const r = [...xs];
  for (let i = r.length - 1; i > 0; i--) {
    const j = (seeds[i % seeds.length] ?? 0) % (i + 1);
    [r[i], r[j]] = [r[j]!, r[i]!];
  }
  return r;
}

/** Independent statement of the ranking order: strictly better on the first key that differs. */
function ranksBefore(a: RankedBid, b: RankedBid): boolean {
  if (a.amountMsats !== b.amountMsats) return a.amountMsats < b.amountMsats;
  if (a.reputation !== b.reputation) return a.reputation > b.reputation;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt;
  return a.bidder < b.bidder;
}

describe('settleVickrey: properties over random auctions', () => {
  const seen = new Set<string>();
  test('valid and invalid sets, winner, price, ranking order, order independence', () => {
    fc.assert(
      fc.property(auctionArb, (a) => {
        const sc = build(a);
        const v = settleVickrey(sc.terms, sc.bids, sc.openings, sc.reputation);
        for (const i of v.invalid) seen.add(i.reason);
        // Exactly the honest bids are valid, each at its amount; every defect is reported with its reason.
        assert.deepEqual(new Map(v.ranked.map((r) => [r.bidder, r.amountMsats])), sc.valid);
        assert.deepEqual(
          v.invalid.map((i) => `${i.bidder} ${i.commitmentEventId} ${i.reason}`).sort(),
          [...sc.invalid].sort(),
        );
        for (const i of v.invalid) assert.ok(i.detail.length > 0, 'every invalid bid has a detail');
        // Ranking: best first by amount, reputation, time, pubkey.
        for (let k = 1; k < v.ranked.length; k++)
          assert.ok(ranksBefore(v.ranked[k - 1]!, v.ranked[k]!), `ranked[${k - 1}] before ranked[${k}]`);
        const amounts = [...sc.valid.values()].sort((x, y) => x - y);
        if (amounts.length === 0) {
          assert.equal(v.winner, undefined);
          assert.equal(v.priceMsats, undefined);
        } else {
          // The winner is the lowest valid bid, never an invalid one.
          assert.equal(v.winner, v.ranked[0]);
          assert.equal(v.winner!.amountMsats, amounts[0]);
          assert.ok(sc.valid.has(v.winner!.bidder), 'the winner is a valid bid');
          const expected = amounts.length > 1 ? amounts[1] : (sc.terms.reserveMsats ?? amounts[0]);
          assert.equal(v.priceMsats, expected);
          assert.ok(v.priceMsats! >= v.winner!.amountMsats, 'price >= winning bid');
          if (sc.terms.reserveMsats !== undefined)
            assert.ok(v.priceMsats! <= sc.terms.reserveMsats, 'price <= reserve');
        }
        // The input order of bids and openings does not matter (winner, price, ranked, invalid, details).
        const again = settleVickrey(
          sc.terms,
          shuffled(sc.bids, a.seeds),
          shuffled(sc.openings, a.seeds.slice().reverse()),
          sc.reputation,
        );
        assert.deepEqual(again, v);
        assert.deepEqual(
          settleVickrey(sc.terms, [...sc.bids].reverse(), [...sc.openings].reverse(), sc.reputation),
          v,
        );
        // First price: same validation and ranking, the winner paid its own bid.
        const f = settleFirstPrice(sc.terms, shuffled(sc.bids, a.seeds), sc.openings, sc.reputation);
        assert.equal(f.mechanism, 'first-price');
        assert.deepEqual([f.winner, f.ranked, f.invalid], [v.winner, v.ranked, v.invalid]);
        assert.equal(f.priceMsats, f.winner?.amountMsats);
      }),
      { numRuns: 1000 },
    );
    assert.deepEqual(
      [...seen].sort(),
      DEFECTS.filter((d) => d !== 'valid').sort(),
      'every invalid reason occurred',
    );
  });
});
