/**
 * What one label weighs before the rater's trust: |type weight| × rating × payment factor × decay, and how a
 * rater's labels about one agent add up (one label per job, the latest; a saturating sum, so a flood from
 * one key counts like a few labels). Pure: `now` is always given.
 */
import { paymentFactor, UNPROVEN_REASON } from './evidence.ts';
import { LABEL_TYPE_WEIGHTS, type Label } from './labels.ts';
import type { ScoreOptions } from './options.ts';

const DAY = 86_400;

export interface WeighContext {
  /** Unix seconds. */
  now: number;
  options: ScoreOptions;
  /**
   * The id of the label that claimed this label's payment hash first, when that is another label (a payment
   * proves one label). Undefined when this label is the first, or makes no proven claim.
   */
  claimedBy(label: Label): string | undefined;
  /** The id of the rater's later label about the same job, which replaces this one. */
  supersededBy(label: Label): string | undefined;
}

export interface WeighedLabel {
  label: Label;
  sign: 1 | -1;
  /** |type weight| × rating × payment × decay. */
  magnitude: number;
  typeWeight: number;
  /** The `quality` factor of a service-quality label (1 otherwise). */
  quality: number;
  payment: number;
  decay: number;
  /** The label that its payment already proves, when the payment counted there. */
  claimedBy?: string;
}

export type IgnoreReason =
  | 'rejected'
  | 'self-label'
  | 'revoked'
  | 'superseded'
  | 'future'
  | 'no-standing'
  | 'flood-overflow';

export interface IgnoredLabel {
  id: string;
  rater: string;
  type?: string;
  jobKind?: number;
  reason: IgnoreReason;
  detail: string;
}

export interface PairWeight {
  /** Raw sums of the counted labels' magnitudes. */
  positive: number;
  negative: number;
  /** How many positive and negative labels count. */
  positives: number;
  negatives: number;
  /** saturate(positive + negative) / (positive + negative): what every label of the pair is multiplied by. */
  factor: number;
}

/** Where weighPair puts each label when the caller wants them (the scoring does, the rater graph does not). */
export interface PairSink {
  counted: WeighedLabel[];
  ignored: IgnoredLabel[];
}

/** pairCap · (1 − e^(−x / pairCap)): about x for a few labels, never above pairCap. */
export function saturate(x: number, cap: number): number {
  return cap * -Math.expm1(-x / cap);
}

function round(x: number, digits = 3): string {
  return String(Math.round(x * 10 ** digits) / 10 ** digits);
}

const isFuture = (label: Label, ctx: WeighContext): boolean =>
  label.createdAt > ctx.now + ctx.options.maxFutureSeconds;

const UNPAID = { payment: 1 };

const qualityOf = (label: Label): number =>
  label.type === 'service-quality' && label.quality !== undefined ? label.quality : 1;

const decayOf = (label: Label, ctx: WeighContext): number =>
  0.5 ** (Math.max(0, ctx.now - label.createdAt) / (ctx.options.halfLifeDays * DAY));

/** The payment factor, and the label that its payment already proves when that is another one. */
function paymentOf(label: Label, ctx: WeighContext): { payment: number; claimedBy?: string } {
  if (label.payment.status !== 'proven') return UNPAID;
  const claimedBy = ctx.claimedBy(label);
  return claimedBy !== undefined
    ? { payment: 1, claimedBy }
    : { payment: paymentFactor(label.payment, ctx.options.paidCap) };
}

/** The weight alone, signed (the rater graph's fast path: no objects). */
function signedMagnitude(label: Label, ctx: WeighContext): number {
  const typeWeight = LABEL_TYPE_WEIGHTS[label.type];
  const payment = label.payment.status === 'proven' ? paymentOf(label, ctx).payment : 1;
  return typeWeight * qualityOf(label) * payment * decayOf(label, ctx);
}

/** One label's weight at `ctx.now` (undefined when it is dated in the future). */
export function weighLabel(label: Label, ctx: WeighContext): WeighedLabel | undefined {
  if (isFuture(label, ctx)) return undefined;
  const typeWeight = LABEL_TYPE_WEIGHTS[label.type];
  const quality = qualityOf(label);
  const paid = paymentOf(label, ctx);
  const decay = decayOf(label, ctx);
  return {
    label,
    sign: typeWeight < 0 ? -1 : 1,
    magnitude: Math.abs(typeWeight) * quality * paid.payment * decay,
    typeWeight,
    quality,
    payment: paid.payment,
    decay,
    claimedBy: paid.claimedBy,
  };
}

/** Why a label weighs what it does (its rating, payment and age), for the explanation. */
export function labelNotes(w: WeighedLabel, now: number): string[] {
  const notes: string[] = [];
  if (w.quality !== 1) notes.push(`rated ${round(w.quality)}`);
  const evidence = w.label.payment;
  if (evidence.status === 'proven') {
    if (w.claimedBy !== undefined)
      notes.push(`${UNPROVEN_REASON}: its payment already proves label ${w.claimedBy}`);
    else if (evidence.amountMsats === undefined) notes.push('paid (proven), amount unknown: ×1');
    else notes.push(`paid ${round(evidence.amountMsats / 1000)} sats (proven): ×${round(w.payment)}`);
  } else if (evidence.status === 'unproven') {
    notes.push(`${evidence.reason}: counted as unpaid`);
  }
  const age = Math.max(0, now - w.label.createdAt);
  if (age >= DAY) {
    const days = Math.floor(age / DAY);
    notes.push(`${days} day${days === 1 ? '' : 's'} old: ×${round(w.decay)}`);
  }
  return notes;
}

