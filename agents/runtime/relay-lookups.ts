import { batched } from '../../core/batch.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { Subscribe } from '../../core/transport.ts';

/** How long the relay may take to answer one batched lookup. */
const LOOKUP_TIMEOUT_MS = 10_000;

/**
 * What an agent reads from the relay by id (a request its subscription did not bring), batched: every
 * lookup made in one turn of the event loop goes out as one REQ (`core/batch.ts`), so a burst of
 * assignments costs a few subscriptions, not one each.
 */
export class RelayLookups {
  /** The event with this id, if the relay has it. */
  readonly event: (id: string) => Promise<NostrEvent | undefined>;

  constructor(relay: Pick<Subscribe, 'query'>) {
    this.event = batched(async (ids: string[]) => {
      const found = await relay.query([{ ids }], { timeoutMs: LOOKUP_TIMEOUT_MS });
      return new Map(found.filter((e) => ids.includes(e.id)).map((e) => [e.id, e]));
    });
  }
}
