/**
 * Entry of the event store's writer thread (started by relay/sqlite-write-thread.ts): its own connection to
 * the database file (WAL, synchronous=FULL, already migrated by the store), one transaction per `save`
 * request, answered only after the commit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../core/errors.ts';
import type { SaveOutcome } from '../core/event-store.ts';
import { silentLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { openEventDatabase } from './sqlite-schema.ts';
import { EventWriter } from './sqlite-writes.ts';

export type WriterRequest =
  | { id: number; op: 'save'; raws: string[]; now: number }
  | { id: number; op: 'purge'; now: number }
  | { id: number; op: 'close' };

export type WriterReply =
  | { id: number; outcomes: SaveOutcome[] }
  | { id: number; purged: number }
  | { id: number; closed: true }
  /** Sent once, with id 0, when the connection is open. */
  | { id: 0; ready: true }
  | { id: number; error: string };

const { path } = workerData as { path: string };
const db = openEventDatabase(path, silentLogger);
const writer = new EventWriter(db);
parentPort?.postMessage({ id: 0, ready: true } satisfies WriterReply);

/** The stored JSON, parsed again; one that does not parse is saved as malformed (refused), not thrown. */
function parse(raw: string): NostrEvent {
  try {
    return JSON.parse(raw) as NostrEvent;
  } catch {
    return {} as NostrEvent;
  }
}

parentPort?.on('message', (req: WriterRequest) => {
  let reply: WriterReply;
  try {
    if (req.op === 'save') {
      reply = { id: req.id, outcomes: writer.save(req.raws.map(parse), req.raws, req.now) };
    } else if (req.op === 'purge') {
      reply = { id: req.id, purged: writer.purgeExpired(req.now) };
    } else {
      db.close();
      reply = { id: req.id, closed: true };
    }
  } catch (err) {
    reply = { id: req.id, error: errorMessage(err) };
  }
  parentPort?.postMessage(reply);
});
