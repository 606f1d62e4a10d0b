/**
 * The knobs of the scoring function and their defaults (docs/reputation.md says why each is what it is).
 * The formula itself is versioned by SCORE_VERSION: a change of the formula changes the version; a change of
 * an option does not (the explanation of every score states the options it was computed with).
 */

/** The version of the scoring formula (label weights, trust, aggregation). */
export const SCORE_VERSION = 'timmy-rep/1';

export interface ScoreOptions {
  /** Labels lose half their weight every this many days. */
  halfLifeDays: number;
  /** Personalized PageRank damping over the rater graph. */
  damping: number;
  /** PageRank stops after this many iterations at most… */
  maxIterations: number;
  /** …or as soon as no value moves by more than this. */
  tolerance: number;
  /** The score of an agent nobody rated (0-100). */
  priorMean: number;
  /** How many full-weight labels the prior is worth: evidence needed to move a score away from it. */
  priorWeight: number;
  /** One rater's labels about one agent count at most this much together (saturating, never a hard cut). */
  pairCap: number;
  /** A negative label counts only from a seed or a rater with at least this trust (0-1). */
  minStanding: number;
  /** Raters below this trust (0-1) are strangers: each counts as this much… */
  strangerTrust: number;
  /** …and all strangers' labels about one agent together count at most this much. */
  strangersCap: number;
  /** A proven payment multiplies a label by 1 + 0.5·log2(1 + sats), at most this. */
  paidCap: number;
  /** Labels dated more than this many seconds after `now` are ignored. */
  maxFutureSeconds: number;
  /** The explanation lists at most this many counted and this many ignored labels (all are counted). */
  explainLimit: number;
}

export const DEFAULT_SCORE_OPTIONS: Readonly<ScoreOptions> = Object.freeze({
  halfLifeDays: 90,
  damping: 0.85,
  maxIterations: 100,
  tolerance: 1e-6,
  priorMean: 50,
  priorWeight: 2,
  pairCap: 3,
  minStanding: 0.1,
  strangerTrust: 0.05,
  strangersCap: 0.5,
  paidCap: 3,
  maxFutureSeconds: 600,
  explainLimit: 50,
});

/** Options with defaults filled in; throws RangeError for a value out of its range. */
export function scoreOptions(partial: Partial<ScoreOptions> = {}): ScoreOptions {
  const o: ScoreOptions = { ...DEFAULT_SCORE_OPTIONS, ...partial };
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new RangeError(`reputation option ${what}`);
  };
  const finite = (n: number): boolean => typeof n === 'number' && Number.isFinite(n);
  check(finite(o.halfLifeDays) && o.halfLifeDays > 0, 'halfLifeDays must be > 0');
  check(finite(o.damping) && o.damping > 0 && o.damping < 1, 'damping must be within (0, 1)');
  check(
    Number.isSafeInteger(o.maxIterations) && o.maxIterations >= 1,
    'maxIterations must be an integer >= 1',
  );
  check(finite(o.tolerance) && o.tolerance > 0, 'tolerance must be > 0');
  check(finite(o.priorMean) && o.priorMean >= 0 && o.priorMean <= 100, 'priorMean must be within 0..100');
  check(finite(o.priorWeight) && o.priorWeight > 0, 'priorWeight must be > 0');
  check(finite(o.pairCap) && o.pairCap > 0, 'pairCap must be > 0');
  check(finite(o.minStanding) && o.minStanding >= 0 && o.minStanding <= 1, 'minStanding must be within 0..1');
  check(
    finite(o.strangerTrust) && o.strangerTrust >= 0 && o.strangerTrust <= 1,
    'strangerTrust must be within 0..1',
  );
  check(finite(o.strangersCap) && o.strangersCap >= 0, 'strangersCap must be >= 0');
  check(finite(o.paidCap) && o.paidCap >= 1, 'paidCap must be >= 1');
  check(Number.isSafeInteger(o.maxFutureSeconds) && o.maxFutureSeconds >= 0, 'maxFutureSeconds must be >= 0');
  check(Number.isSafeInteger(o.explainLimit) && o.explainLimit >= 0, 'explainLimit must be >= 0');
  return o;
}
