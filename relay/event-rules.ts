import type { NostrEvent } from '../core/nostr.ts';
import { tagValue } from '../core/nostr.ts';
import type { RelayLimits } from './limits.ts';

const AUTH_KIND = 22242;

type RuleLimits = Pick<
  RelayLimits,
  'maxEventTags' | 'maxContentBytes' | 'createdAtFutureSeconds' | 'createdAtPastSeconds'
>;

/**
 * The relay's cheap checks on a well-formed event, run before its signature is verified so that junk costs
 * no signature check: no NIP-42 AUTH event (it would be broadcast), sizes, the created_at window and NIP-40
 * expiration. Returns the `invalid:` reason, or undefined when the event passes. Size and created_at
 * messages are worded as relay/policies.ts words them (its chain repeats those checks after verification
 * when the composition root installs it).
 */
export function checkEventRules(
  event: NostrEvent,
  limits: RuleLimits,
  nowSeconds: number,
): string | undefined {
  if (event.kind === AUTH_KIND) return 'invalid: kind 22242 events go in AUTH messages (NIP-42), not EVENT';
  if (event.tags.length > limits.maxEventTags) {
    return `invalid: too many tags (${event.tags.length}, at most ${limits.maxEventTags})`;
  }
  // A string of n UTF-16 units takes at most 3n UTF-8 bytes: count the bytes only when it could matter.
  if (event.content.length * 3 > limits.maxContentBytes) {
    const bytes = Buffer.byteLength(event.content);
    if (bytes > limits.maxContentBytes) {
      return `invalid: content too large (${bytes} bytes, at most ${limits.maxContentBytes})`;
    }
  }
  if (event.created_at > nowSeconds + limits.createdAtFutureSeconds) {
    return `invalid: created_at is more than ${limits.createdAtFutureSeconds} seconds in the future`;
  }
  if (limits.createdAtPastSeconds > 0 && event.created_at < nowSeconds - limits.createdAtPastSeconds) {
    return `invalid: created_at is more than ${limits.createdAtPastSeconds} seconds in the past`;
  }
  const expiration = tagValue(event.tags, 'expiration');
  if (expiration !== undefined) {
    const at = Number(expiration);
    if (Number.isFinite(at) && at <= nowSeconds) return 'invalid: event has expired (NIP-40)';
  }
  return undefined;
}
