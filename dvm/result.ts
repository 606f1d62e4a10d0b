/**
 * NIP-90 job results (kinds 6000-6999, the request's kind + 1000).
 */
import { type EventTemplate, type NostrEvent, plainEvent } from '../core/nostr.ts';
import { parseEventShape } from '../identity/verify-event.ts';
import {
  amountTag,
  customerTag,
  DvmEventError,
  isHex64,
  isJobResultKind,
  JOB_RESULT_MAX,
  JOB_RESULT_MIN,
  readAmountTag,
  requestKindFor,
  resultKindFor,
} from './kinds.ts';
import { publishedRequest } from './request.ts';

export class ResultError extends DvmEventError {
  constructor(message: string) {
    super(message);
    this.name = 'ResultError';
  }
}

export interface ResultSpec {
  /** The job request (as signed, or the copy decryptJobRequest made: the decrypted tags never go out). */
  request: NostrEvent;
  /** The result; when `encrypted`, already encrypted to the customer by the caller. */
  content: string;
  amountMsats?: number;
  bolt11?: string;
  /** The request had encrypted params: the content is encrypted, and no input goes out in clear. */
  encrypted?: boolean;
  /** The relay where the request was seen: the `e` tag's relay hint. */
  relayHint?: string;
  /** More tags, appended as given. */
  extraTags?: string[][];
  createdAt?: number;
}

/**
 * A result template of kind request.kind + 1000: ["request", the request as JSON], ["e", request id, relay
 * hint], the request's `i` tags, ["p", customer], ["amount", msats, bolt11] when given. When `encrypted`
 * (NIP-90 "Encrypted Output"): no `i` tags, the request tag holds the request as published (its params
 * still encrypted), and an ["encrypted"] tag. Throws RangeError on a request kind outside 5000-5999 or a bad
 * amount.
 */
export function buildResult(spec: ResultSpec): EventTemplate {
  const { request } = spec;
  const kind = resultKindFor(request.kind);
  const encrypted = spec.encrypted === true;
  const shown = encrypted ? publishedRequest(request) : request;
  const tags: string[][] = [
    ['request', JSON.stringify(plainEvent(shown))],
    spec.relayHint ? ['e', request.id, spec.relayHint] : ['e', request.id],
  ];
  if (!encrypted) for (const t of request.tags) if (t[0] === 'i') tags.push([...t]);
  tags.push(['p', request.pubkey]);
  if (spec.amountMsats !== undefined) tags.push(amountTag(spec.amountMsats, spec.bolt11));
  else if (spec.bolt11) throw new RangeError('a bolt11 invoice needs amountMsats');
  if (encrypted) tags.push(['encrypted']);
  tags.push(...(spec.extraTags ?? []).map((t) => [...t]));
  return {
    kind,
    created_at: spec.createdAt ?? Math.floor(Date.now() / 1000),
    tags,
    content: spec.content,
  };
}

export interface JobResult {
  /** The result's author: the service provider. */
  provider: string;
  requestId: string;
  requestKind: number;
  customer: string;
  content: string;
  encrypted: boolean;
  amountMsats?: number;
  bolt11?: string;
  /** The request from the `request` tag, when present and well formed (its signature is not checked). */
  request?: NostrEvent;
  createdAt: number;
}

function embeddedRequest(event: NostrEvent): NostrEvent | undefined {
  const json = event.tags.find((t) => t[0] === 'request')?.[1];
  if (json === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new ResultError('the request tag must hold the job request event as JSON, and does not parse');
  }
  const shaped = parseEventShape(value);
  if (!shaped.ok) throw new ResultError(`the request tag does not hold a Nostr event: ${shaped.reason}`);
  return shaped.event;
}

/**
 * Reads a job result. The request id comes from the first `e` tag (else from the `request` tag, as NDK
 * does), the customer is the embedded request's author, else the `p` tag (see customerTag). Throws ResultError,
 * also when the embedded request contradicts the e tag or the kind.
 */
export function parseResult(event: NostrEvent): JobResult {
  if (!isJobResultKind(event.kind))
    throw new ResultError(
      `kind ${String(event.kind)} is not a job result kind (NIP-90 results are kinds ${JOB_RESULT_MIN}-${JOB_RESULT_MAX})`,
    );
  const requestKind = requestKindFor(event.kind);
  const request = embeddedRequest(event);
  const eTag = event.tags.find((t) => t[0] === 'e')?.[1];
  if (eTag !== undefined && !isHex64(eTag))
    throw new ResultError('the e tag must hold the job request id (64 lowercase hex characters)');
  const requestId = eTag ?? request?.id;
  if (requestId === undefined)
    throw new ResultError('the result must reference its job request: add ["e", "<request id>"]');
  if (request !== undefined) {
    if (request.id !== requestId)
      throw new ResultError('the request tag holds another event than the one the e tag references');
    if (request.kind !== requestKind)
      throw new ResultError(
        `a kind ${event.kind} result answers a kind ${requestKind} request, but the request tag holds kind ${request.kind}`,
      );
  }
  const pTag = customerTag(event);
  if (pTag !== undefined && !isHex64(pTag))
    throw new ResultError("the p tag must hold the customer's pubkey (64 lowercase hex characters)");
  const customer = request?.pubkey ?? pTag;
  if (customer === undefined)
    throw new ResultError('the result must name its customer: add ["p", "<pubkey>"]');
  const out: JobResult = {
    provider: event.pubkey,
    requestId,
    requestKind,
    customer,
    content: event.content,
    encrypted: event.tags.some((t) => t[0] === 'encrypted'),
    ...readAmountTag(event.tags, (m) => new ResultError(m)),
    createdAt: event.created_at,
  };
  if (request !== undefined) out.request = request;
  return out;
}
