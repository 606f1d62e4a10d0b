/**
 * The explanation of a score: every label that counts (who, which type, how much, and why: decay, payment,
 * the rater's trust and share of voice, saturation, the strangers' cap) and every label set aside with its
 * reason (rejected, self-label, revoked, superseded, dated in the future, a complaint without standing, flood
 * overflow). Built from the labels only when read (score.ts makes it lazily); `formatExplanation` renders it
 * as text, for `timmy rep`.
 */
import type { LabelSource } from './label-index.ts';
import { SCORE_VERSION, type ScoreOptions } from './options.ts';
import {
  type IgnoredLabel,
  labelNotes,
  type PairSink,
  type WeighContext,
  type WeighedLabel,
  weighPair,
} from './weights.ts';

export interface CountedLabel {
  id: string;
  rater: string;
  type: string;
  jobKind?: number;
  createdAt: number;
  /** What the label adds to E⁺ (positive) or E⁻ (negative, shown below 0). */
  weight: number;
  raterTrust: number;
  /** The rater's voice about this agent: 1 for a seed, else its trust (or strangerTrust) × its share. */
  voice: number;
  typeWeight: number;
  payment: number;
  decay: number;
  /** The rater's saturation factor for this agent (1: no flood). */
  pair: number;
  notes: string[];
}

export interface ScoreExplanation {
  version: string;
  /** Unix seconds the score is computed at. */
  at: number;
  prior: { mean: number; weight: number };
  /** E⁺ and E⁻. */
  positive: number;
  negative: number;
  /** The formula with its numbers. */
  formula: string;
  /** The labels that count, the heaviest first (at most explainLimit). */
  counted: CountedLabel[];
  countedTotal: number;
  /** The labels set aside, with the reason (at most explainLimit). */
  ignored: IgnoredLabel[];
  ignoredTotal: number;
  ignoredByReason: Record<string, number>;
  strangers: { raters: number; evidence: number; capped: boolean };
  options: ScoreOptions;
}

/** What the scoring decided about one rater of the agent. */
export interface RaterInfo {
  seed: boolean;
  stranger: boolean;
  /** Its negative labels count. */
  standing: boolean;
  trust: number;
  share: number;
  voice: number;
}

export interface ExplainInput {
  subject: string;
  jobKind: number | undefined;
  labels: LabelSource;
  /** The raters with labels that count, and what the scoring decided about each. */
  raters: ReadonlyMap<string, RaterInfo>;
  now: number;
  options: ScoreOptions;
  positive: number;
  negative: number;
  score: number;
  /** The strangers' evidence after the cap, and the factor the cap applied. */
  strangers: { raters: number; evidence: number; scale: number };
}

interface Entry {
  w: WeighedLabel;
  rater: RaterInfo & { factor: number; labels: number };
  /** Signed: what it adds to E⁺ or takes as E⁻. */
  weight: number;
}

export const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

function describe(e: Entry, now: number, options: ScoreOptions, strangersScale: number): CountedLabel {
  const { w, rater: r } = e;
  const l = w.label;
  const notes = labelNotes(w, now);
  if (r.seed) notes.push('rater is a seed of this observer');
  else if (r.stranger) {
    notes.push(`rater is a stranger (trust ${r6(r.trust)}): counts as ${options.strangerTrust}`);
    if (strangersScale < 1 && e.weight > 0) {
      notes.push(
        `strangers' labels about this agent together capped at ${options.strangersCap}: ×${r6(strangersScale)}`,
      );
    }
  } else notes.push(`rater trust ${r6(r.trust)}`);
  if (!r.seed) notes.push(`${r6(r.share * 100)} % of the rater's voice is about this agent`);
  if (r.factor < 0.999) {
    notes.push(
      `one rater's labels about an agent count at most ${options.pairCap} together (this one has ${r.labels}): ×${r6(r.factor)}`,
    );
  }
  return {
    id: l.id,
    rater: l.rater,
    type: l.type,
    ...(l.jobKind !== undefined ? { jobKind: l.jobKind } : {}),
    createdAt: l.createdAt,
    weight: r6(e.weight),
    raterTrust: r6(r.trust),
    voice: r6(r.voice),
    typeWeight: w.typeWeight,
    payment: r6(w.payment),
    decay: r6(w.decay),
    pair: r6(r.factor),
    notes,
  };
}

/** Rejected and revoked labels about the subject (revoked ones only for their kind, when they have one). */
function addNotes(ignored: IgnoredLabel[], input: ExplainInput): void {
  const notes = input.labels.notesOf(input.subject);
  if (!notes) return;
  for (const r of notes.rejected) {
    ignored.push({
      id: r.id,
      rater: r.rater,
      reason: r.code === 'self-label' ? 'self-label' : 'rejected',
      detail: `${r.code}: ${r.reason}`,
    });
  }
  for (const { label, deletion } of notes.revoked) {
    if (input.jobKind !== undefined && label.jobKind !== input.jobKind) continue;
    ignored.push({
      id: label.id,
      rater: label.rater,
      type: label.type,
      ...(label.jobKind !== undefined ? { jobKind: label.jobKind } : {}),
      reason: 'revoked',
      detail: `revoked by its author (deletion ${deletion})`,
    });
  }
}

