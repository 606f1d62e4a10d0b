import { isMsats } from './commitment.ts';

/**
 * An agent's bidding strategy. In a second-price auction bidding one's true cost is a dominant strategy
 * (docs/decisions/0005-vickrey-auctions.md), so the strategy is: estimate the cost, bid it.
 */

/** What a job costs this agent. Rates may be fractional msats; the estimate is rounded up to whole msats. */
export interface CostModel {
  baseMsats: number;
  perTokenMsats: number;
  perSecondMsats: number;
  /** Surcharge in percent of the cost, per job already in hand. */
  loadSurchargePct: number;
}

export interface JobEstimate {
  expectedTokens: number;
  expectedSeconds: number;
  /** Jobs in hand when this one would start (a non-negative integer). */
  load: number;
}

function nonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number >= 0`);
}

/** Rounds up to whole msats, but snaps values within 1e-6 of an integer (0.1 + 0.2 style float noise). */
function ceilMsats(x: number): number {
  const nearest = Math.round(x);
  return Math.abs(x - nearest) < 1e-6 ? nearest : Math.ceil(x);
}

/**
 * The cost of a job in whole msats: (base + tokens × perToken + seconds × perSecond), rounded up, plus
 * loadSurchargePct % of that per job in hand, rounded up. Throws RangeError on negative, non-finite or
 * fractional-load input, or a result beyond Number.MAX_SAFE_INTEGER.
 */
export function estimateCost(model: CostModel, job: JobEstimate): number {
  nonNegative('baseMsats', model.baseMsats);
  nonNegative('perTokenMsats', model.perTokenMsats);
  nonNegative('perSecondMsats', model.perSecondMsats);
  nonNegative('loadSurchargePct', model.loadSurchargePct);
  nonNegative('expectedTokens', job.expectedTokens);
  nonNegative('expectedSeconds', job.expectedSeconds);
  if (!Number.isSafeInteger(job.load) || job.load < 0) throw new RangeError('load must be an integer >= 0');
  const work = ceilMsats(
    model.baseMsats + job.expectedTokens * model.perTokenMsats + job.expectedSeconds * model.perSecondMsats,
  );
  const cost = work + ceilMsats((work * model.loadSurchargePct * job.load) / 100);
  if (!isMsats(cost)) throw new RangeError('estimated cost is beyond Number.MAX_SAFE_INTEGER msats');
  return cost;
}

/** The bid: the true cost, unshaded (dominant under settleVickrey). Throws RangeError on a bad amount. */
export function truthfulBid(costMsats: number): number {
  if (!isMsats(costMsats)) throw new RangeError('cost must be a non-negative safe integer of msats');
  return costMsats;
}
