/**
 * NIP-47 (Nostr Wallet Connect), the wallet service's side of the wire: reading a kind 23194 request
 * (NIP-44 v2 when its `encryption` tag says `nip44_v2`, NIP-04 when the tag is absent or says `nip04`),
 * writing the kind 23195 response to it, the kind 23197 (NIP-44) and 23196 (NIP-04) notifications, the
 * kind 13194 info event and the connection URI. No state here: payments/wallet-service.ts uses it.
 */

import { errorMessage } from '../core/errors.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { tagValue } from '../core/nostr.ts';
import type { PeerCipher, Signer } from '../core/signer.ts';
import type { WalletErrorCode } from './wallet.ts';

export const NWC_INFO_KIND = 13194;
export const NWC_REQUEST_KIND = 23194;
export const NWC_RESPONSE_KIND = 23195;
/** Notifications encrypted with NIP-04 (the legacy kind). */
export const NWC_NOTIFICATION_NIP04_KIND = 23196;
/** Notifications encrypted with NIP-44 v2. */
export const NWC_NOTIFICATION_KIND = 23197;

export type Nip47Encryption = 'nip44_v2' | 'nip04';
export const NIP47_ENCRYPTIONS: readonly Nip47Encryption[] = ['nip44_v2', 'nip04'];

/** NIP-47's error codes: the Wallet interface's, less the two it adds for requests that got no answer. */
export type Nip47ErrorCode = Exclude<WalletErrorCode, 'UNREACHABLE' | 'INVALID_INPUT'>;

export interface Nip47ErrorBody {
  code: Nip47ErrorCode;
  message: string;
}

/** A method's failure, thrown by a handler and turned into an error response. */
export class Nip47Failure extends Error {
  constructor(
    readonly code: Nip47ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'Nip47Failure';
  }
}

export type Nip47NotificationType = 'payment_received' | 'payment_sent' | 'hold_invoice_accepted';

/** A NIP-47 transaction as it goes on the wire (amounts in msats, times in unix seconds). */
export interface Nip47Transaction {
  type: 'incoming' | 'outgoing';
  state: 'pending' | 'accepted' | 'settled' | 'failed';
  invoice: string;
  description: string;
  description_hash?: string;
  /** Absent while unknown to this side. */
  preimage?: string;
  payment_hash: string;
  amount: number;
  fees_paid: number;
  created_at: number;
  expires_at: number;
  /** Absent until settled. */
  settled_at?: number;
  /** Accepted hold payments: the unix time at which the wallet cancels (refunds) them if not settled. */
  settle_deadline?: number;
  metadata?: Record<string, unknown>;
}

export interface Nip47Notification {
  notification_type: Nip47NotificationType;
  notification: Nip47Transaction;
}

/** The decrypted content of a response. */
export type Nip47ResponseBody =
  | { result_type: string; result: Record<string, unknown>; error: null }
  | { result_type: string; result: null; error: Nip47ErrorBody };

export function okResponse(method: string, result: Record<string, unknown>): Nip47ResponseBody {
  return { result_type: method, result, error: null };
}

export function errorResponse(method: string, code: Nip47ErrorCode, message: string): Nip47ResponseBody {
  return { result_type: method, result: null, error: { code, message } };
}

/** Where a response goes: the request it answers. */
export interface Nip47ReplyTo {
  /** The request event's id. */
  id: string;
  clientPubkey: string;
  encryption: Nip47Encryption;
}

export interface Nip47Request extends Nip47ReplyTo {
  /** The request event's created_at. */
  createdAt: number;
  method: string;
  params: Record<string, unknown>;
}

export type ParsedRequest =
  | { ok: true; request: Nip47Request }
  /** Nothing to answer: not a request to this service, expired, or content this service cannot read. */
  | { ok: false; reason: 'not-for-us' | 'expired' | 'undecryptable'; detail: string }
  /** Answer with an error: the request named an unknown encryption, or its content is not a NIP-47 request. */
  | {
      ok: false;
      reason: 'unsupported-encryption' | 'malformed';
      detail: string;
      replyTo: Nip47ReplyTo;
      method: string;
    };

