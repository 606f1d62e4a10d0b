import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { commitBid } from './commitment.ts';
import {
  type AuctionTerms,
  type BidOpening,
  type SealedBid,
  settleFirstPrice,
  settleVickrey,
} from './settle.ts';
import { estimateCost, truthfulBid } from './strategy.ts';

/**
 * Simulation of the bidders' incentives: over random cost profiles, no misreport ever beats bidding the
 * true cost under settleVickrey (dominant strategy, ties resolved by settleVickrey's own tie-break), and
 * under settleFirstPrice shading up is profitable (truthful bidding is not an equilibrium there).
 */

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const JOB = sha('simulated job');
const DEADLINE = 1_700_000_000;

interface Agent {
  pubkey: string;
  cost: number;
  reputation: number;
  createdAt: number;
}
interface Profile {
  agents: Agent[];
  reserve: number | undefined;
}
type Settle = typeof settleVickrey;

const NONCES = Array.from({ length: 12 }, (_, k) => sha(`nonce ${k}`));
const EVENT_IDS = Array.from({ length: 12 }, (_, k) => sha(`event ${k}`));
/** Commitments by `pubkey amount`: the simulation settles the same bids many times. */
const commitments = new Map<string, string>();
function committed(bidder: string, amountMsats: number, nonce: string): string {
  const key = `${bidder} ${amountMsats}`;
  let c = commitments.get(key);
  if (c === undefined) {
    c = commitBid({ jobId: JOB, bidder, amountMsats, nonce });
    commitments.set(key, c);
  }
  return c;
}

/** The utility of agent `i` when the agents bid `bids` (by index): price − cost if it wins, else 0. */
function utility(settle: Settle, p: Profile, bids: readonly number[], i: number): number {
  const sealed: SealedBid[] = [];
  const openings: BidOpening[] = [];
  p.agents.forEach((a, k) => {
    const amountMsats = bids[k]!;
    const [nonce, commitmentEventId] = [NONCES[k]!, EVENT_IDS[k]!];
    const commitment = committed(a.pubkey, amountMsats, nonce);
    sealed.push({ bidder: a.pubkey, commitment, commitmentEventId, createdAt: a.createdAt });
    openings.push({ bidder: a.pubkey, commitmentEventId, amountMsats, nonce });
  });
  const terms: AuctionTerms = {
    jobId: JOB,
    kind: 5050,
    deadline: DEADLINE,
    eligible: p.agents.map((a) => a.pubkey),
    ...(p.reserve === undefined ? {} : { reserveMsats: p.reserve }),
  };
  const reps = new Map(p.agents.map((a) => [a.pubkey, a.reputation]));
  const s = settle(terms, sealed, openings, (k) => reps.get(k) ?? 0);
  const me = p.agents[i]!;
  return s.winner?.bidder === me.pubkey ? s.priceMsats! - me.cost : 0;
}

const FACTORS = [0, 0.25, 0.5, 0.8, 0.9, 0.95, 0.99, 1.01, 1.05, 1.1, 1.25, 1.5, 2, 4];

/** Misreports for agent i: shading by factors, ±1/±2 msats, just below/at/above every other bid and the reserve. */
function deviations(p: Profile, truthful: readonly number[], i: number, extra: readonly number[]): number[] {
  const c = truthful[i]!;
  const out = new Set<number>([0, c - 2, c - 1, c + 1, c + 2, ...extra]);
  for (const f of FACTORS) out.add(Math.round(c * f));
  truthful.forEach((b, k) => {
    if (k !== i) for (const d of [b - 1, b, b + 1]) out.add(d);
  });
  if (p.reserve !== undefined) for (const d of [p.reserve - 1, p.reserve, p.reserve + 1]) out.add(d);
  out.delete(c);
  return [...out].filter((b) => Number.isSafeInteger(b) && b >= 0);
}

