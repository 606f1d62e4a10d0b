import { createHash } from 'node:crypto';
import type { EventTemplate, NostrEvent } from '../../core/nostr.ts';
import { LocalSigner } from '../../identity/signer.ts';
import { buildLabel, type LabelInput } from '../../reputation/labels.ts';
import { buildRevocation } from '../../reputation/revocation.ts';

/** Deterministic keys for reputation tests: the same `name` gives the same key in every run. */
export function signerFor(name: string | number): LocalSigner {
  return new LocalSigner(createHash('sha256').update(`reputation-test:${name}`).digest());
}

/** A deterministic 64-hex id (a job request, a result). */
export function idFor(name: string | number): string {
  return createHash('sha256').update(`reputation-test-id:${name}`).digest('hex');
}

export const T0 = 1_760_000_000;
export const DAY = 86_400;

/** A signed label from `signer`; createdAt defaults to T0. */
export function signLabel(
  signer: LocalSigner,
  input: Omit<LabelInput, 'createdAt'> & { createdAt?: number },
): Promise<NostrEvent> {
  return signer.signEvent(buildLabel({ createdAt: T0, ...input }));
}

export function signRevocation(signer: LocalSigner, ids: string[], createdAt = T0 + 10): Promise<NostrEvent> {
  return signer.signEvent(buildRevocation(ids, createdAt));
}

/** A 64-hex pubkey for a name (not a curve point: for the pure scoring, which never checks signatures). */
export function keyFor(name: string | number): string {
  return createHash('sha256').update(`reputation-test-key:${name}`).digest('hex');
}

/** An event with the right id and a dummy signature: the pure scoring reads shapes, not signatures. */
export function unsigned(pubkey: string, template: EventTemplate): NostrEvent {
  const id = createHash('sha256')
    .update(JSON.stringify([0, pubkey, template.created_at, template.kind, template.tags, template.content]))
    .digest('hex');
  return { ...template, id, pubkey, sig: '0'.repeat(128) };
}

/** An unsigned label from `pubkey` (createdAt defaults to T0). */
export function label(
  pubkey: string,
  input: Omit<LabelInput, 'createdAt'> & { createdAt?: number },
): NostrEvent {
  return unsigned(pubkey, buildLabel({ createdAt: T0, ...input }));
}
