import type { Config } from '../../core/config.ts';

/**
 * What a job costs the customer (docs/payments.md): the price of the work (the auction's, or the agent's
 * listed price), at least `payments.minPriceMsats`, plus the instance's fee (`payments.feeMsats` +
 * `payments.feePct` of the price, rounded up). A customer's `bid` is what it pays in all, so the most the
 * work may cost is what leaves room for the fee: the auction's reserve (`reserveFor`).
 */

type PriceSettings = Pick<Config['payments'], 'feeMsats' | 'feePct' | 'minPriceMsats'>;

export interface Quote {
  /** What the agent that delivers is paid. */
  priceMsats: number;
  /** What the customer pays: the price and the fee. */
  amountMsats: number;
}

/** The instance's fee on work priced `priceMsats`. */
export function feeFor(p: PriceSettings, priceMsats: number): number {
  return p.feeMsats + Math.ceil((priceMsats * p.feePct) / 100);
}

export function quote(p: PriceSettings, priceMsats: number): Quote {
  const price = Math.max(priceMsats, p.minPriceMsats);
  return { priceMsats: price, amountMsats: price + feeFor(p, price) };
}

/**
 * The highest price of the work whose quote fits within the customer's bid (price + fee <= bid): the
 * auction's reserve. Undefined when even the least this instance charges (the minimum price and its fee)
 * is above the bid.
 */
export function reserveFor(p: PriceSettings, bidMsats: number): number | undefined {
  if (quote(p, p.minPriceMsats).amountMsats > bidMsats) return undefined;
  // The amount grows with the price (never by less than 1 per msat), so start from the exact solution
  // without rounding and step to the largest price that fits.
  let price = Math.max(p.minPriceMsats, Math.floor((bidMsats - p.feeMsats) / (1 + p.feePct / 100)));
  while (price > p.minPriceMsats && quote(p, price).amountMsats > bidMsats) price--;
  while (quote(p, price + 1).amountMsats <= bidMsats) price++;
  return price;
}

/** Why a bid cannot pay for any work here, for the customer's error feedback. */
export function bidTooLow(p: PriceSettings, bidMsats: number): string {
  const least = quote(p, p.minPriceMsats);
  return `your bid of ${bidMsats} msats is below the least this instance charges: ${least.amountMsats} msats (${least.priceMsats} for the work + ${least.amountMsats - least.priceMsats} the instance's fee)`;
}
