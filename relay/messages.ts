import type { RelayPrefix } from '../core/errors.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import { parseEventShape } from '../identity/verify-event.ts';
import { parseFilter } from './filters.ts';

/**
 * Client → relay messages (NIP-01, NIP-42, NIP-45): strict shape validation, so everything past this module
 * can trust the types. A message that cannot be answered with OK or CLOSED is answered with NOTICE.
 */
export type ClientMessage =
  | { type: 'EVENT'; event: NostrEvent }
  | { type: 'REQ'; subId: string; filters: Filter[] }
  | { type: 'COUNT'; subId: string; filters: Filter[] }
  | { type: 'CLOSE'; subId: string }
  | { type: 'AUTH'; event: NostrEvent };

/** What to answer a message that failed validation. */
export type Rejection =
  | { reply: 'NOTICE'; message: string }
  | { reply: 'OK'; id: string; message: string }
  | { reply: 'CLOSED'; subId: string; message: string };

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; rejection: Rejection };

export const MAX_SUB_ID_LENGTH = 64;

const HEX64 = /^[0-9a-f]{64}$/;

export function isHex64(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value);
}

const notice = (message: string): ParseResult => ({ ok: false, rejection: { reply: 'NOTICE', message } });

/** Parses one text frame. Never throws. */
export function parseClientMessage(text: string): ParseResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return notice('invalid: message is not valid JSON');
  }
  if (!Array.isArray(data) || data.length === 0 || typeof data[0] !== 'string') {
    return notice('invalid: message must be a JSON array starting with a message type');
  }
  const type = data[0];
  switch (type) {
    case 'EVENT':
    case 'AUTH':
      return parseEventMessage(type, data);
    case 'REQ':
    case 'COUNT':
      return parseFilterMessage(type, data);
    case 'CLOSE':
      if (data.length !== 2 || !isSubId(data[1])) {
        return notice('invalid: CLOSE takes one subscription id (a string of 1-64 characters)');
      }
      return { ok: true, message: { type: 'CLOSE', subId: data[1] } };
    default:
      return notice(`invalid: unknown message type ${JSON.stringify(type.slice(0, 32))}`);
  }
}

function parseEventMessage(type: 'EVENT' | 'AUTH', data: unknown[]): ParseResult {
  if (data.length !== 2) return notice(`invalid: ${type} takes exactly one event`);
  const checked = validateEvent(data[1]);
  if (checked.ok) return { ok: true, message: { type, event: checked.event } };
  if (checked.id === undefined) return notice(`invalid: ${checked.reason}`);
  return { ok: false, rejection: { reply: 'OK', id: checked.id, message: `invalid: ${checked.reason}` } };
}

function parseFilterMessage(type: 'REQ' | 'COUNT', data: unknown[]): ParseResult {
  const subId = data[1];
  if (!isSubId(subId)) {
    return notice(`invalid: ${type} needs a subscription id (a string of 1-64 characters)`);
  }
  const closed = (message: string): ParseResult => ({
    ok: false,
    rejection: { reply: 'CLOSED', subId, message: `invalid: ${message}` },
  });
  if (data.length < 3) return closed(`${type} needs at least one filter`);
  const filters: Filter[] = [];
  for (let i = 2; i < data.length; i++) {
    const parsed = parseFilter(data[i]);
    if (!parsed.ok) return closed(`filter ${i - 2}: ${parsed.reason}`);
    filters.push(parsed.filter);
  }
  return { ok: true, message: { type, subId, filters } };
}

function isSubId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_SUB_ID_LENGTH;
}

export type EventCheck = { ok: true; event: NostrEvent } | { ok: false; id?: string; reason: string };

/**
 * Checks the NIP-01 shape of an event (identity/verify-event.ts `parseEventShape`: a fresh object with only
 * the seven NIP-01 fields). On failure `id` is set when the id itself is well-formed, so the caller can
 * answer with OK rather than NOTICE.
 */
export function validateEvent(raw: unknown): EventCheck {
  const shaped = parseEventShape(raw);
  if (shaped.ok) return shaped;
  const id = raw !== null && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
  return isHex64(id) ? { ok: false, id, reason: shaped.reason } : { ok: false, reason: shaped.reason };
}

/** Cheap scan of a message too large to parse: the id of an EVENT, if one can be read. */
export function peekEventId(text: string): string | undefined {
  if (!/^\s*\[\s*"EVENT"\s*,\s*\{/.test(text.slice(0, 64))) return undefined;
  // Inside JSON strings every quote is escaped, so `"id":"` can only be the event object's own key.
  const m = /"id"\s*:\s*"([0-9a-f]{64})"/.exec(text);
  return m?.[1];
}

/** Relay → client messages, serialised. */
export const relayMessage = {
  ok: (id: string, accepted: boolean, message: string): string =>
    JSON.stringify(['OK', id, accepted, message]),
  closed: (subId: string, message: string): string => JSON.stringify(['CLOSED', subId, message]),
  notice: (message: string): string => JSON.stringify(['NOTICE', message]),
  eose: (subId: string): string => JSON.stringify(['EOSE', subId]),
  auth: (challenge: string): string => JSON.stringify(['AUTH', challenge]),
  count: (subId: string, count: number): string => JSON.stringify(['COUNT', subId, { count }]),
  /** `eventJson` is `JSON.stringify(event)`, computed once per event however many subscriptions get it. */
  event: (subId: string, eventJson: string): string => `["EVENT",${JSON.stringify(subId)},${eventJson}]`,
};

const PREFIXES: ReadonlySet<string> = new Set<RelayPrefix>([
  'invalid',
  'blocked',
  'rate-limited',
  'auth-required',
  'restricted',
  'duplicate',
  'pow',
  'error',
]);

/** The NIP-01 machine-readable prefix a relay message starts with, if it is one of the standard ones. */
export function prefixOf(message: string): RelayPrefix | undefined {
  const colon = message.indexOf(':');
  const head = colon > 0 ? message.slice(0, colon) : '';
  return PREFIXES.has(head) ? (head as RelayPrefix) : undefined;
}

/** `reason` if it already starts with a NIP-01 prefix, else `fallback: reason`. */
export function withPrefix(reason: string, fallback: RelayPrefix): string {
  return prefixOf(reason) !== undefined ? reason : `${fallback}: ${reason}`;
}
