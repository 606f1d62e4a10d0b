/**
 * The relay events the swarm graph reads, each reduced to the facts the graph draws: who (pubkeys), which job,
 * what happened. Lenient on purpose (a graph is not a verifier): an event missing what the graph needs is
 * skipped (undefined), never thrown on. Tags as docs/protocol.md gives them.
 */
import { AUCTION_OPEN_KIND, AUCTION_RECORD_KIND, BID_COMMITMENT_KIND } from '../../../auction/kinds.ts';
import type { NostrEvent } from '../../../core/nostr.ts';
import {
  ASSIGNMENT_KIND,
  FEEDBACK_KIND,
  FORWARD_KIND,
  HEARTBEAT_KIND,
  JOB_KINDS,
  JOB_REQUEST_MIN,
  JOB_RESULT_MIN,
  RESULT_KIND_OFFSET,
} from '../../../dvm/kinds.ts';

export const LABEL_KIND = 1985;
export const DVM_HEARTBEAT_KIND = 11998;

export type FeedbackStatus = 'payment-required' | 'processing' | 'success' | 'error' | 'partial';

export type SwarmEvent =
  | { type: 'request'; job: string; customer: string; jobKind: number }
  | { type: 'auction-open'; job: string; desk: string; customer?: string; bidders: string[] }
  | { type: 'bid'; job: string; agent: string }
  | { type: 'auction-record'; job: string; desk: string; winner?: string; priceMsats?: number }
  | { type: 'assignment'; job: string; desk: string; agent: string; customer?: string; attempt: number }
  | { type: 'feedback'; job: string; from: string; customer?: string; status: FeedbackStatus }
  | { type: 'result'; job: string; agent: string; customer?: string; amountMsats?: number }
  | { type: 'label'; author: string; subject: string; job?: string; paid: boolean; label: string }
  | { type: 'heartbeat'; agent: string; busy: boolean }
  | { type: 'forward'; job: string; desk: string; peer: string };

const HEX64 = /^[0-9a-f]{64}$/;

function first(tags: readonly (readonly string[])[], name: string): string | undefined {
  for (const t of tags) if (t[0] === name && typeof t[1] === 'string') return t[1];
  return undefined;
}

function pubkeyTag(tags: readonly (readonly string[])[], name: string): string | undefined {
  const v = first(tags, name);
  return v !== undefined && HEX64.test(v) ? v : undefined;
}

function count(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,15}$/.test(v)) return undefined;
  return Number(v);
}

const FEEDBACK_STATUS: Record<string, FeedbackStatus> = {
  'payment-required': 'payment-required',
  payment_required: 'payment-required',
  processing: 'processing',
  scheduled: 'processing',
  success: 'success',
  error: 'error',
  partial: 'partial',
};

/** The relay filters that bring every event `readSwarmEvent` reads, live from `since` (unix seconds). */
export function swarmFilters(since: number): { kinds: number[]; since: number }[] {
  const jobKinds = JOB_KINDS.map((k) => k.kind);
  return [
    {
      kinds: [
        FEEDBACK_KIND,
        ASSIGNMENT_KIND,
        AUCTION_OPEN_KIND,
        BID_COMMITMENT_KIND,
        AUCTION_RECORD_KIND,
        LABEL_KIND,
        HEARTBEAT_KIND,
        DVM_HEARTBEAT_KIND,
        FORWARD_KIND,
      ],
      since,
    },
    { kinds: [...jobKinds, ...jobKinds.map((k) => k + RESULT_KIND_OFFSET)], since },
  ];
}

