/**
 * NIP-32 reputation labels (kind 1985) in the ai.wot namespace, as this project writes and reads them: one
 * label per event, about one npub, optionally bound to a job (its kind, request and result) and to the
 * payment for it. `buildLabel`/`labelForOutcome` return unsigned templates; `parseLabel` is strict and
 * answers every event with a parsed label or a typed rejection with the reason. Pure. docs/reputation.md
 * describes the tags and the mapping of job outcomes to label types.
 */
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import { isHex64, isJobRequestKind } from '../dvm/kinds.ts';
import { checkPaymentEvidence, PAYMENT_TAG, type PaymentEvidence, paymentTag } from './evidence.ts';

export const LABEL_KIND = 1985;
export const LABEL_NAMESPACE = 'ai.wot';

/** The ai.wot label types and their weights (negative: a complaint). */
export const LABEL_TYPE_WEIGHTS = {
  'service-quality': 1.5,
  'work-completed': 1.2,
  'identity-continuity': 1.0,
  'general-trust': 0.8,
  dispute: -1.5,
  warning: -0.8,
} as const;

export type LabelType = keyof typeof LABEL_TYPE_WEIGHTS;

export function isLabelType(value: unknown): value is LabelType {
  return typeof value === 'string' && Object.hasOwn(LABEL_TYPE_WEIGHTS, value);
}

/** A label that parsed: what the scoring reads. */
export interface Label {
  id: string;
  /** The author: who rates. */
  rater: string;
  /** The `p` tag: who is rated. */
  subject: string;
  type: LabelType;
  createdAt: number;
  /** The job request kind (`k`), when the label is about a job. */
  jobKind?: number;
  /** The job request (`["e", id, relay, "request"]`). */
  request?: string;
  /** The job result (`["e", id, relay, "result"]`, or an unmarked `e` as ai.wot writes it). */
  result?: string;
  /** A customer's rating of the result, 0 to 1 (`["quality", "0.8"]`). */
  quality?: number;
  /** What happened, when the label says it (`["outcome", …]`): informative only. */
  outcome?: string;
  payment: PaymentEvidence;
}

export type LabelRejectionCode =
  | 'bad-kind'
  | 'malformed-event'
  | 'no-namespace'
  | 'no-label'
  | 'several-labels'
  | 'unknown-type'
  | 'missing-p'
  | 'several-p'
  | 'bad-p'
  | 'self-label'
  | 'bad-job-kind'
  | 'bad-e'
  | 'bad-quality'
  | 'bad-payment';

export interface LabelRejection {
  code: LabelRejectionCode;
  reason: string;
  id: string;
  rater: string;
  /** The rated pubkey, when the `p` tag could be read (so the rejection can be shown with its score). */
  subject?: string;
  createdAt: number;
}

export type ParsedLabel = { ok: true; label: Label } | { ok: false; rejection: LabelRejection };

/** What a label may say about a job. */
export interface LabelInput {
  subject: string;
  type: LabelType;
  /** Unix seconds (injected: never the system clock). */
  createdAt: number;
  jobKind?: number;
  request?: string;
  result?: string;
  quality?: number;
  outcome?: string;
  payment?: { invoice: string; preimage?: string };
  /** The human explanation (the event's content). */
  comment?: string;
}

/** Unsigned kind 1985 for `input`. Throws TypeError for a subject, kind, id or quality out of shape. */
export function buildLabel(input: LabelInput): EventTemplate {
  if (!isHex64(input.subject)) throw new TypeError('the subject must be a 64-hex pubkey');
  if (!isLabelType(input.type)) throw new TypeError(`unknown label type ${String(input.type)}`);
  const tags: string[][] = [
    ['L', LABEL_NAMESPACE],
    ['l', input.type, LABEL_NAMESPACE],
    ['p', input.subject],
  ];
  if (input.jobKind !== undefined) {
    if (!isJobRequestKind(input.jobKind)) throw new TypeError('the job kind must be between 5000 and 5999');
    tags.push(['k', String(input.jobKind)]);
  }
  for (const [id, marker] of [
    [input.request, 'request'],
    [input.result, 'result'],
  ] as const) {
    if (id === undefined) continue;
    if (!isHex64(id)) throw new TypeError(`the ${marker} id must be 64 hex`);
    tags.push(['e', id, '', marker]);
  }
  if (input.quality !== undefined) {
    if (!(input.quality >= 0 && input.quality <= 1)) throw new TypeError('the quality must be within 0..1');
    tags.push(['quality', String(Math.round(input.quality * 1000) / 1000)]);
  }
  if (input.outcome !== undefined) tags.push(['outcome', input.outcome]);
  if (input.payment) tags.push(paymentTag(input.payment.invoice, input.payment.preimage));
  return { kind: LABEL_KIND, created_at: input.createdAt, tags, content: input.comment ?? '' };
}

