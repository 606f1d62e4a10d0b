import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prng } from '../../bench/events.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { LocalSigner } from '../../identity/signer.ts';
import { ReputationBook } from '../../reputation/book.ts';
import type { LabelType } from '../../reputation/labels.ts';
import { computeReputation } from '../../reputation/score.ts';
import { DAY, idFor, signerFor, signLabel, T0 } from './keys.ts';

/**
 * A simulated network of 1,000 agents, 30 % of them sybils, built from a seeded generator (the same network
 * in every run). Honest agents work for each other and rate what they got (mostly good, sometimes not); the
 * observer's three seed keys rate the agents they hired. The sybils attack three ways at once:
 * - a ring: 280 keys, each rating the next ten with three glowing labels apiece;
 * - a bridge: one honest-looking key that 15 honest agents rate well (it did good work for them), and that
 *   pours its trust into 20 ring members;
 * - a flood: one key (rated by the bridge and the ring) that writes 6,000 labels: glowing ones about 100
 *   sybils, and disputes against the 40 honest agents the seeds rate best.
 * The rest of the sybils form a clique rating each other.
 */

const AGENTS = 1000;
const HONEST = 700;
const RING_END = 980; // ring: 700..979
const BRIDGE = 980;
const FLOOD = 981; // the clique: 982..999
const KINDS = [5000, 5001, 5002, 5050];

interface Plan {
  rater: number;
  subject: number;
  type: LabelType;
  kind: number;
  quality?: number;
  age: number;
}

function plan(rand: () => number): Plan[] {
  const pick = (n: number, from: number, to: number, not: number): number[] => {
    const out = new Set<number>();
    while (out.size < n) {
      const x = from + Math.floor(rand() * (to - from));
      if (x !== not) out.add(x);
    }
    return [...out];
  };
  const out: Plan[] = [];
  const skill = Array.from({ length: HONEST }, () => 0.55 + 0.45 * rand());
  const honestLabel = (rater: number, subject: number): Plan => {
    const good = rand() < (skill[subject] ?? 0.5);
    const age = Math.floor(rand() * 180) * DAY;
    const kind = KINDS[subject % KINDS.length] as number;
    if (!good) return { rater, subject, type: 'warning', kind, age };
    return rand() < 0.5
      ? { rater, subject, type: 'service-quality', kind, quality: 0.5 + rand() / 2, age }
      : { rater, subject, type: 'work-completed', kind, age };
  };
  // Seeds 0..2 hire 40 honest agents each, one to five jobs apiece.
  for (let seed = 0; seed < 3; seed++) {
    for (const s of pick(40, 3, HONEST, seed)) {
      const jobs = 1 + Math.floor(rand() * 5);
      for (let j = 0; j < jobs; j++) out.push(honestLabel(seed, s));
    }
  }
  // Every honest agent hires eight others, one to three jobs each; 15 of them also hired the bridge.
  for (let h = 0; h < HONEST; h++) {
    for (const s of pick(8, 0, HONEST, h)) {
      const jobs = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < jobs; j++) out.push(honestLabel(h, s));
    }
  }
  for (const h of pick(15, 3, HONEST, -1)) {
    out.push({ rater: h, subject: BRIDGE, type: 'service-quality', kind: 5001, quality: 1, age: 5 * DAY });
  }
  const glowing = (rater: number, subject: number): Plan => ({
    rater,
    subject,
    type: 'service-quality',
    kind: 5001,
    quality: 1,
    age: 0,
  });
  // The ring: each member rates the next ten, three labels each.
  for (let s = HONEST; s < RING_END; s++) {
    for (let k = 1; k <= 10; k++) {
      const target = HONEST + ((s - HONEST + k) % (RING_END - HONEST));
      for (let j = 0; j < 3; j++) out.push(glowing(s, target));
    }
  }
  // The bridge pours into 20 ring members and the flood key; the ring rates the flood key too.
  for (const s of pick(20, HONEST, RING_END, -1)) for (let j = 0; j < 5; j++) out.push(glowing(BRIDGE, s));
  out.push(glowing(BRIDGE, FLOOD));
  for (let s = HONEST; s < HONEST + 50; s++) out.push(glowing(s, FLOOD));
  // The clique.
  for (let a = FLOOD + 1; a < AGENTS; a++) {
    for (let b = FLOOD + 1; b < AGENTS; b++) if (a !== b) out.push(glowing(a, b), glowing(a, b));
  }
  return out;
}

