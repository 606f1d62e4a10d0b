import type Database from 'better-sqlite3';
import type { SaveOutcome } from '../core/event-store.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { plainEvent } from '../core/nostr.ts';
import { INDEXED_TAG_NAME } from './sqlite-filter-sql.ts';
import { expirationOf, isWellFormed, parseCoordinate, replaceableKey } from './sqlite-schema.ts';

/** Saved events between two `PRAGMA optimize` runs (keeps planner statistics current as the data grows). */
const OPTIMIZE_EVERY = 20_000;

const MALFORMED: SaveOutcome = Object.freeze({ status: 'rejected', reason: 'invalid: malformed event' });
const SAVED: SaveOutcome = Object.freeze({ status: 'saved' });
const DUPLICATE: SaveOutcome = Object.freeze({ status: 'duplicate' });
const DELETED: SaveOutcome = Object.freeze({ status: 'rejected', reason: 'blocked: deleted by author' });
const EXPIRED: SaveOutcome = Object.freeze({ status: 'rejected', reason: 'invalid: event is expired' });
const SUPERSEDED: SaveOutcome = Object.freeze({
  status: 'rejected',
  reason: 'duplicate: have a newer version',
});

/**
 * The write side of relay/sqlite-store.ts on one connection: a batch of events saved in one IMMEDIATE
 * transaction (NIP-01 replaceable and addressable rules, NIP-09 deletions, NIP-40 expiration), and the
 * purge of expired events. Runs on the store's thread, or in its writer thread (relay/sqlite-writer.ts).
 */
export class EventWriter {
  private readonly s: ReturnType<typeof prepareWrites>;
  private readonly batch: (
    events: readonly NostrEvent[],
    raws: readonly string[],
    now: number,
  ) => SaveOutcome[];
  private savedSinceOptimize = 0;

  constructor(private readonly db: Database.Database) {
    this.s = prepareWrites(db);
    this.batch = db.transaction((events: readonly NostrEvent[], raws: readonly string[], now: number) =>
      events.map((e, i) => this.saveOne(e, raws[i] ?? '', now)),
    ).immediate;
  }

  /**
   * Saves `events` (each stored as `raws[i]`, its JSON with the NIP-01 fields only) in one transaction;
   * when this returns, the transaction is committed (and, at synchronous=FULL, on disk).
   */
  save(events: readonly NostrEvent[], raws: readonly string[], now: number): SaveOutcome[] {
    if (events.length === 0) return [];
    const outcomes = this.batch(events, raws, now);
    this.savedSinceOptimize += events.length;
    if (this.savedSinceOptimize >= OPTIMIZE_EVERY) {
      this.savedSinceOptimize = 0;
      this.db.pragma('optimize');
    }
    return outcomes;
  }

  purgeExpired(nowSeconds: number): number {
    return this.s.purgeExpired.run(nowSeconds).changes;
  }

  private saveOne(e: NostrEvent, raw: string, now: number): SaveOutcome {
    // Verified events are well-formed, but one that is not must not fail the whole batch's transaction.
    if (!isWellFormed(e) || raw === '') return MALFORMED;
    const s = this.s;
    if (s.hasId.get(e.id) !== undefined) return DUPLICATE;
    if (e.kind !== 5 && s.isDeletedId.get(e.id, e.pubkey) !== undefined) return DELETED;
    const expiration = expirationOf(e);
    if (expiration !== undefined && expiration <= now) return EXPIRED;
    const d = replaceableKey(e);
    if (d !== undefined) {
      const until = s.deletedUntil.get(e.pubkey, e.kind, d) as number | undefined;
      if (until !== undefined && e.created_at <= until) return DELETED;
      const current = s.atAddress.all(e.pubkey, e.kind, d) as {
        seq: number;
        id: string;
        created_at: number;
      }[];
      for (const c of current) {
        // NIP-01: the newest wins; on equal created_at, the lowest id.
        if (c.created_at > e.created_at || (c.created_at === e.created_at && c.id < e.id)) return SUPERSEDED;
      }
      for (const c of current) s.deleteSeq.run(c.seq);
    }
    const seq = s.insertEvent.run(
      e.id,
      e.pubkey,
      e.kind,
      e.created_at,
      d ?? null,
      expiration ?? null,
      raw,
    ).lastInsertRowid;
    for (const t of e.tags) {
      const name = t[0];
      const value = t[1];
      if (name !== undefined && typeof value === 'string' && INDEXED_TAG_NAME.test(name)) {
        s.insertTag.run(name, value, e.created_at, seq);
      }
    }
    if (e.kind === 5) this.applyDeletion(e);
    return SAVED;
  }

  /** NIP-09, for a kind 5 being saved: only the author's own events go, and never another kind 5. */
  private applyDeletion(del: NostrEvent): void {
    for (const t of del.tags) {
      const value = t[1];
      if (typeof value !== 'string') continue;
      if (t[0] === 'e') {
        this.s.deleteById.run(value, del.pubkey);
        this.s.addDeletedId.run(value, del.pubkey);
      } else if (t[0] === 'a') {
        const c = parseCoordinate(value);
        if (!c || c.pubkey !== del.pubkey) continue;
        this.s.deleteAtAddress.run(c.pubkey, c.kind, c.d, del.created_at);
        this.s.addDeletedCoord.run(c.pubkey, c.kind, c.d, del.created_at);
      }
    }
  }
}

function prepareWrites(db: Database.Database) {
  return {
    hasId: db.prepare('SELECT 1 FROM events WHERE id = ?').pluck(),
    isDeletedId: db.prepare('SELECT 1 FROM deleted_ids WHERE id = ? AND pubkey = ?').pluck(),
    deletedUntil: db
      .prepare('SELECT deleted_until FROM deleted_coords WHERE pubkey = ? AND kind = ? AND d_tag = ?')
      .pluck(),
    atAddress: db.prepare(
      'SELECT seq, id, created_at FROM events WHERE pubkey = ? AND kind = ? AND d_tag = ?',
    ),
    deleteSeq: db.prepare('DELETE FROM events WHERE seq = ?'),
    insertEvent: db.prepare(
      'INSERT INTO events (id, pubkey, kind, created_at, d_tag, expiration, raw) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    insertTag: db.prepare(
      'INSERT OR IGNORE INTO tags (name, value, created_at, event_seq) VALUES (?, ?, ?, ?)',
    ),
    deleteById: db.prepare('DELETE FROM events WHERE id = ? AND pubkey = ? AND kind != 5'),
    addDeletedId: db.prepare('INSERT OR IGNORE INTO deleted_ids (id, pubkey) VALUES (?, ?)'),
    deleteAtAddress: db.prepare(
      'DELETE FROM events WHERE pubkey = ? AND kind = ? AND d_tag = ? AND created_at <= ?',
    ),
    addDeletedCoord: db.prepare(
      `INSERT INTO deleted_coords (pubkey, kind, d_tag, deleted_until) VALUES (?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET deleted_until = max(deleted_until, excluded.deleted_until)`,
    ),
    purgeExpired: db.prepare('DELETE FROM events WHERE expiration <= ?'),
  };
}

/** The JSON an event is stored and served as: its NIP-01 fields only; '' when it cannot be serialised. */
export function storedJson(e: NostrEvent): string {
  try {
    return JSON.stringify(plainEvent(e)) ?? '';
  } catch {
    return '';
  }
}
