/**
 * The durable job state machine, as a pure fold: a job's state is what its log entries (dvm/job-log.ts
 * stores them, one SQLite row each) add up to. Nothing here does I/O or reads a clock: the same entries
 * always fold to the same view, which is what lets a killed process resume a job from its log without
 * repeating a side effect (the `effect` and `outbox` records say what was already done).
 *
 *   posted ──approval-required──▶ awaiting-approval ──approved──▶ posted
 *                                                   └─rejected──▶ cancelled
 *   posted ──bidding──▶ bidding
 *   posted | bidding ──assigned──▶ assigned ──started──▶ executing
 *   assigned | executing ──agent-lost──▶ posted (reassignable; the attempt counter keeps counting)
 *   posted | bidding | assigned | executing ──payment-required──▶ awaiting-payment ──paid──▶ (back to
 *     where it came from: Timmy asks for payment once the price is known, before assigning the winner)
 *   assigned | executing ──completed──▶ completed
 *   posted ──forwarded──▶ forwarded (a peer desk took it: docs/federation.md)
 *   any non-terminal ──failed──▶ failed, ──cancelled──▶ cancelled
 *
 * Records (`effect`, `outbox`, `published`, `note`) change no state and are allowed in every state, the
 * terminal ones included (a failed job's error feedback is an outbox event appended after `failed`).
 */
import { type NostrEvent, plainEvent } from '../core/nostr.ts';

export type JobStateName =
  | 'posted'
  | 'awaiting-approval'
  | 'bidding'
  | 'assigned'
  | 'executing'
  | 'awaiting-payment'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'forwarded';

export const JOB_STATES: readonly JobStateName[] = [
  'posted',
  'awaiting-approval',
  'bidding',
  'assigned',
  'executing',
  'awaiting-payment',
  'completed',
  'failed',
  'cancelled',
  'forwarded',
];

export const TERMINAL_STATES: readonly JobStateName[] = ['completed', 'failed', 'cancelled', 'forwarded'];

/** Entries that move a job from one state to another. */
export type JobTransitionEntry =
  | { type: 'posted'; request: NostrEvent }
  | { type: 'approval-required'; reason: string }
  | { type: 'approved'; by: string }
  | { type: 'rejected'; by: string; reason: string }
  | { type: 'bidding'; until: number }
  | { type: 'assigned'; agent: string; attempt: number }
  | { type: 'started'; agent: string }
  | { type: 'agent-lost'; agent: string; reason: string }
  | { type: 'payment-required'; amountMsats: number; bolt11: string }
  | { type: 'paid'; preimage?: string }
  | { type: 'completed'; result: NostrEvent; agent: string }
  | { type: 'failed'; reason: string }
  | { type: 'cancelled'; reason: string }
  /** Handed to a peer's desk (`to`, found on `relay`), which answers the customer itself. */
  | { type: 'forwarded'; to: string; relay: string };

/** Entries that record something about a job without changing its state. */
export type JobRecordEntry =
  | { type: 'effect'; key: string; value: unknown }
  | { type: 'outbox'; key: string; event: NostrEvent }
  /** The relay took the outbox event; with `refused`, it refused it for good (the reason): not published. */
  | { type: 'published'; key: string; refused?: string }
  | { type: 'note'; text: string };

/** One row of a job's log. Every entry is JSON-serialisable (`effect.value` included). */
export type JobEntry = JobTransitionEntry | JobRecordEntry;
export type JobEntryType = JobEntry['type'];

/** An entry with its place in the log: `seq` is global and increasing, `at` is milliseconds since the epoch. */
export interface JobLogEntry {
  seq: number;
  at: number;
  entry: JobEntry;
}

export interface JobPayment {
  readonly amountMsats: number;
  readonly bolt11: string;
  readonly paid: boolean;
  readonly preimage?: string;
}

export interface JobOutboxItem {
  readonly key: string;
  readonly event: NostrEvent;
  readonly published: boolean;
  /** The relay refused it for good: why (it is not published, and not sent again). */
  readonly refused?: string;
}

export interface JobHistoryItem {
  /** The state the job entered. */
  readonly state: JobStateName;
  readonly at: number;
  readonly seq: number;
  /** The type of the entry that moved it there. */
  readonly entry: JobEntryType;
}

/**
 * A job as its entries fold it. Views are immutable values: `applyEntry` returns a new one and JobLog shares
 * them with its cache, so never mutate one (the fields are readonly for that reason).
 */
