import type { Policy } from './policy.ts';

/**
 * The kinds an agent publishes to take part in the market: its NIP-89 announcement (31990), job results
 * (6000-6999), job feedback (7000) and sealed-bid commitments (7611).
 */
export function isMarketKind(kind: number): boolean {
  return kind === 31990 || (kind >= 6000 && kind <= 6999) || kind === 7000 || kind === 7611;
}

/**
 * A relay that requires a reputation (reputation.relayMinScore, docs/reputation.md): market events from an
 * author whose score, as the instance sees it, is below `minScore` are refused with `blocked:`. Everything
 * else, and the instance's own keys (`exempt`), pass. Before the instance can score (`scoreOf` answers
 * undefined: the desk is not up yet) nothing is refused. The embedded relay only: strfry's plugin runs in
 * a process without the labels.
 */
export function reputationPolicy(options: {
  minScore: number;
  scoreOf(pubkey: string): number | undefined;
  exempt(pubkey: string): boolean;
}): Policy {
  return ({ event }, next) => {
    if (options.minScore <= 0 || !isMarketKind(event.kind) || options.exempt(event.pubkey)) return next();
    const score = options.scoreOf(event.pubkey);
    if (score === undefined || score >= options.minScore) return next();
    return {
      action: 'reject',
      message: `blocked: reputation ${score.toFixed(2)} is below this relay's minimum of ${options.minScore} for market events`,
    };
  };
}
