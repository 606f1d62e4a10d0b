/**
 * NIP-90 job feedback (kind 7000): a service provider tells the customer how their job is going
 * (payment-required, processing, error, success, partial).
 */
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import {
  amountTag,
  customerTag,
  DvmEventError,
  FEEDBACK_KIND,
  isHex64,
  quote,
  readAmountTag,
} from './kinds.ts';

export type FeedbackStatus = 'payment-required' | 'processing' | 'error' | 'success' | 'partial';
export const FEEDBACK_STATUSES: readonly FeedbackStatus[] = [
  'payment-required',
  'processing',
  'error',
  'success',
  'partial',
];

/** Spellings other implementations send: NDK writes "payment_required" and has a "scheduled" status. */
const STATUS_ALIASES: Readonly<Record<string, FeedbackStatus>> = {
  payment_required: 'payment-required',
  scheduled: 'processing',
};

export class FeedbackError extends DvmEventError {
  constructor(message: string) {
    super(message);
    this.name = 'FeedbackError';
  }
}

export interface FeedbackSpec {
  /** The job request as its customer signed it (its id and pubkey are referenced). */
  request: Pick<NostrEvent, 'id' | 'pubkey'>;
  status: FeedbackStatus;
  /** Human-readable extra information: the status tag's third element. */
  message?: string;
  /** A partial result or sample; '' by default. For an encrypted request, pass it already encrypted. */
  content?: string;
  amountMsats?: number;
  bolt11?: string;
  /** The relay where the request was seen: the `e` tag's relay hint. */
  relayHint?: string;
  /** Marks the content as encrypted to the customer (NIP-90: feedback on an encrypted request). */
  encrypted?: boolean;
  createdAt?: number;
}

/**
 * A kind 7000 template: ["status", status, message], ["e", request id, relay hint], ["p", customer],
 * ["amount", msats, bolt11] when an amount is given, ["encrypted"] when asked. Throws RangeError on a bad
 * amount or status.
 */
export function buildFeedback(spec: FeedbackSpec): EventTemplate {
  if (!FEEDBACK_STATUSES.includes(spec.status))
    throw new RangeError(`unknown feedback status ${String(spec.status)}`);
  const tags: string[][] = [
    spec.message ? ['status', spec.status, spec.message] : ['status', spec.status],
    spec.relayHint ? ['e', spec.request.id, spec.relayHint] : ['e', spec.request.id],
    ['p', spec.request.pubkey],
  ];
  if (spec.amountMsats !== undefined) tags.push(amountTag(spec.amountMsats, spec.bolt11));
  else if (spec.bolt11) throw new RangeError('a bolt11 invoice needs amountMsats');
  if (spec.encrypted) tags.push(['encrypted']);
  return {
    kind: FEEDBACK_KIND,
    created_at: spec.createdAt ?? Math.floor(Date.now() / 1000),
    tags,
    content: spec.content ?? '',
  };
}

export interface JobFeedback {
  /** The feedback's author: the service provider. */
  provider: string;
  requestId: string;
  customer: string;
  status: FeedbackStatus;
  /** The status as written (e.g. "payment_required" from NDK). */
  rawStatus: string;
  /** The status tag's extra information; '' when absent. */
  message: string;
  content: string;
  encrypted: boolean;
  amountMsats?: number;
  bolt11?: string;
  createdAt: number;
}

/** Normalises a status as other implementations write it, or undefined when unknown. */
export function normalizeFeedbackStatus(raw: string): FeedbackStatus | undefined {
  const s = raw.trim().toLowerCase();
  return (FEEDBACK_STATUSES as readonly string[]).includes(s) ? (s as FeedbackStatus) : STATUS_ALIASES[s];
}

/**
 * Reads a kind 7000 event. The first `e` tag is the request (its other elements, a relay hint or NDK's
 * "job" marker, are ignored); the customer is the first `p` tag not naming the author (see customerTag).
 * Throws FeedbackError.
 */
export function parseFeedback(event: NostrEvent): JobFeedback {
  if (event.kind !== FEEDBACK_KIND)
    throw new FeedbackError(`kind ${String(event.kind)} is not job feedback (kind ${FEEDBACK_KIND})`);
  const statusTag = event.tags.find((t) => t[0] === 'status');
  if (statusTag === undefined || !statusTag[1])
    throw new FeedbackError('the feedback has no status tag: write ["status", "<status>", "<extra info>"]');
  const rawStatus = statusTag[1];
  const status = normalizeFeedbackStatus(rawStatus);
  if (status === undefined)
    throw new FeedbackError(
      `the feedback status ${quote(rawStatus)} is unknown: use one of ${FEEDBACK_STATUSES.join(', ')}`,
    );
  const requestId = event.tags.find((t) => t[0] === 'e')?.[1];
  if (!isHex64(requestId))
    throw new FeedbackError(
      'the feedback must reference the job request with an e tag (64 lowercase hex id)',
    );
  const customer = customerTag(event);
  if (!isHex64(customer))
    throw new FeedbackError(
      "the feedback must name the customer with a p tag (the customer's 64 hex pubkey)",
    );
  return {
    provider: event.pubkey,
    requestId,
    customer,
    status,
    rawStatus,
    message: statusTag[2] ?? '',
    content: event.content,
    encrypted: event.tags.some((t) => t[0] === 'encrypted'),
    ...readAmountTag(event.tags, (m) => new FeedbackError(m)),
    createdAt: event.created_at,
  };
}
