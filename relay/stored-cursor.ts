import type { EventStore, QueryOptions } from '../core/event-store.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';

/** One stored event on its way to a client: its JSON text, and what the relay decides on before sending it. */
export interface StoredEvent {
  id: string;
  kind: number;
  json: string;
}

/**
 * The answer to a query, one event at a time, in NIP-01 order (newest first). A store that can (relay/
 * sqlite-store.ts) reads each event's text only when it is asked for, so an answer waiting for a slow
 * client holds its keys, not its events (finding 3 of issue 12).
 */
export interface StoredCursor {
  /** The next event, or undefined at the end (and after `close`). */
  next(): StoredEvent | undefined;
  /** Lets go of the rest of the answer. */
  close(): void;
}

/** A store that answers queries with cursors. */
export interface CursorStore {
  openCursor(filters: readonly Filter[], options?: QueryOptions): StoredCursor;
}

export function hasCursor(store: EventStore): store is EventStore & CursorStore {
  return typeof (store as Partial<CursorStore>).openCursor === 'function';
}

/** The store's cursor over `filters`; for a store without one, a cursor over its whole answer. */
export async function openCursor(
  store: EventStore,
  filters: readonly Filter[],
  options: QueryOptions,
): Promise<StoredCursor> {
  if (hasCursor(store)) return store.openCursor(filters, options);
  return arrayCursor(await store.query(filters, options));
}

/** A cursor over events already in memory. */
export function arrayCursor(events: readonly NostrEvent[]): StoredCursor {
  let rest: readonly NostrEvent[] | undefined = events;
  let i = 0;
  return {
    next() {
      const e = rest?.[i++];
      if (!e) {
        rest = undefined;
        return undefined;
      }
      return { id: e.id, kind: e.kind, json: JSON.stringify(e) };
    },
    close() {
      rest = undefined;
    },
  };
}
