import type Database from 'better-sqlite3';
import type { KeyRow } from './sqlite-rows.ts';
import type { StoredCursor, StoredEvent } from './stored-cursor.ts';

/** About how many bytes of events one read of a cursor brings in; the batch size adapts to the events' sizes. */
const BATCH_BYTES = 256 * 1024;
const FIRST_BATCH = 8;
const MAX_BATCH = 256;

/**
 * relay/sqlite-store.ts `openCursor`: the answer's keys (NIP-01 order, a few dozen bytes each) are selected
 * up front; the events' stored text is read in small batches as the cursor is walked (rowid lookups), sized
 * to about BATCH_BYTES, so a large answer waiting for a slow client holds its keys and one batch at most.
 * An event deleted (or replaced) in the meantime is skipped.
 */
export class SqliteCursor implements StoredCursor {
  private keys: KeyRow[] | undefined;
  private at = 0;
  private batch: StoredEvent[] = [];
  private inBatch = 0;
  private batchSize = FIRST_BATCH;

  constructor(
    keys: KeyRow[],
    /** `SELECT e.seq, e.id, e.raw FROM events e WHERE e.seq IN (SELECT value FROM json_each(?))`. */
    private readonly readBatch: () => Database.Statement,
  ) {
    this.keys = keys;
  }

  next(): StoredEvent | undefined {
    while (this.inBatch >= this.batch.length) {
      if (!this.keys || this.at >= this.keys.length) {
        this.close();
        return undefined;
      }
      this.read();
    }
    return this.batch[this.inBatch++];
  }

  close(): void {
    this.keys = undefined;
    this.batch = [];
    this.inBatch = 0;
  }

  private read(): void {
    const keys = (this.keys as KeyRow[]).slice(this.at, this.at + this.batchSize);
    this.at += keys.length;
    const rows = this.readBatch()
      .raw()
      .all(JSON.stringify(keys.map((k) => k[2]))) as [seq: number, id: string, raw: string][];
    const bySeq = new Map<number, [number, string, string]>();
    let bytes = 0;
    for (const r of rows) {
      bySeq.set(r[0], r);
      bytes += r[2].length;
    }
    this.batch = [];
    this.inBatch = 0;
    for (const [id, , seq, kind] of keys) {
      const row = bySeq.get(seq);
      if (row && row[1] === id) this.batch.push({ id, kind, json: row[2] });
    }
    const average = rows.length > 0 ? bytes / rows.length : 1;
    this.batchSize = Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_BYTES / Math.max(1, average))));
  }
}