export interface JobView {
  /** The request event's id. */
  readonly id: string;
  /** The request's kind (5000-5999). */
  readonly kind: number;
  /** The request's author. */
  readonly customer: string;
  readonly state: JobStateName;
  readonly request: NostrEvent;
  /** The current assignee (set by `assigned`, cleared by `agent-lost`; kept once terminal). */
  readonly agent: string | undefined;
  /** Assignments made so far: 0 before the first, then 1, 2, … (a lost agent's attempt counts). */
  readonly attempt: number;
  readonly approved: boolean;
  readonly approvedBy?: string;
  /** Until when bids are taken (set by `bidding`). */
  readonly biddingUntil?: number;
  readonly result?: NostrEvent;
  /** The reason given by the last `approval-required`, `rejected`, `failed` or `cancelled` entry. */
  readonly reason?: string;
  readonly payment?: JobPayment;
  /** Recorded side effects by key (e.g. "llm:1:draft" → the recorded completion). */
  readonly effects: Readonly<Record<string, unknown>>;
  /** Signed events to publish, in the order they were recorded. */
  readonly outbox: readonly JobOutboxItem[];
  /** Every state the job entered, in order (records are not in it). */
  readonly history: readonly JobHistoryItem[];
  /** `at` of the `posted` entry. */
  readonly createdAt: number;
  /** `at` of the last entry (records included). */
  readonly updatedAt: number;
  /** `seq` of the last entry. */
  readonly lastSeq: number;
}

/** An entry that is not allowed in the job's current state (or that contradicts it: wrong agent, reused key). */
export class IllegalTransitionError extends Error {
  constructor(
    /** The job's id ('' when the entry came for a job that does not exist and its id is not known). */
    readonly jobId: string,
    /** The job's state; undefined when the job does not exist. */
    readonly from: JobStateName | undefined,
    readonly entryType: string,
    readonly detail?: string,
  ) {
    super(
      `job ${jobId || '(unknown)'}: illegal '${entryType}' entry in state ${from ?? '(no such job)'}${detail ? `: ${detail}` : ''}`,
    );
    this.name = 'IllegalTransitionError';
  }
}

/** An entry whose shape is wrong: refused by `append`, or found in a (corrupted) database row. */
export class InvalidEntryError extends Error {
  constructor(
    readonly detail: string,
    /** The row's seq when the entry was read from the log. */
    readonly seq?: number,
  ) {
    super(`${seq === undefined ? 'invalid job entry' : `job log row seq ${seq} is corrupted`}: ${detail}`);
    this.name = 'InvalidEntryError';
  }
}

/** Whether the entry is a record (`effect`, `outbox`, `published`, `note`): it changes no state. */
export function isRecord(entry: JobEntry): entry is JobRecordEntry {
  const t = entry.type;
  return t === 'effect' || t === 'outbox' || t === 'published' || t === 'note';
}

export function isTerminal(state: JobStateName): boolean {
  return TERMINAL_STATES.includes(state);
}

/** The states the job went through, in order (for comparing a replay with the original run). */
export function transitions(view: JobView): JobStateName[] {
  return view.history.map((h) => h.state);
}

/** Folds a job's entries, in log order, into its view. Throws on an empty list or an illegal entry. */
export function foldJob(entries: readonly JobLogEntry[]): JobView {
  let view: JobView | undefined;
  for (const e of entries) view = applyEntry(view, e.entry, e);
  if (!view) {
    throw new IllegalTransitionError('', undefined, '(none)', 'a job needs at least its posted entry');
  }
  return view;
}

/**
 * The view after one more entry. `view` is undefined for a job's first entry, which must be `posted`.
 * Returns a new view (the given one is left as it was); throws IllegalTransitionError.
 */
