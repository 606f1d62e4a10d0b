/**
 * The heartbeat outside clients understand (kind 11998, the nostrdvm convention; docs/protocol.md): a
 * replaceable event an agent publishes on its own relay every `federation.heartbeatSeconds`, naming its NIP-89
 * announcement (`d`) and expiring (NIP-40) after two intervals, so a client that sees one unexpired knows the
 * DVM was alive within the last interval. The internal heartbeat (kind 20600, dvm/coordination.ts) stays the
 * desk's live signal.
 */
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import { DvmEventError, parseNonNegativeInt, quote } from './kinds.ts';

export const DVM_HEARTBEAT_KIND = 11998;

export class DvmHeartbeatError extends DvmEventError {
  constructor(message: string) {
    super(message);
    this.name = 'DvmHeartbeatError';
  }
}

/** What the content says about the agent: `online`, or `busy` while every slot is taken. */
export type DvmStatus = 'online' | 'busy';

export interface DvmHeartbeatSpec {
  /** The `d` tag of the agent's NIP-89 announcement (kind 31990). */
  d: string;
  /** Seconds until the next beat; the event expires after twice this. */
  intervalSeconds: number;
  /** Jobs in progress and the most it runs at once (the content's status and numbers). */
  load: number;
  capacity?: number;
  createdAt?: number;
}

/**
 * A kind 11998 template: ["d", d], ["expiration", created_at + 2 × interval]; content = JSON
 * `{"status", "load", "capacity"?}`. Throws RangeError on an empty d, a non-positive interval, a bad count.
 */
export function buildDvmHeartbeat(spec: DvmHeartbeatSpec): EventTemplate {
  if (spec.d === '') throw new RangeError('the d tag of a heartbeat must name the NIP-89 announcement');
  if (!Number.isSafeInteger(spec.intervalSeconds) || spec.intervalSeconds <= 0)
    throw new RangeError(
      `the heartbeat interval must be a positive number of seconds, got ${spec.intervalSeconds}`,
    );
  if (!isCount(spec.load))
    throw new RangeError(`load must be a non-negative integer, got ${String(spec.load)}`);
  if (spec.capacity !== undefined && !isCount(spec.capacity))
    throw new RangeError(`capacity must be a non-negative integer, got ${String(spec.capacity)}`);
  const createdAt = spec.createdAt ?? Math.floor(Date.now() / 1000);
  const busy = spec.capacity !== undefined && spec.load >= spec.capacity;
  const content: Record<string, unknown> = { status: busy ? 'busy' : 'online', load: spec.load };
  if (spec.capacity !== undefined) content.capacity = spec.capacity;
  return {
    kind: DVM_HEARTBEAT_KIND,
    created_at: createdAt,
    tags: [
      ['d', spec.d],
      ['expiration', String(createdAt + 2 * spec.intervalSeconds)],
    ],
    content: JSON.stringify(content),
  };
}

export interface DvmHeartbeat {
  pubkey: string;
  d: string;
  /** created_at (unix seconds). */
  at: number;
  /** The NIP-40 expiration (unix seconds); undefined when the beat has none (other software's). */
  expiresAt: number | undefined;
  /** From the content; '' when it says none (other software writes plain text or nothing). */
  status: string;
  load: number | undefined;
  capacity: number | undefined;
}

/**
 * Reads a kind 11998 event. Throws DvmHeartbeatError on another kind, a missing or empty d, a malformed
 * expiration; content that is not our JSON is not an error (status '').
 */
export function parseDvmHeartbeat(event: NostrEvent): DvmHeartbeat {
  if (event.kind !== DVM_HEARTBEAT_KIND)
    throw new DvmHeartbeatError(
      `kind ${String(event.kind)} is not a DVM heartbeat (kind ${DVM_HEARTBEAT_KIND})`,
    );
  const d = event.tags.find((t) => t[0] === 'd')?.[1];
  if (d === undefined || d === '')
    throw new DvmHeartbeatError('a DVM heartbeat needs a d tag naming its NIP-89 announcement: ["d", "<d>"]');
  const rawExpiration = event.tags.find((t) => t[0] === 'expiration')?.[1];
  const expiresAt = rawExpiration === undefined ? undefined : parseNonNegativeInt(rawExpiration);
  if (rawExpiration !== undefined && expiresAt === undefined)
    throw new DvmHeartbeatError(`the expiration tag must hold unix seconds, got ${quote(rawExpiration)}`);
  const content = readContent(event.content);
  return {
    pubkey: event.pubkey,
    d,
    at: event.created_at,
    expiresAt,
    status: typeof content.status === 'string' ? content.status : '',
    load: countOf(content.load),
    capacity: countOf(content.capacity),
  };
}

/** Whether the beat still vouches for the agent at `nowSeconds`: not expired (one without expiration: within 900 s). */
export function dvmHeartbeatFresh(beat: DvmHeartbeat, nowSeconds: number): boolean {
  return beat.expiresAt !== undefined ? nowSeconds < beat.expiresAt : nowSeconds - beat.at <= 900;
}

function readContent(content: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(content);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function countOf(value: unknown): number | undefined {
  return typeof value === 'number' && isCount(value) ? value : undefined;
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