export function readSwarmEvent(e: NostrEvent): SwarmEvent | undefined {
  const tags = e.tags;
  const k = e.kind;
  if (!HEX64.test(e.pubkey)) return undefined;
  if (k >= JOB_REQUEST_MIN && k < JOB_REQUEST_MIN + 1000)
    return { type: 'request', job: e.id, customer: e.pubkey, jobKind: k };
  if (k >= JOB_RESULT_MIN && k < JOB_RESULT_MIN + 1000) {
    const job = pubkeyTag(tags, 'e');
    if (!job) return undefined;
    const customer = tags.find((t) => t[0] === 'p' && t[1] !== e.pubkey && HEX64.test(t[1] ?? ''))?.[1];
    const amountMsats = count(first(tags, 'amount'));
    return {
      type: 'result',
      job,
      agent: e.pubkey,
      ...(customer ? { customer } : {}),
      ...(amountMsats !== undefined ? { amountMsats } : {}),
    };
  }
  switch (k) {
    case FEEDBACK_KIND: {
      const job = pubkeyTag(tags, 'e');
      const status = FEEDBACK_STATUS[first(tags, 'status') ?? ''];
      if (!job || !status) return undefined;
      const customer = pubkeyTag(tags, 'p');
      return { type: 'feedback', job, from: e.pubkey, status, ...(customer ? { customer } : {}) };
    }
    case ASSIGNMENT_KIND: {
      const job = pubkeyTag(tags, 'e');
      const agent = pubkeyTag(tags, 'p');
      if (!job || !agent) return undefined;
      const customer = pubkeyTag(tags, 'customer');
      const attempt = count(first(tags, 'attempt')) ?? 1;
      return { type: 'assignment', job, desk: e.pubkey, agent, attempt, ...(customer ? { customer } : {}) };
    }
    case AUCTION_OPEN_KIND: {
      const job = pubkeyTag(tags, 'e');
      if (!job) return undefined;
      const customer = pubkeyTag(tags, 'p');
      const bidders = tags.filter((t) => t[0] === 'bidder' && HEX64.test(t[1] ?? '')).map((t) => t[1] ?? '');
      return { type: 'auction-open', job, desk: e.pubkey, bidders, ...(customer ? { customer } : {}) };
    }
    case BID_COMMITMENT_KIND: {
      const job = pubkeyTag(tags, 'job');
      return job ? { type: 'bid', job, agent: e.pubkey } : undefined;
    }
    case AUCTION_RECORD_KIND: {
      const job = pubkeyTag(tags, 'job');
      if (!job) return undefined;
      const w = tags.find((t) => t[0] === 'winner' && HEX64.test(t[1] ?? ''));
      const priceMsats = count(first(tags, 'price'));
      return {
        type: 'auction-record',
        job,
        desk: e.pubkey,
        ...(w?.[1] ? { winner: w[1] } : {}),
        ...(priceMsats !== undefined ? { priceMsats } : {}),
      };
    }
    case LABEL_KIND: {
      if (first(tags, 'L') !== 'ai.wot') return undefined;
      const subject = pubkeyTag(tags, 'p');
      if (!subject) return undefined;
      const job = tags.find((t) => t[0] === 'e' && t[3] === 'request' && HEX64.test(t[1] ?? ''))?.[1];
      const payment = tags.find((t) => t[0] === 'payment');
      return {
        type: 'label',
        author: e.pubkey,
        subject,
        paid: payment !== undefined && typeof payment[2] === 'string' && payment[2] !== '',
        label: first(tags, 'l') ?? 'label',
        ...(job ? { job } : {}),
      };
    }
    case HEARTBEAT_KIND: {
      // Busy while it has a job in progress (the graph's amber), alive otherwise.
      return { type: 'heartbeat', agent: e.pubkey, busy: (count(first(tags, 'load')) ?? 0) > 0 };
    }
    case DVM_HEARTBEAT_KIND: {
      let busy = false;
      try {
        const parsed: unknown = JSON.parse(e.content);
        busy =
          typeof parsed === 'object' && parsed !== null && (parsed as { status?: unknown }).status === 'busy';
      } catch {
        // Other software's plain-text beat: alive, load unknown.
      }
      return { type: 'heartbeat', agent: e.pubkey, busy };
    }
    case FORWARD_KIND: {
      const job = pubkeyTag(tags, 'e');
      const peer = pubkeyTag(tags, 'p');
      return job && peer ? { type: 'forward', job, desk: e.pubkey, peer } : undefined;
    }
    default:
      return undefined;
  }
}