function kindOf(label: Label): { jobKind?: number } {
  return label.jobKind !== undefined ? { jobKind: label.jobKind } : {};
}

/**
 * One rater's labels about one agent, in `scope` (a job kind, or undefined for all): labels superseded by
 * the rater's later label about the same job (`ctx.supersededBy`) and labels dated in the future are ignored;
 * the sum saturates at `pairCap`. With a `sink`, every label goes into it, counted or ignored with the reason.
 */
export function weighPair(
  labels: readonly Label[],
  scope: number | undefined,
  ctx: WeighContext,
  sink?: PairSink,
): PairWeight {
  let positive = 0;
  let negative = 0;
  let positives = 0;
  let negatives = 0;
  for (const l of labels) {
    if (scope !== undefined && l.jobKind !== scope) continue;
    const winner = ctx.supersededBy(l);
    if (winner !== undefined) {
      sink?.ignored.push({
        id: l.id,
        rater: l.rater,
        type: l.type,
        ...kindOf(l),
        reason: 'superseded',
        detail: `the rater's later label ${winner} about the same job replaces it`,
      });
      continue;
    }
    if (isFuture(l, ctx)) {
      sink?.ignored.push({
        id: l.id,
        rater: l.rater,
        type: l.type,
        ...kindOf(l),
        reason: 'future',
        detail: `dated ${l.createdAt - ctx.now} s in the future`,
      });
      continue;
    }
    if (sink) {
      const w = weighLabel(l, ctx) as WeighedLabel;
      sink.counted.push(w);
      if (w.sign > 0) positive += w.magnitude;
      else negative += w.magnitude;
    } else {
      const m = signedMagnitude(l, ctx);
      if (m > 0) positive += m;
      else negative -= m;
    }
    if (LABEL_TYPE_WEIGHTS[l.type] > 0) positives++;
    else negatives++;
  }
  return finish(positive, negative, positives, negatives, ctx.options.pairCap);
}

function finish(
  positive: number,
  negative: number,
  positives: number,
  negatives: number,
  cap: number,
): PairWeight {
  const total = positive + negative;
  const factor = total > 0 ? saturate(total, cap) / total : 1;
  return { positive, negative, positives, negatives, factor };
}

/**
 * A pair's sums with the decay factored out, so that the pair can be weighed at any later time without
 * reading its labels: per scope (-1: all kinds), Σ |type| × rating × payment × 0.5^((newest − createdAt) /
 * halfLife) of the labels that count, positive and negative, and their numbers. Exact but for rounding:
 * 0.5^(age/h) = 0.5^((newest − t)/h) × 0.5^((now − newest)/h).
 */
export interface PairSums {
  /** The newest label's createdAt: the sums are at that time. */
  newest: number;
  /** scope → [positive, negative, positives, negatives]. */
  scopes: Map<number, [number, number, number, number]>;
}

export const ALL_KINDS = -1;

/** The sums of one pair's labels (sorted), at its newest label's time. */
export function sumPair(labels: readonly Label[], ctx: Omit<WeighContext, 'now'>): PairSums {
  let newest = Number.NEGATIVE_INFINITY;
  for (const l of labels) if (l.createdAt > newest) newest = l.createdAt;
  const at: WeighContext = { ...ctx, now: newest };
  const scopes = new Map<number, [number, number, number, number]>();
  const add = (scope: number, m: number): void => {
    let s = scopes.get(scope);
    if (!s) {
      s = [0, 0, 0, 0];
      scopes.set(scope, s);
    }
    if (m > 0) {
      s[0] += m;
      s[2]++;
    } else {
      s[1] -= m;
      s[3]++;
    }
  };
  for (const l of labels) {
    if (ctx.supersededBy(l) !== undefined) continue;
    const m = signedMagnitude(l, at);
    add(ALL_KINDS, m);
    if (l.jobKind !== undefined) add(l.jobKind, m);
  }
  return { newest, scopes };
}

/**
 * One pair weighed at `ctx.now`: from its sums when no label is newer than `now` (the usual case: no label
 * read), else label by label (weighPair). Both give the same numbers, but for rounding.
 */
export function pairWeightAt(
  labels: readonly Label[],
  sums: PairSums,
  scope: number | undefined,
  ctx: WeighContext,
): PairWeight {
  if (sums.newest > ctx.now) return weighPair(labels, scope, ctx);
  const s = sums.scopes.get(scope ?? ALL_KINDS);
  if (!s) return finish(0, 0, 0, 0, ctx.options.pairCap);
  const decay = 0.5 ** ((ctx.now - sums.newest) / (ctx.options.halfLifeDays * DAY));
  return finish(s[0] * decay, s[1] * decay, s[2], s[3], ctx.options.pairCap);
}
