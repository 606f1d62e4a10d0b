import { createHash } from 'node:crypto';
import { HTTPAuth } from 'nostr-tools/kinds';
import {
  unpackEventFromToken,
  validateEventKind,
  validateEventMethodTag,
  validateEventUrlTag,
} from 'nostr-tools/nip98';
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';
import { checkEventSignature, parseEventShape } from './verify-event.ts';

/**
 * NIP-98 HTTP Auth: `Authorization: Nostr <base64 of a signed kind 27235 event>` whose `u` tag is the
 * absolute request URL, `method` tag the HTTP method, and, for a request with a body, `payload` tag the
 * sha256 (hex) of the body bytes. nostr-tools/nip98 decodes the token and matches kind, url and method;
 * the clock, the payload (nostr-tools hashes JSON.stringify(body), not the body's bytes) and the signature
 * (checked last, on a fresh copy: see verify-event.ts) are checked here.
 */

export type Nip98Result =
  | { ok: true; pubkey: string; event: NostrEvent }
  | { ok: false; status: 401; reason: string };

export interface VerifyNip98Options {
  /** The Authorization header as received (undefined when absent). */
  authorization: string | null | undefined;
  /** The absolute URL of the request, query included, as the client sent it. */
  url: string;
  method: string;
  /** The request body; when given (and not empty) a matching `payload` tag is required. */
  body?: string | Uint8Array;
  nowSeconds: number;
  /** How far created_at may be from now, either way (default 60, NIP-98's suggestion). */
  maxAgeSeconds?: number;
}

/** Longest Authorization header read; a kind 27235 event is a few hundred bytes. */
const MAX_HEADER_LENGTH = 16 * 1024;

export function sha256Hex(body: string | Uint8Array): string {
  return createHash('sha256')
    .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
    .digest('hex');
}

function fail(reason: string): { ok: false; status: 401; reason: string } {
  return { ok: false, status: 401, reason };
}

export async function verifyNip98(options: VerifyNip98Options): Promise<Nip98Result> {
  const { authorization, url, method, body, nowSeconds } = options;
  const maxAge = options.maxAgeSeconds ?? 60;
  if (authorization === undefined || authorization === null || authorization.trim() === '') {
    return fail('missing Authorization header');
  }
  if (authorization.length > MAX_HEADER_LENGTH) return fail('Authorization header too long');
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(authorization);
  const scheme = m?.[1];
  const token = m?.[2];
  if (scheme?.toLowerCase() !== 'nostr' || token === undefined) {
    return fail('Authorization scheme must be "Nostr"');
  }

  let decoded: unknown;
  try {
    decoded = await unpackEventFromToken(token);
  } catch {
    return fail('Authorization token is not base64 of an event JSON');
  }
  const checked = parseEventShape(decoded);
  if (!checked.ok) return fail(`malformed event: ${checked.reason}`);
  const event = checked.event;

  if (!validateEventKind(event)) return fail(`wrong kind ${event.kind}, expected ${HTTPAuth}`);
  if (event.created_at < nowSeconds - maxAge) return fail('expired: created_at is too old');
  if (event.created_at > nowSeconds + maxAge) return fail('created_at is too far in the future');
  if (!validateEventUrlTag(event, url)) return fail('the "u" tag does not match the request URL');
  if (!validateEventMethodTag(event, method))
    return fail('the "method" tag does not match the request method');
  if (body !== undefined && body.length > 0) {
    const payload = event.tags.find((t) => t[0] === 'payload')?.[1];
    if (payload === undefined) return fail('the request has a body but the event has no "payload" tag');
    if (payload.toLowerCase() !== sha256Hex(body))
      return fail('the "payload" tag does not match the body hash');
  }
  const bad = checkEventSignature(event);
  if (bad !== undefined) return fail(bad);
  return { ok: true, pubkey: event.pubkey, event };
}

/** The kind 27235 template for a request: `u`, `method` (uppercased), `payload` when there is a body. */
export function nip98Template(
  url: string,
  method: string,
  body?: string | Uint8Array,
  createdAt = Math.floor(Date.now() / 1000),
): EventTemplate {
  const tags = [
    ['u', url],
    ['method', method.toUpperCase()],
  ];
  if (body !== undefined && body.length > 0) tags.push(['payload', sha256Hex(body)]);
  return { kind: HTTPAuth, created_at: createdAt, tags, content: '' };
}

/** The value of an `Authorization` header for a request, signed by `signer`. */
export async function buildNip98Header(
  signer: Signer,
  url: string,
  method: string,
  body?: string | Uint8Array,
  options: { createdAt?: number } = {},
): Promise<string> {
  const event = await signer.signEvent(nip98Template(url, method, body, options.createdAt));
  return `Nostr ${Buffer.from(JSON.stringify(event), 'utf8').toString('base64')}`;
}