/** Reads the agent's labels again, one by one, the same way the score counted them, and says why. */
export function explainScore(input: ExplainInput): ScoreExplanation {
  const { subject, jobKind, labels, now, options } = input;
  const ctx: WeighContext = {
    now,
    options,
    claimedBy: (l) => labels.claimedBy(l),
    supersededBy: (l) => labels.supersededBy(l),
  };
  const entries: Entry[] = [];
  const ignored: IgnoredLabel[] = [];
  const pairs = labels.pairsOf(subject);
  for (const rater of [...pairs.keys()].sort()) {
    const sink: PairSink = { counted: [], ignored };
    const pair = weighPair(pairs.get(rater) ?? [], jobKind, ctx, sink);
    const info = input.raters.get(rater);
    if (!info) continue;
    const r = { ...info, factor: pair.factor, labels: sink.counted.length };
    for (const w of sink.counted) {
      if (w.sign < 0 && !info.standing) {
        ignored.push({
          id: w.label.id,
          rater,
          type: w.label.type,
          ...(w.label.jobKind !== undefined ? { jobKind: w.label.jobKind } : {}),
          reason: 'no-standing',
          detail: `a negative label counts only from a rater with standing (trust ≥ ${options.minStanding}); this one has ${r6(info.trust)}`,
        });
        continue;
      }
      const capped = info.stranger && w.sign > 0 ? input.strangers.scale : 1;
      entries.push({ w, rater: r, weight: w.sign * w.magnitude * pair.factor * info.voice * capped });
    }
  }
  entries.sort((x, y) => Math.abs(y.weight) - Math.abs(x.weight) || (x.w.label.id < y.w.label.id ? -1 : 1));
  addNotes(ignored, input);
  const ignoredByReason: Record<string, number> = {};
  for (const i of ignored) ignoredByReason[i.reason] = (ignoredByReason[i.reason] ?? 0) + 1;
  const overflow = labels.notesOf(subject)?.overflow;
  if (overflow && overflow.size > 0) {
    let total = 0;
    for (const c of overflow.values()) total += c;
    ignoredByReason['flood-overflow'] = total;
  }
  const { positive, negative, score } = input;
  return {
    version: SCORE_VERSION,
    at: now,
    prior: { mean: options.priorMean, weight: options.priorWeight },
    positive: r6(positive),
    negative: r6(negative),
    formula: `100 × (${options.priorWeight} × ${options.priorMean / 100} + ${r6(positive)}) / (${options.priorWeight} + ${r6(positive)} + ${r6(negative)}) = ${score}`,
    counted: entries
      .slice(0, options.explainLimit)
      .map((e) => describe(e, now, options, input.strangers.scale)),
    countedTotal: entries.length,
    ignored: ignored.slice(0, options.explainLimit),
    ignoredTotal: Object.values(ignoredByReason).reduce((x, y) => x + y, 0),
    ignoredByReason,
    strangers: {
      raters: input.strangers.raters,
      evidence: r6(input.strangers.evidence),
      capped: input.strangers.scale < 1,
    },
    options,
  };
}

const short = (hex: string): string => `${hex.slice(0, 8)}…`;

/** The explanation as text lines: the formula, the counted labels, the ignored ones with their reasons. */
export function formatExplanation(
  score: { subject: string; jobKind: number | undefined; score: number },
  e: ScoreExplanation,
): string {
  const scope = score.jobKind === undefined ? 'overall' : `kind ${score.jobKind}`;
  const lines = [
    `${short(score.subject)} ${scope}: ${score.score} (${e.version}, prior ${e.prior.mean} worth ${e.prior.weight} labels)`,
    `  ${e.formula}`,
    `  counted: ${e.countedTotal} label${e.countedTotal === 1 ? '' : 's'}${e.countedTotal > e.counted.length ? ` (the ${e.counted.length} heaviest shown)` : ''}`,
  ];
  for (const c of e.counted) {
    const kind = c.jobKind === undefined ? '' : ` kind ${c.jobKind}`;
    lines.push(
      `    ${c.weight >= 0 ? '+' : ''}${c.weight} ${c.type}${kind} from ${short(c.rater)}: ${c.notes.join('; ')}`,
    );
  }
  if (e.ignoredTotal > 0) {
    const reasons = Object.entries(e.ignoredByReason)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    lines.push(`  ignored: ${e.ignoredTotal} (${reasons})`);
    for (const i of e.ignored)
      lines.push(`    ${i.reason} ${short(i.id)} from ${short(i.rater)}: ${i.detail}`);
  }
  return lines.join('\n');
}
