/**
 * Project-defined coordination events (not NIPs; docs/protocol.md): the coordinator's job assignment
 * (kind 7600, regular) and the agents' heartbeat (kind 20600, ephemeral).
 */
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import {
  ASSIGNMENT_KIND,
  DvmEventError,
  HEARTBEAT_KIND,
  isHex64,
  isJobRequestKind,
  JOB_REQUEST_MAX,
  JOB_REQUEST_MIN,
  parseNonNegativeInt,
  quote,
} from './kinds.ts';

export class CoordinationError extends DvmEventError {
  constructor(message: string) {
    super(message);
    this.name = 'CoordinationError';
  }
}

export interface AssignmentSpec {
  /** The job request being assigned. */
  request: Pick<NostrEvent, 'id' | 'pubkey' | 'kind'>;
  /** The agent's pubkey. */
  agent: string;
  /** Which attempt at the job this is (1 for the first; a reassignment counts up). */
  attempt: number;
  createdAt?: number;
}

/**
 * A kind 7600 template: ["e", request id], ["p", agent], ["k", request kind], ["attempt", n],
 * ["customer", request author]. Throws RangeError on a bad pubkey, kind or attempt.
 */
export function buildAssignment(spec: AssignmentSpec): EventTemplate {
  if (!isHex64(spec.agent)) throw new RangeError('agent must be a pubkey of 64 lowercase hex characters');
  if (!isJobRequestKind(spec.request.kind))
    throw new RangeError(
      `kind ${spec.request.kind} is not a job request kind (${JOB_REQUEST_MIN}-${JOB_REQUEST_MAX})`,
    );
  if (!Number.isSafeInteger(spec.attempt) || spec.attempt < 0)
    throw new RangeError(`attempt must be a non-negative integer, got ${String(spec.attempt)}`);
  return {
    kind: ASSIGNMENT_KIND,
    created_at: spec.createdAt ?? Math.floor(Date.now() / 1000),
    tags: [
      ['e', spec.request.id],
      ['p', spec.agent],
      ['k', String(spec.request.kind)],
      ['attempt', String(spec.attempt)],
      ['customer', spec.request.pubkey],
    ],
    content: '',
  };
}

export interface Assignment {
  /** The assignment's author. */
  coordinator: string;
  requestId: string;
  agent: string;
  /** The request's kind. */
  kind: number;
  attempt: number;
  customer: string;
  createdAt: number;
}

function hexTag(event: NostrEvent, name: string, what: string): string {
  const value = event.tags.find((t) => t[0] === name)?.[1];
  if (!isHex64(value))
    throw new CoordinationError(`the ${name} tag must hold ${what} (64 lowercase hex characters)`);
  return value;
}

/** Reads a kind 7600 event. Throws CoordinationError. */
export function parseAssignment(event: NostrEvent): Assignment {
  if (event.kind !== ASSIGNMENT_KIND)
    throw new CoordinationError(`kind ${String(event.kind)} is not an assignment (kind ${ASSIGNMENT_KIND})`);
  const requestId = hexTag(event, 'e', 'the job request id');
  const agent = hexTag(event, 'p', "the agent's pubkey");
  const customer = hexTag(event, 'customer', "the customer's pubkey");
  const rawKind = event.tags.find((t) => t[0] === 'k')?.[1];
  const kind = parseNonNegativeInt(rawKind);
  if (kind === undefined || !isJobRequestKind(kind))
    throw new CoordinationError(`the k tag must hold a job request kind, got ${quote(String(rawKind))}`);
  const rawAttempt = event.tags.find((t) => t[0] === 'attempt')?.[1];
  const attempt = parseNonNegativeInt(rawAttempt);
  if (attempt === undefined)
    throw new CoordinationError(
      `the attempt tag must hold a non-negative integer, got ${quote(String(rawAttempt))}`,
    );
  return {
    coordinator: event.pubkey,
    requestId,
    agent,
    kind,
    attempt,
    customer,
    createdAt: event.created_at,
  };
}

export interface HeartbeatSpec {
  /** The job kinds the agent serves now. */
  kinds: number[];
  /** Jobs in progress. */
  load: number;
  /** The most jobs the agent runs at once. */
  capacity?: number;
  /** The agent's software version. */
  version?: string;
  createdAt?: number;
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * A kind 20600 template: ["k", kind] per kind, ["load", n], ["capacity", n] and ["version", v] when given.
 * Throws RangeError on a bad kind, load or capacity.
 */
export function buildHeartbeat(spec: HeartbeatSpec): EventTemplate {
  for (const k of spec.kinds)
    if (!isJobRequestKind(k)) throw new RangeError(`kind ${String(k)} is not a job request kind`);
  if (!isCount(spec.load))
    throw new RangeError(`load must be a non-negative integer, got ${String(spec.load)}`);
  if (spec.capacity !== undefined && !isCount(spec.capacity))
    throw new RangeError(`capacity must be a non-negative integer, got ${String(spec.capacity)}`);
  const tags = [...new Set(spec.kinds)].map((k) => ['k', String(k)]);
  tags.push(['load', String(spec.load)]);
  if (spec.capacity !== undefined) tags.push(['capacity', String(spec.capacity)]);
  if (spec.version) tags.push(['version', spec.version]);
  return {
    kind: HEARTBEAT_KIND,
    created_at: spec.createdAt ?? Math.floor(Date.now() / 1000),
    tags,
    content: '',
  };
}

export interface Heartbeat {
  /** The agent. */
  pubkey: string;
  kinds: number[];
  load: number;
  capacity: number | undefined;
  /** '' when not given. */
  version: string;
  /** The event's created_at (unix seconds). */
  at: number;
}

/** Reads a kind 20600 event. Throws CoordinationError. */
export function parseHeartbeat(event: NostrEvent): Heartbeat {
  if (event.kind !== HEARTBEAT_KIND)
    throw new CoordinationError(`kind ${String(event.kind)} is not a heartbeat (kind ${HEARTBEAT_KIND})`);
  const kinds: number[] = [];
  let load: number | undefined;
  let capacity: number | undefined;
  let version = '';
  for (const t of event.tags) {
    if (t[0] === 'k') {
      const k = parseNonNegativeInt(t[1]);
      if (k === undefined || !isJobRequestKind(k))
        throw new CoordinationError(`the k tag must hold a job request kind, got ${quote(String(t[1]))}`);
      if (!kinds.includes(k)) kinds.push(k);
    } else if (t[0] === 'load' && load === undefined) {
      load = parseNonNegativeInt(t[1]);
      if (load === undefined)
        throw new CoordinationError(
          `the load tag must hold a non-negative integer, got ${quote(String(t[1]))}`,
        );
    } else if (t[0] === 'capacity' && capacity === undefined) {
      capacity = parseNonNegativeInt(t[1]);
      if (capacity === undefined)
        throw new CoordinationError(
          `the capacity tag must hold a non-negative integer, got ${quote(String(t[1]))}`,
        );
    } else if (t[0] === 'version' && version === '') {
      version = t[1] ?? '';
    }
  }
  if (load === undefined)
    throw new CoordinationError('a heartbeat needs a load tag: ["load", "<jobs in progress>"]');
  return { pubkey: event.pubkey, kinds, load, capacity, version, at: event.created_at };
}