export function applyEntry(
  view: JobView | undefined,
  entry: JobEntry,
  meta: { readonly seq: number; readonly at: number },
): JobView {
  if (view === undefined) {
    if (entry.type !== 'posted') throw new IllegalTransitionError('', undefined, entry.type);
    const r = entry.request;
    return {
      id: r.id,
      kind: r.kind,
      customer: r.pubkey,
      state: 'posted',
      request: r,
      agent: undefined,
      attempt: 0,
      approved: false,
      effects: {},
      outbox: [],
      history: [{ state: 'posted', at: meta.at, seq: meta.seq, entry: 'posted' }],
      createdAt: meta.at,
      updatedAt: meta.at,
      lastSeq: meta.seq,
    };
  }
  const from = view.state;
  const illegal = (detail?: string): IllegalTransitionError =>
    new IllegalTransitionError(view.id, from, entry.type, detail);
  const record = (changes: Partial<JobView>): JobView => ({
    ...view,
    ...changes,
    updatedAt: meta.at,
    lastSeq: meta.seq,
  });
  const move = (
    to: JobStateName,
    allowed: readonly JobStateName[] | 'non-terminal',
    changes: Partial<JobView> = {},
  ): JobView => {
    if (allowed === 'non-terminal' ? isTerminal(from) : !allowed.includes(from)) throw illegal();
    return record({
      ...changes,
      state: to,
      history: [...view.history, { state: to, at: meta.at, seq: meta.seq, entry: entry.type }],
    });
  };

  switch (entry.type) {
    case 'posted':
      throw illegal('the job was already posted');
    case 'approval-required':
      return move('awaiting-approval', ['posted'], { reason: entry.reason });
    case 'approved':
      return move('posted', ['awaiting-approval'], { approved: true, approvedBy: entry.by });
    case 'rejected':
      return move('cancelled', ['awaiting-approval'], { reason: entry.reason });
    case 'bidding':
      return move('bidding', ['posted'], { biddingUntil: entry.until });
    case 'assigned':
      if (from === 'posted' || from === 'bidding') {
        if (entry.attempt !== view.attempt + 1) {
          throw illegal(`attempt ${entry.attempt}, expected ${view.attempt + 1}`);
        }
      }
      return move('assigned', ['posted', 'bidding'], { agent: entry.agent, attempt: entry.attempt });
    case 'started':
      if (from === 'assigned') checkAgent(view, entry.agent, illegal);
      return move('executing', ['assigned']);
    case 'agent-lost':
      if (from === 'assigned' || from === 'executing') checkAgent(view, entry.agent, illegal);
      return move('posted', ['assigned', 'executing'], { agent: undefined });
    case 'payment-required':
      return move('awaiting-payment', ['posted', 'bidding', 'assigned', 'executing'], {
        payment: { amountMsats: entry.amountMsats, bolt11: entry.bolt11, paid: false },
      });
    case 'paid': {
      if (from !== 'awaiting-payment' || !view.payment) throw illegal();
      // awaiting-payment only ever leaves by `paid`, `failed` or `cancelled`: the entry before it in the
      // history is the state it was entered from.
      const back = view.history[view.history.length - 2]?.state;
      if (back !== 'posted' && back !== 'bidding' && back !== 'assigned' && back !== 'executing')
        throw illegal(`cannot tell where to return (${back})`);
      const payment: JobPayment =
        entry.preimage === undefined
          ? { ...view.payment, paid: true }
          : { ...view.payment, paid: true, preimage: entry.preimage };
      return move(back, ['awaiting-payment'], { payment });
    }
    case 'completed':
      if (from === 'assigned' || from === 'executing') checkAgent(view, entry.agent, illegal);
      return move('completed', ['assigned', 'executing'], { result: entry.result });
    case 'failed':
      return move('failed', 'non-terminal', { reason: entry.reason });
    case 'cancelled':
      return move('cancelled', 'non-terminal', { reason: entry.reason });
    case 'forwarded':
      // From bidding too: an auction that found no live bidder hands the job on like a posted one.
      return move('forwarded', ['posted', 'bidding'], { reason: `forwarded to ${entry.to}` });
    case 'effect':
      if (Object.hasOwn(view.effects, entry.key)) throw illegal(`effect '${entry.key}' is already recorded`);
      // A computed key in a literal defines an own property, even for '__proto__'.
      return record({ effects: { ...view.effects, [entry.key]: entry.value } });
    case 'outbox':
      if (view.outbox.some((o) => o.key === entry.key)) throw illegal(`outbox '${entry.key}' already exists`);
      return record({ outbox: [...view.outbox, { key: entry.key, event: entry.event, published: false }] });
    case 'published': {
      const i = view.outbox.findIndex((o) => o.key === entry.key);
      const item = view.outbox[i];
      if (!item) throw illegal(`no outbox entry '${entry.key}'`);
      if (item.published || item.refused !== undefined)
        throw illegal(`outbox '${entry.key}' is already ${item.published ? 'published' : 'refused'}`);
      const outbox = view.outbox.slice();
      outbox[i] =
        entry.refused === undefined ? { ...item, published: true } : { ...item, refused: entry.refused };
      return record({ outbox });
    }
    case 'note':
      return record({});
  }
}