async function network(): Promise<{ signers: LocalSigner[]; events: NostrEvent[]; topHonest: number[] }> {
  const rand = prng(20261213);
  const signers = Array.from({ length: AGENTS }, (_, i) => signerFor(`sybil-sim-${i}`));
  const plans = plan(rand);
  // The flood: disputes against the honest agents the seeds rated most, glowing labels about 100 sybils.
  const seedCount = new Map<number, number>();
  for (const p of plans) if (p.rater < 3) seedCount.set(p.subject, (seedCount.get(p.subject) ?? 0) + 1);
  const topHonest = [...seedCount.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, 40)
    .map(([s]) => s);
  for (let j = 0; j < 50; j++) {
    for (const s of topHonest) plans.push({ rater: FLOOD, subject: s, type: 'dispute', kind: 5001, age: 0 });
    for (let s = HONEST; s < HONEST + 100; s++) plans.push(glowing(FLOOD, s));
  }
  const events: NostrEvent[] = [];
  let n = 0;
  for (const p of plans) {
    events.push(
      await signLabel(signers[p.rater] as LocalSigner, {
        subject: (signers[p.subject] as LocalSigner).pubkey,
        type: p.type,
        jobKind: p.kind,
        request: idFor(`sim-job-${n++}`),
        ...(p.quality !== undefined ? { quality: p.quality } : {}),
        createdAt: T0 - p.age,
      }),
    );
  }
  return { signers, events, topHonest };

  function glowing(rater: number, subject: number): Plan {
    return { rater, subject, type: 'service-quality', kind: 5001, quality: 1, age: 0 };
  }
}

test('1,000 agents, 30 % sybils (ring, bridge, flood): sybils hold < 5 % of trust, 18+ of the top 20 are honest', async (t) => {
  const { signers, events, topHonest } = await network();
  assert.ok(events.length > 20_000, `${events.length} labels`);
  const seeds = [0, 1, 2].map((i) => (signers[i] as LocalSigner).pubkey);
  const rep = computeReputation(events, seeds, T0);
  const ranks = rep.trust.ranks();
  let sybilTrust = 0;
  let total = 0;
  signers.forEach((s, i) => {
    const r = ranks.get(s.pubkey) ?? 0;
    total += r;
    if (i >= HONEST) sybilTrust += r;
  });
  assert.ok(Math.abs(total - 1) < 1e-9, `ranks sum to ${total}`);
  assert.ok(sybilTrust < 0.05, `sybils hold ${(sybilTrust * 100).toFixed(2)} % of the trust`);

  const scored = signers
    .map((s, i) => ({ i, score: rep.score(s.pubkey).score }))
    .sort((a, b) => b.score - a.score || a.i - b.i);
  const top = scored.slice(0, 20);
  const honestInTop = top.filter((x) => x.i < HONEST).length;
  assert.ok(honestInTop >= 18, `top 20: ${top.map((x) => `${x.i}:${x.score}`).join(' ')}`);

  // The flood key's 2,000 disputes against the seeds' favourite agents barely move them: its voice is split
  // among the 140 agents it rates and saturates per agent (and it has standing only through the bridge).
  const flood = (signers[FLOOD] as LocalSigner).pubkey;
  const withoutFlood = computeReputation(
    events.filter((e) => e.pubkey !== flood),
    seeds,
    T0,
  );
  for (const victim of topHonest.slice(0, 10)) {
    const pubkey = (signers[victim] as LocalSigner).pubkey;
    const hit = withoutFlood.score(pubkey).score - rep.score(pubkey).score;
    assert.ok(hit < 0.5, `agent ${victim} lost ${hit} points to the flood`);
  }

  // The book, fed the same events in arrival order, ranks the same top 20.
  const book = new ReputationBook({
    seeds,
    clock: { now: () => T0 * 1000 },
    verify: null,
    scoreStepSeconds: 1,
  });
  book.addAll(events);
  const bookTop = signers
    .map((s, i) => ({ i, score: book.score(s.pubkey).score }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, 20)
    .map((x) => x.i);
  assert.deepEqual(
    bookTop,
    top.map((x) => x.i),
  );
  t.diagnostic(
    `sybil trust ${(sybilTrust * 100).toFixed(3)} %, honest in top 20: ${honestInTop}, top score ${top[0]?.score}, best sybil ${scored.find((x) => x.i >= HONEST)?.score} (rank ${scored.findIndex((x) => x.i >= HONEST) + 1})`,
  );
});