const costArb = fc.oneof(
  // Small integer costs: many exact ties between bidders.
  fc.integer({ min: 0, max: 30 }),
  // Costs from the agents' cost model.
  fc
    .record({
      model: fc.record({
        baseMsats: fc.integer({ min: 0, max: 5000 }),
        perTokenMsats: fc.double({ min: 0, max: 5, noNaN: true }),
        perSecondMsats: fc.integer({ min: 0, max: 200 }),
        loadSurchargePct: fc.integer({ min: 0, max: 50 }),
      }),
      job: fc.record({
        expectedTokens: fc.integer({ min: 0, max: 4000 }),
        expectedSeconds: fc.double({ min: 0, max: 60, noNaN: true }),
        load: fc.integer({ min: 0, max: 5 }),
      }),
    })
    .map(({ model, job }) => estimateCost(model, job)),
);
const profileArb = fc
  .record({
    agents: fc.array(
      fc.record({
        cost: costArb,
        reputation: fc.integer({ min: 0, max: 2 }),
        createdAt: fc.integer({ min: DEADLINE - 3, max: DEADLINE }),
      }),
      { minLength: 2, maxLength: 12 },
    ),
    reserve: fc.option(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40_000 })), {
      nil: undefined,
    }),
    extra: fc.array(fc.integer({ min: 0, max: 50_000 }), { maxLength: 3 }),
  })
  .map(({ agents, reserve, extra }): Profile & { extra: number[] } => ({
    agents: agents.map((a, k) => ({ ...a, pubkey: sha(`agent ${k}`) })),
    reserve,
    extra,
  }));

describe('Vickrey: truthful bidding is a dominant strategy', () => {
  test('no misreport of any bidder beats bidding its true cost; truthful utility is never negative', () => {
    let wins = 0;
    let ties = 0;
    fc.assert(
      fc.property(profileArb, (p) => {
        const truthful = p.agents.map((a) => truthfulBid(a.cost));
        if (new Set(truthful).size < truthful.length) ties++;
        p.agents.forEach((_, i) => {
          const honest = utility(settleVickrey, p, truthful, i);
          assert.ok(honest >= 0, 'individually rational');
          if (honest > 0) wins++;
          for (const b of deviations(p, truthful, i, p.extra)) {
            const bids = truthful.map((t, k) => (k === i ? b : t));
            const u = utility(settleVickrey, p, bids, i);
            assert.ok(
              u <= honest,
              `bidder ${i} (cost ${truthful[i]}) gains ${u} > ${honest} by bidding ${b}`,
            );
          }
        });
      }),
      { numRuns: 250 },
    );
    assert.ok(wins > 50, `profitable truthful wins occurred (${wins})`);
    assert.ok(ties > 20, `profiles with tied costs occurred (${ties})`);
  });
});

describe('first-price: truthful bidding is not an equilibrium', () => {
  test('a worked example: shading up from 100 to 199 against a cost of 200 earns 99 instead of 0', () => {
    const p: Profile = {
      agents: [
        { pubkey: sha('low'), cost: 100, reputation: 0, createdAt: DEADLINE },
        { pubkey: sha('high'), cost: 200, reputation: 0, createdAt: DEADLINE },
      ],
      reserve: undefined,
    };
    assert.equal(utility(settleFirstPrice, p, [100, 200], 0), 0);
    assert.equal(utility(settleFirstPrice, p, [199, 200], 0), 99);
    // Under Vickrey the same bidder is paid the second bid, 200, whatever it bids below it: 100 either way.
    assert.equal(utility(settleVickrey, p, [100, 200], 0), 100);
    assert.equal(utility(settleVickrey, p, [199, 200], 0), 100);
  });

  test('whenever the two lowest costs differ by 2 msats or more, the search finds a profitable shading', () => {
    let found = 0;
    fc.assert(
      fc.property(profileArb, (p) => {
        const truthful = p.agents.map((a) => truthfulBid(a.cost));
        // Truthful first-price bidding never earns anything: the winner is paid its own cost.
        for (let i = 0; i < p.agents.length; i++) assert.equal(utility(settleFirstPrice, p, truthful, i), 0);
        const order = truthful.map((c, i) => [c, i] as const).sort((x, y) => x[0] - y[0]);
        const [[c1, low], [c2]] = [order[0]!, order[1]!];
        if (c2 - c1 < 2 || (p.reserve !== undefined && p.reserve <= c1)) return;
        const gains = deviations(p, truthful, low, p.extra).map((b) =>
          utility(
            settleFirstPrice,
            p,
            truthful.map((t, k) => (k === low ? b : t)),
            low,
          ),
        );
        assert.ok(Math.max(...gains) > 0, `no profitable shading for costs ${truthful.join(',')}`);
        found++;
      }),
      { numRuns: 250 },
    );
    assert.ok(found > 50, `profiles with a profitable first-price shading (${found})`);
  });
});
