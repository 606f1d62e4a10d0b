/**
 * The agents' work log's database (`<dataDir>/work.sqlite`): its versioned schema and how rows read back.
 * agents/runtime/work-log.ts is the only user.
 */
import type { NostrEvent } from '../../core/nostr.ts';
import type { WorkItem, WorkRecord, WorkState } from './work-log.ts';

/**
 * Migrations (append, never edit):
 * - `work`: one row per accepted assignment (agent, job, attempt), with the assignment and the request as
 *   read from the relay, and where the attempt stands.
 * - `records`: what an attempt did, one row each: `effect` (a value made once and reused on resume: key →
 *   JSON value), `outbox` (a signed event, `published` once the relay took it), `note` (text for a person).
 * - `leases`: which process runs which agent now.
 * - 2: `records.refused`: why the relay refused an outbox event for good (its `published` is then 2).
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE work (
    agent TEXT NOT NULL,
    job_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    desk TEXT NOT NULL,
    kind INTEGER NOT NULL,
    customer TEXT NOT NULL,
    assignment TEXT NOT NULL,
    request TEXT NOT NULL,
    price_msats INTEGER,
    state TEXT NOT NULL,
    reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (agent, job_id, attempt)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX work_open ON work (agent, created_at) WHERE state = 'assigned';

  CREATE TABLE records (
    seq INTEGER PRIMARY KEY,
    agent TEXT NOT NULL,
    job_id TEXT NOT NULL,
    type TEXT NOT NULL,
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    published INTEGER NOT NULL DEFAULT 0,
    at INTEGER NOT NULL
  ) STRICT;
  CREATE UNIQUE INDEX records_key ON records (agent, job_id, type, key) WHERE type <> 'note';
  CREATE INDEX records_job ON records (agent, job_id, seq);
  CREATE INDEX records_pending ON records (agent, seq) WHERE type = 'outbox' AND published = 0;

  CREATE TABLE leases (
    agent TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    started_at INTEGER NOT NULL
  ) STRICT;
  `,
  'ALTER TABLE records ADD COLUMN refused TEXT',
];

export interface WorkRow {
  agent: string;
  job_id: string;
  attempt: number;
  desk: string;
  kind: number;
  customer: string;
  assignment: string;
  request: string;
  price_msats: number | null;
  state: WorkState;
  reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface RecordRow {
  seq: number;
  type: string;
  key: string;
  data: string;
  /** 0 to send, 1 published, 2 refused by the relay for good. */
  published: number;
  refused: string | null;
  at: number;
}

export function toItem(r: WorkRow): WorkItem {
  return {
    agent: r.agent,
    jobId: r.job_id,
    attempt: r.attempt,
    desk: r.desk,
    kind: r.kind,
    customer: r.customer,
    assignment: JSON.parse(r.assignment) as NostrEvent,
    request: JSON.parse(r.request) as NostrEvent,
    priceMsats: r.price_msats ?? undefined,
    state: r.state,
    reason: r.reason ?? undefined,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toRecord(r: RecordRow): WorkRecord {
  const data = JSON.parse(r.data) as unknown;
  if (r.type === 'effect') return { seq: r.seq, at: r.at, type: 'effect', key: r.key, value: data };
  if (r.type === 'outbox')
    return {
      seq: r.seq,
      at: r.at,
      type: 'outbox',
      key: r.key,
      event: data as NostrEvent,
      published: r.published === 1,
      ...(r.refused === null ? {} : { refused: r.refused }),
    };
  return { seq: r.seq, at: r.at, type: 'note', text: String(data) };
}