function cipherOf(signer: Signer, encryption: Nip47Encryption): PeerCipher {
  return encryption === 'nip44_v2' ? signer.nip44 : signer.nip04;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a kind 23194 event addressed to `servicePubkey` (its signature is the relay client's business).
 * `nowS` decides a NIP-40 style `expiration` tag: a request past it is ignored, as NIP-47 says.
 */
export async function parseRequest(
  event: NostrEvent,
  signer: Signer,
  servicePubkey: string,
  nowS: number,
): Promise<ParsedRequest> {
  if (event.kind !== NWC_REQUEST_KIND || !event.tags.some((t) => t[0] === 'p' && t[1] === servicePubkey)) {
    return { ok: false, reason: 'not-for-us', detail: 'not a NIP-47 request to this wallet service' };
  }
  const expiration = tagValue(event.tags, 'expiration');
  if (expiration !== undefined && /^\d+$/.test(expiration) && Number(expiration) <= nowS) {
    return { ok: false, reason: 'expired', detail: `expired at ${expiration}` };
  }
  const tag = tagValue(event.tags, 'encryption');
  const base = { id: event.id, clientPubkey: event.pubkey };
  if (tag !== undefined && tag !== 'nip44_v2' && tag !== 'nip04') {
    return {
      ok: false,
      reason: 'unsupported-encryption',
      detail: `unsupported encryption ${JSON.stringify(tag)}`,
      replyTo: { ...base, encryption: 'nip44_v2' },
      method: '',
    };
  }
  const encryption: Nip47Encryption = tag ?? 'nip04';
  let plaintext: string;
  try {
    plaintext = await cipherOf(signer, encryption).decrypt(event.pubkey, event.content);
  } catch (err) {
    return {
      ok: false,
      reason: 'undecryptable',
      detail: `cannot decrypt (${encryption}): ${errorMessage(err)}`,
    };
  }
  const replyTo = { ...base, encryption };
  let body: unknown;
  try {
    body = JSON.parse(plaintext);
  } catch {
    return { ok: false, reason: 'malformed', detail: 'the content is not JSON', replyTo, method: '' };
  }
  if (!isObject(body) || typeof body.method !== 'string' || body.method === '') {
    return { ok: false, reason: 'malformed', detail: 'the request has no method', replyTo, method: '' };
  }
  const params = body.params ?? {};
  if (!isObject(params)) {
    return {
      ok: false,
      reason: 'malformed',
      detail: 'the params are not an object',
      replyTo,
      method: body.method,
    };
  }
  return {
    ok: true,
    request: { ...replyTo, createdAt: event.created_at, method: body.method, params },
  };
}

/** The kind 23195 response to a request, encrypted as the request was, tagged `p` (client) and `e` (request). */
export async function buildResponse(
  signer: Signer,
  to: Nip47ReplyTo,
  body: Nip47ResponseBody,
  createdAt: number,
): Promise<NostrEvent> {
  const content = await cipherOf(signer, to.encryption).encrypt(to.clientPubkey, JSON.stringify(body));
  return signer.signEvent({
    kind: NWC_RESPONSE_KIND,
    created_at: createdAt,
    tags: [
      ['p', to.clientPubkey],
      ['e', to.id],
    ],
    content,
  });
}

/**
 * A notification to one client, once per encryption asked for: kind 23197 for `nip44_v2`, kind 23196 for
 * `nip04` (NIP-47's backwards-compatible rule: a service that speaks both publishes both).
 */
export async function buildNotifications(
  signer: Signer,
  clientPubkey: string,
  notification: Nip47Notification,
  createdAt: number,
  encryptions: readonly Nip47Encryption[] = NIP47_ENCRYPTIONS,
): Promise<NostrEvent[]> {
  const plaintext = JSON.stringify(notification);
  const events: NostrEvent[] = [];
  for (const encryption of encryptions) {
    const content = await cipherOf(signer, encryption).encrypt(clientPubkey, plaintext);
    events.push(
      await signer.signEvent({
        kind: encryption === 'nip44_v2' ? NWC_NOTIFICATION_KIND : NWC_NOTIFICATION_NIP04_KIND,
        created_at: createdAt,
        tags: [['p', clientPubkey]],
        content,
      }),
    );
  }
  return events;
}

/** The replaceable kind 13194 info event: capabilities in the content, encryptions and notifications as tags. */
export function buildInfoEvent(
  signer: Signer,
  info: {
    methods: readonly string[];
    notifications: readonly Nip47NotificationType[];
    encryptions?: readonly Nip47Encryption[];
  },
  createdAt: number,
): Promise<NostrEvent> {
  const capabilities = [...info.methods, ...(info.notifications.length > 0 ? ['notifications'] : [])];
  return signer.signEvent({
    kind: NWC_INFO_KIND,
    created_at: createdAt,
    tags: [
      ['encryption', (info.encryptions ?? NIP47_ENCRYPTIONS).join(' ')],
      ['notifications', info.notifications.join(' ')],
    ],
    content: capabilities.join(' '),
  });
}

export interface ConnectionUriParts {
  walletPubkey: string;
  relays: string[];
  /** The client's secret key, hex. */
  secret: string;
  lud16?: string;
}

/** `nostr+walletconnect://<wallet pubkey>?relay=<url-encoded>&secret=<hex>`. */
export function connectionUri(parts: ConnectionUriParts): string {
  const q = new URLSearchParams();
  for (const r of parts.relays) q.append('relay', r);
  q.set('secret', parts.secret);
  if (parts.lud16) q.set('lud16', parts.lud16);
  return `nostr+walletconnect://${parts.walletPubkey}?${q.toString()}`;
}

/** Reads a connection URI; throws on anything that is not one. */
export function parseConnectionUri(uri: string): ConnectionUriParts {
  const m = /^nostr\+walletconnect:(?:\/\/)?([0-9a-f]{64})\?(.*)$/.exec(uri.trim());
  if (!m) throw new Error('not a nostr+walletconnect:// URI with a hex wallet pubkey');
  const q = new URLSearchParams(m[2]);
  const relays = q.getAll('relay');
  const secret = q.get('secret') ?? '';
  if (relays.length === 0) throw new Error('the connection URI names no relay');
  if (!/^[0-9a-f]{64}$/.test(secret)) throw new Error('the connection URI has no 32-byte hex secret');
  const lud16 = q.get('lud16');
  return { walletPubkey: m[1] as string, relays, secret, ...(lud16 ? { lud16 } : {}) };
}
