/**
 * Project-defined forward event (kind 7620, docs/federation.md): a desk hands a customer's job request to a
 * peer's desk. The original signed request travels in the content, so the receiving desk can check it and
 * answer the customer itself; the path of desks it passed through and the hops left stop any loop.
 */
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import { checkSignedEvent } from '../identity/verify-event.ts';
import { DvmEventError, FORWARD_KIND, isHex64, isJobRequestKind, quote } from './kinds.ts';

export class ForwardError extends DvmEventError {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardError';
  }
}

/** The most desks a forward may name in its path (a longer one is refused as malformed). */
export const MAX_FORWARD_PATH = 16;
/** The most relays a forward may name. */
export const MAX_FORWARD_RELAYS = 8;

export interface ForwardSpec {
  request: NostrEvent;
  /** The peer desk it is handed to. */
  to: string;
  /** Forwards left after this one (at least 1: the receiver may take it; it forwards on with hops - 1). */
  hops: number;
  /** The desks it passed through, in order, the sender last. */
  path: readonly string[];
  /** Where the customer listens (the relays the results and feedback should reach). */
  relays: readonly string[];
  createdAt?: number;
}

export interface Forward {
  /** The desk that sent it (the event's author, last in the path). */
  from: string;
  to: string;
  request: NostrEvent;
  hops: number;
  path: string[];
  relays: string[];
}

export function buildForward(spec: ForwardSpec): EventTemplate {
  if (!isHex64(spec.to)) throw new RangeError('to must be a pubkey of 64 lowercase hex characters');
  if (!Number.isSafeInteger(spec.hops) || spec.hops < 1)
    throw new RangeError(`hops must be a positive integer, got ${String(spec.hops)}`);
  if (spec.path.length === 0 || spec.path.length > MAX_FORWARD_PATH || !spec.path.every(isHex64))
    throw new RangeError(`path must hold 1 to ${MAX_FORWARD_PATH} pubkeys`);
  if (!isJobRequestKind(spec.request.kind))
    throw new RangeError(`kind ${spec.request.kind} is not a job request kind`);
  return {
    kind: FORWARD_KIND,
    created_at: spec.createdAt ?? Math.floor(Date.now() / 1000),
    tags: [
      ['e', spec.request.id],
      ['p', spec.to],
      ['k', String(spec.request.kind)],
      ['hops', String(spec.hops)],
      ...spec.path.map((p) => ['path', p]),
      ...(spec.relays.length > 0 ? [['relays', ...spec.relays.slice(0, MAX_FORWARD_RELAYS)]] : []),
    ],
    content: JSON.stringify(spec.request),
  };
}

/**
 * Reads a forward: its shape, the embedded request (a job request with a valid id and signature, whose id
 * is the `e` tag), hops, path (the author last) and relays. Throws ForwardError saying what is wrong.
 */
export function parseForward(event: NostrEvent): Forward {
  if (event.kind !== FORWARD_KIND) throw new ForwardError(`not a forward: kind ${event.kind}`);
  const one = (name: string): string => {
    const found = event.tags.filter((t) => t[0] === name);
    if (found.length !== 1 || typeof found[0]?.[1] !== 'string')
      throw new ForwardError(`a forward needs exactly one ${name} tag`);
    return found[0][1];
  };
  const requestId = one('e');
  const to = one('p');
  if (!isHex64(to)) throw new ForwardError('the p tag is not a pubkey');
  const hopsText = one('hops');
  const hops = Number(hopsText);
  if (!/^\d{1,3}$/.test(hopsText) || hops < 1) throw new ForwardError(`bad hops ${quote(hopsText)}`);
  const path = event.tags.filter((t) => t[0] === 'path').map((t) => t[1] ?? '');
  if (path.length === 0 || path.length > MAX_FORWARD_PATH || !path.every(isHex64))
    throw new ForwardError(`the path must name 1 to ${MAX_FORWARD_PATH} desks`);
  if (path[path.length - 1] !== event.pubkey) throw new ForwardError('the sender is not last in the path');
  if (new Set(path).size !== path.length) throw new ForwardError('the path names a desk twice');
  const relays = (event.tags.find((t) => t[0] === 'relays') ?? [])
    .slice(1)
    .filter((r): r is string => typeof r === 'string' && /^wss?:\/\/\S+$/.test(r))
    .slice(0, MAX_FORWARD_RELAYS);
  let embedded: unknown;
  try {
    embedded = JSON.parse(event.content);
  } catch {
    throw new ForwardError('the content is not the request as JSON');
  }
  const checked = checkSignedEvent(embedded);
  if (!checked.ok) throw new ForwardError(`the embedded request: ${checked.reason}`);
  const request = checked.event;
  if (request.id !== requestId) throw new ForwardError('the embedded request is not the one the e tag names');
  if (!isJobRequestKind(request.kind))
    throw new ForwardError(`the embedded event is not a job request (kind ${request.kind})`);
  return { from: event.pubkey, to, request, hops, path, relays };
}
