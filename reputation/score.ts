/**
 * The scoring function, versioned (SCORE_VERSION) and documented in docs/reputation.md: the score of an npub,
 * overall or for one job kind, from the point of view of an observer (its seed keys), at a given time.
 *
 *   score = 100 · (priorWeight · priorMean/100 + E⁺) / (priorWeight + E⁺ + E⁻)
 *
 * where E⁺ and E⁻ sum, over the raters of the agent, voice × (the rater's positive, negative labels about it:
 * weights.ts, saturated per rater). voice = 1 for a seed; trust × share for a rater the seeds' trust reaches;
 * strangerTrust × share for any other (strangers' positive labels together count at most strangersCap, their
 * negative ones not at all, nor those of raters below minStanding). Every score carries its explanation.
 * `scoreSubject` is the function; `computeReputation` builds everything from events, purely.
 */
import type { NostrEvent } from '../core/nostr.ts';
import { explainScore, type RaterInfo, type ScoreExplanation } from './explain.ts';
import { emptyChange, LabelIndex, type LabelSource } from './label-index.ts';
import { LABEL_KIND, parseLabel } from './labels.ts';
import { SCORE_VERSION, type ScoreOptions, scoreOptions } from './options.ts';
import { RaterGraph, type TrustView } from './rater-graph.ts';
import { DELETION_KIND, parseRevocation } from './revocation.ts';

export type { CountedLabel, ScoreExplanation } from './explain.ts';
export { DEFAULT_SCORE_OPTIONS, SCORE_VERSION, type ScoreOptions, scoreOptions } from './options.ts';

export interface ReputationScore {
  subject: string;
  /** The job kind, or undefined for the overall score. */
  jobKind: number | undefined;
  /** 0-100, two decimals. */
  score: number;
  /** The score rounded to an integer (NIP-85 `rank`). */
  rank: number;
  /** Labels that count (before the prior). */
  labels: number;
  explanation: ScoreExplanation;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * The score of `subject` for `jobKind` (undefined: overall) at `now` (unix seconds). Its explanation is
 * built when first read (`explain: 'lazy'`: the labels and the trust must not change meanwhile), or at once.
 */
export function scoreSubject(
  subject: string,
  jobKind: number | undefined,
  labels: LabelSource,
  trust: TrustView,
  now: number,
  options: ScoreOptions,
  explain: 'lazy' | 'now' = 'lazy',
): ReputationScore {
  let positive = 0;
  let negative = 0;
  let strangersPositive = 0;
  let strangerRaters = 0;
  let counted = 0;
  const infos = new Map<string, RaterInfo>();
  for (const rater of [...labels.ratersOf(subject)].sort()) {
    const pair = labels.pairWeight(rater, subject, jobKind, now);
    if (pair.positives + pair.negatives === 0) continue;
    const seed = trust.isSeed(rater);
    const t = trust.trust(rater);
    const stranger = !seed && t < options.strangerTrust;
    const share = seed ? 1 : trust.share(rater, subject);
    const voice = seed ? 1 : (stranger ? options.strangerTrust : t) * share;
    const standing = seed || t >= options.minStanding;
    if (stranger) strangerRaters++;
    infos.set(rater, { seed, stranger, standing, trust: t, share, voice });
    const pos = pair.positive * pair.factor * voice;
    if (stranger) strangersPositive += pos;
    else positive += pos;
    counted += pair.positives;
    if (standing) {
      negative += pair.negative * pair.factor * voice;
      counted += pair.negatives;
    }
  }
  const capped = strangersPositive > options.strangersCap;
  const scale = capped ? options.strangersCap / strangersPositive : 1;
  positive += strangersPositive * scale;

  const prior = options.priorWeight * (options.priorMean / 100);
  const value = (100 * (prior + positive)) / (options.priorWeight + positive + negative);
  const score = r2(Math.min(100, Math.max(0, value)));
  const build = (): ScoreExplanation =>
    explainScore({
      subject,
      jobKind,
      labels,
      raters: infos,
      now,
      options,
      positive,
      negative,
      score,
      strangers: {
        raters: strangerRaters,
        evidence: Math.min(strangersPositive, options.strangersCap),
        scale,
      },
    });
  let explanation = explain === 'now' ? build() : undefined;
  return {
    subject,
    jobKind,
    score,
    rank: Math.round(score),
    labels: counted,
    // Built on first read: a full recompute needs the numbers, a lookup the explanation of one agent.
    get explanation(): ScoreExplanation {
      explanation ??= build();
      return explanation;
    },
  };
}

/** Everything computed from a set of events: the index, the trust, and scores on demand. */
export interface Reputation {
  version: string;
  at: number;
  index: LabelIndex;
  trust: RaterGraph;
  /** The score of `subject` overall, or for one job kind. */
  score(subject: string, jobKind?: number): ReputationScore;
  /** The job kinds `subject` has labels for. */
  kindsOf(subject: string): number[];
}

/**
 * The pure scoring function: from label (1985) and deletion (5) events, the observer's seeds and `now`
 * (unix seconds), everything needed to score any npub. The same events, in any order, give the same scores.
 * Signatures are not checked here: give verified events (a relay that verifies, or identity/verify-event.ts).
 */
export function computeReputation(
  events: readonly NostrEvent[],
  seeds: readonly string[],
  now: number,
  partial: Partial<ScoreOptions> = {},
): Reputation {
  const options = scoreOptions(partial);
  const index = new LabelIndex(options);
  const change = emptyChange();
  const sorted = [...events].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const e of sorted) {
    if (e.kind !== DELETION_KIND) continue;
    const revocation = parseRevocation(e);
    if (revocation) index.revoke(revocation, change);
  }
  for (const e of sorted) {
    if (e.kind !== LABEL_KIND) continue;
    const parsed = parseLabel(e);
    if (parsed.ok) index.addLabel(parsed.label, change);
    else index.reject(parsed.rejection);
  }
  const graph = buildGraph(index, seeds, now, options);
  return {
    version: SCORE_VERSION,
    at: now,
    index,
    trust: graph,
    score: (subject, jobKind) => scoreSubject(subject, jobKind, index, graph, now, options),
    kindsOf: (subject) => kindsOf(index, subject),
  };
}

/** The rater graph of an index, every pair computed at `now`, ranked from the seeds. */
export function buildGraph(
  index: LabelIndex,
  seeds: readonly string[],
  now: number,
  options: ScoreOptions,
): RaterGraph {
  const graph = new RaterGraph(seeds, options);
  // Sorted, so that the same labels give the same node order and the same sums, bit for bit.
  const pairs = [...index.pairs()].sort((a, b) =>
    a.rater < b.rater
      ? -1
      : a.rater > b.rater
        ? 1
        : a.subject < b.subject
          ? -1
          : a.subject > b.subject
            ? 1
            : 0,
  );
  for (const pair of pairs) graph.updatePair(pair.rater, pair.subject, index.weigh(pair, undefined, now));
  graph.solve(false);
  return graph;
}

export function kindsOf(index: LabelSource, subject: string): number[] {
  const kinds = new Set<number>();
  for (const list of index.pairsOf(subject).values())
    for (const l of list) if (l.jobKind !== undefined) kinds.add(l.jobKind);
  return [...kinds].sort((a, b) => a - b);
}
