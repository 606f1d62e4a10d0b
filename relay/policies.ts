import type { Config } from '../core/config.ts';
import type { NostrEvent } from '../core/nostr.ts';
import type { Policy, PolicyDecision } from './policy.ts';

/**
 * The standard write policies of a Timmy relay, one factory per concept. `standardPolicies` builds the chain
 * from the relay section of the configuration; the embedded relay and the strfry write-policy plugin
 * (relay/strfry-plugin.ts) both call it, so both relays accept the same events. Every rejection message
 * starts with a NIP-01 machine-readable prefix (`blocked:`, `invalid:`, `auth-required:`).
 */

export type AuthMode = 'none' | 'write' | 'all';

export interface StandardPolicyOptions {
  /** Kinds this relay accepts; empty means every kind not in `rejectKinds`. */
  acceptKinds: readonly number[];
  /** Kinds this relay never accepts (wins over `acceptKinds`). */
  rejectKinds: readonly number[];
  maxEventTags: number;
  /** Largest `content`, in UTF-8 bytes. */
  maxContentBytes: number;
  /** How far ahead of the relay's clock `created_at` may be. */
  createdAtFutureSeconds: number;
  /** How far behind the relay's clock `created_at` may be; 0 means no limit. */
  createdAtPastSeconds: number;
  /** NIP-42: `write` and `all` both require an authenticated connection to publish. */
  auth: AuthMode;
}

/** The options of `standardPolicies`, taken from the configuration's relay section. */
export function standardPolicyOptions(relay: Config['relay']): StandardPolicyOptions {
  return {
    acceptKinds: relay.acceptKinds,
    rejectKinds: relay.rejectKinds,
    maxEventTags: relay.limits.maxEventTags,
    maxContentBytes: relay.limits.maxContentBytes,
    createdAtFutureSeconds: relay.limits.createdAtFutureSeconds,
    createdAtPastSeconds: relay.limits.createdAtPastSeconds,
    auth: relay.auth,
  };
}

/**
 * The standard chain, in order: authentication first (an unauthenticated client learns nothing else about
 * its event), then the cheap shape checks (kind, size, created_at).
 */
export function standardPolicies(options: StandardPolicyOptions): Policy[] {
  return [
    writeAuthPolicy({ auth: options.auth }),
    kindPolicy({ acceptKinds: options.acceptKinds, rejectKinds: options.rejectKinds }),
    sizePolicy({ maxEventTags: options.maxEventTags, maxContentBytes: options.maxContentBytes }),
    createdAtPolicy({
      futureSeconds: options.createdAtFutureSeconds,
      pastSeconds: options.createdAtPastSeconds,
    }),
  ];
}

function reject(message: string): PolicyDecision {
  return { action: 'reject', message };
}

/** Rejects kinds in `rejectKinds`, and, when `acceptKinds` is not empty, every kind not in it. */
export function kindPolicy(options: {
  acceptKinds?: readonly number[];
  rejectKinds?: readonly number[];
}): Policy {
  const accept = new Set(options.acceptKinds ?? []);
  const rejected = new Set(options.rejectKinds ?? []);
  return (input, next) => {
    const kind = input.event.kind;
    if (rejected.has(kind) || (accept.size > 0 && !accept.has(kind))) {
      return reject(`blocked: kind ${kind} is not accepted here`);
    }
    return next();
  };
}

/** The `invalid:` reason when an event has too many tags or too large a content; undefined when it fits. */
export function sizeViolation(
  event: Pick<NostrEvent, 'tags' | 'content'>,
  options: { maxEventTags: number; maxContentBytes: number },
): string | undefined {
  if (event.tags.length > options.maxEventTags) {
    return `invalid: too many tags (${event.tags.length}, at most ${options.maxEventTags})`;
  }
  // Cheap bound first: a string of n UTF-16 units takes at most 3n UTF-8 bytes, at least n.
  if (event.content.length * 3 > options.maxContentBytes) {
    const bytes = Buffer.byteLength(event.content, 'utf8');
    if (bytes > options.maxContentBytes) {
      return `invalid: content too large (${bytes} bytes, at most ${options.maxContentBytes})`;
    }
  }
  return undefined;
}

/** Rejects events with more than `maxEventTags` tags or more than `maxContentBytes` bytes of content. */
export function sizePolicy(options: { maxEventTags: number; maxContentBytes: number }): Policy {
  return (input, next) => {
    const violation = sizeViolation(input.event, options);
    return violation === undefined ? next() : reject(violation);
  };
}

/**
 * The `invalid:` reason when `createdAt` is more than `futureSeconds` ahead of, or (when `pastSeconds` > 0)
 * more than `pastSeconds` behind, `nowSeconds`; undefined when it is inside the window.
 */
export function createdAtViolation(
  createdAt: number,
  nowSeconds: number,
  options: { futureSeconds: number; pastSeconds: number },
): string | undefined {
  if (createdAt > nowSeconds + options.futureSeconds) {
    return `invalid: created_at is more than ${options.futureSeconds} seconds in the future`;
  }
  if (options.pastSeconds > 0 && createdAt < nowSeconds - options.pastSeconds) {
    return `invalid: created_at is more than ${options.pastSeconds} seconds in the past`;
  }
  return undefined;
}

/** Applies `createdAtViolation` against the time the relay received the event (`input.receivedAt`). */
export function createdAtPolicy(options: { futureSeconds: number; pastSeconds: number }): Policy {
  return (input, next) => {
    const violation = createdAtViolation(input.event.created_at, input.receivedAt, options);
    return violation === undefined ? next() : reject(violation);
  };
}

/**
 * The `source` values strfry gives its write-policy plugin (`sourceType`). An event with one of these came
 * through strfry, which does its own NIP-42 AUTH, so the plugin's `authedPubkeys` says nothing about it.
 * The embedded relay must never use these strings as its own source.
 */
export const STRFRY_SOURCES: ReadonlySet<string> = new Set([
  'IP4',
  'IP6',
  'Import',
  'Stream',
  'Sync',
  'Stored',
]);

export function isStrfrySource(source: string): boolean {
  return STRFRY_SOURCES.has(source);
}

/**
 * NIP-42 for writes: with `auth` set to `write` or `all`, an event from a connection that has not
 * authenticated is rejected with `auth-required:`. Events that came through strfry pass (strfry does
 * its own AUTH before calling the plugin).
 */
export function writeAuthPolicy(options: { auth: AuthMode }): Policy {
  return (input, next) => {
    if (options.auth === 'none' || input.authedPubkeys.size > 0 || isStrfrySource(input.source))
      return next();
    return reject('auth-required: this relay accepts events only from authenticated clients');
  };
}

/**
 * Pubkey allow/deny lists (hex, any case). A pubkey in `deny` is rejected; when `allow` is given and not
 * empty, every pubkey not in it is rejected too. Empty or missing lists restrict nothing.
 */
export function pubkeyPolicy(options: { allow?: readonly string[]; deny?: readonly string[] }): Policy {
  const allow = new Set((options.allow ?? []).map((p) => p.toLowerCase()));
  const deny = new Set((options.deny ?? []).map((p) => p.toLowerCase()));
  return (input, next) => {
    const pubkey = input.event.pubkey.toLowerCase();
    if (deny.has(pubkey) || (allow.size > 0 && !allow.has(pubkey))) {
      return reject('blocked: this pubkey may not publish here');
    }
    return next();
  };
}
