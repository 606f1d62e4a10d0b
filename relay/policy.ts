import { errorMessage } from '../core/errors.ts';
import type { NostrEvent } from '../core/nostr.ts';

/**
 * The relay's write-policy chain. Each policy sees the event and either decides or calls `next()` to let
 * the rest of the chain decide; the end of the chain accepts. The same chain runs inside the embedded
 * relay and inside the strfry write-policy plugin (relay/strfry-plugin.ts), so both relays accept the
 * same events. Later issues add policies (auth, kind allow-lists, reputation gates) without touching
 * the relay.
 */
export interface PolicyInput {
  /** A verified event (id and signature already checked). */
  event: NostrEvent;
  /** Pubkeys this connection has proven with NIP-42 (empty for strfry, which does its own AUTH). */
  authedPubkeys: ReadonlySet<string>;
  /** Remote address as the relay saw it. */
  ip: string;
  /** Where the event came from: a client socket, a strfry plugin call (`IP4`, `IP6`, `Import`, `Stream`, `Sync`). */
  source: string;
  /** Seconds since the epoch when the relay received the event. */
  receivedAt: number;
}

export type PolicyDecision =
  | { action: 'accept' }
  /** `message` starts with a NIP-01 prefix, e.g. `blocked: kind 4 is not accepted here`. */
  | { action: 'reject'; message: string }
  /** Answer OK true but store and broadcast nothing (strfry's shadowReject). */
  | { action: 'shadowReject'; message: string };

export type Policy = (
  input: PolicyInput,
  next: () => Promise<PolicyDecision>,
) => PolicyDecision | Promise<PolicyDecision>;

export const ACCEPT: PolicyDecision = Object.freeze({ action: 'accept' });

/** Runs `policies` in order for one event. A policy that throws rejects the event with `error:`. */
export async function runPolicies(policies: readonly Policy[], input: PolicyInput): Promise<PolicyDecision> {
  const step = async (i: number): Promise<PolicyDecision> => {
    const policy = policies[i];
    if (!policy) return ACCEPT;
    try {
      return await policy(input, () => step(i + 1));
    } catch (err) {
      return {
        action: 'reject',
        message: `error: policy failed: ${errorMessage(err)}`,
      };
    }
  };
  return step(0);
}