const QUALITY = /^(0(\.\d+)?|1(\.0+)?)$/;

/**
 * Strict parse of a kind 1985 label in the ai.wot namespace. Evidence that does not verify is not a
 * rejection: the label is kept with `payment.status === 'unproven'` (counted as unpaid).
 */
export function parseLabel(event: NostrEvent): ParsedLabel {
  const reject = (code: LabelRejectionCode, reason: string, subject?: string): ParsedLabel => ({
    ok: false,
    rejection: {
      code,
      reason,
      id: event.id,
      rater: event.pubkey,
      createdAt: event.created_at,
      ...(subject !== undefined ? { subject } : {}),
    },
  });
  if (event.kind !== LABEL_KIND) return reject('bad-kind', `kind ${event.kind} is not a label (1985)`);
  if (!isHex64(event.id) || !isHex64(event.pubkey) || !Number.isSafeInteger(event.created_at)) {
    return reject('malformed-event', 'the id, pubkey or created_at is malformed');
  }
  if (!Array.isArray(event.tags) || !event.tags.every((t) => Array.isArray(t))) {
    return reject('malformed-event', 'the tags are not a list of lists');
  }
  const named = (name: string): string[][] => event.tags.filter((t) => t[0] === name);
  const ps = named('p');
  const subject = ps.length === 1 && isHex64(ps[0]?.[1]) ? ps[0]?.[1] : undefined;
  const fail = (code: LabelRejectionCode, reason: string): ParsedLabel => reject(code, reason, subject);

  if (!named('L').some((t) => t[1] === LABEL_NAMESPACE)) {
    return fail('no-namespace', `no ["L", "${LABEL_NAMESPACE}"] tag`);
  }
  const ls = named('l').filter((t) => t[2] === LABEL_NAMESPACE);
  if (ls.length === 0) return fail('no-label', `no ["l", <type>, "${LABEL_NAMESPACE}"] tag`);
  if (ls.length > 1) return fail('several-labels', 'more than one ai.wot label in one event');
  const type = ls[0]?.[1];
  if (!isLabelType(type)) return fail('unknown-type', `unknown label type ${JSON.stringify(type ?? '')}`);

  if (ps.length === 0) return fail('missing-p', 'no p tag: the label is about nobody');
  if (ps.length > 1) return fail('several-p', 'more than one p tag: a label rates one npub');
  if (subject === undefined) return fail('bad-p', 'the p tag is not a 64-hex pubkey');
  if (subject === event.pubkey) return fail('self-label', 'a label about its own author is ignored');

  const ks = named('k');
  let jobKind: number | undefined;
  if (ks.length > 1) return fail('bad-job-kind', 'more than one k tag');
  if (ks.length === 1) {
    const raw = ks[0]?.[1] ?? '';
    jobKind = /^\d{4}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!isJobRequestKind(jobKind))
      return fail('bad-job-kind', `k ${JSON.stringify(raw)} is not a job kind (5000-5999)`);
  }

  let request: string | undefined;
  let result: string | undefined;
  for (const e of named('e')) {
    if (!isHex64(e[1])) return fail('bad-e', 'an e tag is not a 64-hex event id');
    const marker = e[3] ?? '';
    if (marker === 'request') {
      if (request !== undefined) return fail('bad-e', 'more than one request e tag');
      request = e[1];
    } else if (marker === 'result' || marker === '') {
      if (result !== undefined) return fail('bad-e', 'more than one result e tag');
      result = e[1];
    } else {
      return fail('bad-e', `unknown e marker ${JSON.stringify(marker)} (request or result)`);
    }
  }

  const qs = named('quality');
  let quality: number | undefined;
  if (qs.length > 1) return fail('bad-quality', 'more than one quality tag');
  if (qs.length === 1) {
    const raw = qs[0]?.[1] ?? '';
    if (!QUALITY.test(raw))
      return fail('bad-quality', `quality ${JSON.stringify(raw)} is not a number within 0..1`);
    quality = Number(raw);
  }

  const pays = named(PAYMENT_TAG);
  if (pays.length > 1) return fail('bad-payment', 'more than one payment tag');
  const outcome = named('outcome')[0]?.[1];
  return {
    ok: true,
    label: {
      id: event.id,
      rater: event.pubkey,
      subject,
      type,
      createdAt: event.created_at,
      ...(jobKind !== undefined ? { jobKind } : {}),
      ...(request !== undefined ? { request } : {}),
      ...(result !== undefined ? { result } : {}),
      ...(quality !== undefined ? { quality } : {}),
      ...(outcome !== undefined ? { outcome } : {}),
      payment: checkPaymentEvidence(pays[0]),
    },
  };
}
