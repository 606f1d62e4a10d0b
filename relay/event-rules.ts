import type { NostrEvent } from '../core/nostr.ts';
import { tagValue } from '../core/nostr.ts';
import type { RelayLimits } from './limits.ts';
import { createdAtViolation, sizeViolation } from './policies.ts';

const AUTH_KIND = 22242;

type RuleLimits = Pick<
  RelayLimits,
  'maxEventTags' | 'maxContentBytes' | 'createdAtFutureSeconds' | 'createdAtPastSeconds'
>;

/**
 * The relay's cheap checks on a well-formed event, run before its signature is verified so that junk costs
 * no signature check: no NIP-42 AUTH event (it would be broadcast), sizes, the created_at window and NIP-40
 * expiration. Returns the `invalid:` reason, or undefined when the event passes. The size and created_at
 * checks are relay/policies.ts's own, so the embedded relay and strfry's plugin refuse with the same words.
 */
export function checkEventRules(
  event: NostrEvent,
  limits: RuleLimits,
  nowSeconds: number,
): string | undefined {
  if (event.kind === AUTH_KIND) return 'invalid: kind 22242 events go in AUTH messages (NIP-42), not EVENT';
  const violation =
    sizeViolation(event, limits) ??
    createdAtViolation(event.created_at, nowSeconds, {
      futureSeconds: limits.createdAtFutureSeconds,
      pastSeconds: limits.createdAtPastSeconds,
    });
  if (violation !== undefined) return violation;
  const expiration = tagValue(event.tags, 'expiration');
  if (expiration !== undefined) {
    const at = Number(expiration);
    if (Number.isFinite(at) && at <= nowSeconds) return 'invalid: event has expired (NIP-40)';
  }
  return undefined;
}