function checkAgent(view: JobView, agent: string, illegal: (detail: string) => Error): void {
  if (agent !== view.agent) throw illegal(`agent ${agent} is not the assignee (${view.agent ?? 'none'})`);
}

// ---------------------------------------------------------------------------------------------------------
// Shape validation

type Obj = Record<string, unknown>;

/**
 * Checks that `json` (a parsed log row, or an entry about to be appended) is a well-formed entry and returns
 * it as a fresh object holding only the entry's own fields (NostrEvents reduced to their seven NIP-01
 * fields). Throws InvalidEntryError naming the field; with `seq`, the error names the log row.
 */
export function parseEntry(json: unknown, seq?: number): JobEntry {
  const fail = (detail: string): never => {
    throw new InvalidEntryError(detail, seq);
  };
  if (!isObject(json)) return fail(`expected an object, got ${describe(json)}`);
  const o = json;
  const type = o.type;
  const str = (name: string, nonEmpty = true): string => {
    const v = o[name];
    if (typeof v !== 'string' || (nonEmpty && v === '')) {
      return fail(
        `${String(type)}.${name}: expected a ${nonEmpty ? 'non-empty ' : ''}string, got ${describe(v)}`,
      );
    }
    return v;
  };
  const int = (name: string, min: number): number => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      return fail(`${String(type)}.${name}: expected an integer >= ${min}, got ${describe(v)}`);
    }
    return v;
  };
  const event = (name: string): NostrEvent => {
    const v = o[name];
    const problem = eventProblem(v);
    if (problem !== undefined) return fail(`${String(type)}.${name}: ${problem}`);
    return plainEvent(v as NostrEvent);
  };
  switch (type) {
    case 'posted':
      return { type, request: event('request') };
    case 'approval-required':
      return { type, reason: str('reason', false) };
    case 'approved':
      return { type, by: str('by') };
    case 'rejected':
      return { type, by: str('by'), reason: str('reason', false) };
    case 'bidding':
      return { type, until: int('until', 0) };
    case 'assigned':
      return { type, agent: str('agent'), attempt: int('attempt', 1) };
    case 'started':
      return { type, agent: str('agent') };
    case 'agent-lost':
      return { type, agent: str('agent'), reason: str('reason', false) };
    case 'payment-required':
      return { type, amountMsats: int('amountMsats', 0), bolt11: str('bolt11') };
    case 'paid':
      return o.preimage === undefined ? { type } : { type, preimage: str('preimage') };
    case 'completed':
      return { type, result: event('result'), agent: str('agent') };
    case 'failed':
      return { type, reason: str('reason', false) };
    case 'cancelled':
      return { type, reason: str('reason', false) };
    case 'forwarded':
      return { type, to: str('to'), relay: str('relay') };
    case 'effect':
      if (!('value' in o) || o.value === undefined) {
        return fail('effect.value: missing (use null for "nothing")');
      }
      return { type, key: str('key'), value: o.value };
    case 'outbox':
      return { type, key: str('key'), event: event('event') };
    case 'published':
      return o.refused === undefined
        ? { type, key: str('key') }
        : { type, key: str('key'), refused: str('refused', false) };
    case 'note':
      return { type, text: str('text', false) };
    default:
      return fail(`unknown entry type ${describe(type)}`);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

function eventProblem(v: unknown): string | undefined {
  if (!isObject(v)) return `expected a Nostr event, got ${describe(v)}`;
  if (typeof v.id !== 'string' || !HEX64.test(v.id)) {
    return `id: expected 64 hex digits, got ${describe(v.id)}`;
  }
  if (typeof v.pubkey !== 'string' || !HEX64.test(v.pubkey)) {
    return `pubkey: expected 64 hex digits, got ${describe(v.pubkey)}`;
  }
  if (typeof v.created_at !== 'number' || !Number.isSafeInteger(v.created_at)) {
    return `created_at: expected an integer, got ${describe(v.created_at)}`;
  }
  if (typeof v.kind !== 'number' || !Number.isSafeInteger(v.kind) || v.kind < 0) {
    return `kind: expected an integer >= 0, got ${describe(v.kind)}`;
  }
  if (
    !Array.isArray(v.tags) ||
    !v.tags.every((t) => Array.isArray(t) && t.every((s) => typeof s === 'string'))
  ) {
    return 'tags: expected an array of string arrays';
  }
  if (typeof v.content !== 'string') return `content: expected a string, got ${describe(v.content)}`;
  if (typeof v.sig !== 'string') return `sig: expected a string, got ${describe(v.sig)}`;
  return undefined;
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
