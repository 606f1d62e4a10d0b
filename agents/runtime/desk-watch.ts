import type { Logger } from '../../core/logger.ts';
import type { Filter, NostrEvent } from '../../core/nostr.ts';
import type { Subscribe, Subscription } from '../../core/transport.ts';
import { parseAssignment } from '../../dvm/coordination.ts';
import { parseFeedback } from '../../dvm/feedback.ts';
import { ASSIGNMENT_KIND, FEEDBACK_KIND, isJobRequestKind } from '../../dvm/kinds.ts';
import type { RelayLookups } from './relay-lookups.ts';

/**
 * Requests kept in memory for the assignments that follow them (older ones are read from the relay), and
 * jobs whose news is kept (the oldest forgotten first).
 */
const REMEMBERED = 2000;

export interface DeskWatchOptions {
  relay: Subscribe;
  /** The desk whose assignments and feedback are followed. */
  desk: string;
  /** This agent. */
  agent: string;
  /** The request kinds it serves: their requests are kept for the assignments. */
  kinds: readonly number[];
  lookups: RelayLookups;
  logger: Logger;
  /** An assignment (kind 7600) from the desk naming this agent. */
  onAssignment(event: NostrEvent): void;
}

/** Longest `synced` waits for the relay's EOSE. */
const SYNC_TIMEOUT_MS = 10_000;

/**
 * What an agent follows on the relay, with one subscription: the requests of the kinds it serves (so an
 * assignment finds its request without a round trip), and everything its desk publishes about jobs — the
 * assignments (its own are handed to the worker; another attempt at a job in its hands means the job moved
 * on) and the desk's `error` feedback (the desk ended the job). Before it publishes a result the worker asks
 * `noLongerMine`, which answers from what arrived, with no query on the result's path.
 */
export class DeskWatch {
  private sub: Subscription | undefined;
  private readonly requests = new Map<string, NostrEvent>();
  /** Per job: the latest attempt the desk assigned (to anyone), and why the desk ended it. */
  private readonly news = new Map<string, { attempt: number; ended?: string }>();
  private caughtUp!: () => void;
  /**
   * Resolves once the relay has sent what the desk published since `start`'s `since` (its EOSE), the
   * subscription closed, or SYNC_TIMEOUT_MS passed (a relay that never says EOSE holds nothing forever): from
   * then on `noLongerMine` knows what happened while the agent was away.
   */
  readonly synced: Promise<void> = new Promise((resolve) => {
    this.caughtUp = resolve;
  });

  constructor(private readonly options: DeskWatchOptions) {}

  /** Follows the relay from `since` (unix seconds): what was published while the agent was away comes too. */
  start(since: number): void {
    const { desk, kinds } = this.options;
    const filters: Filter[] = [{ kinds: [ASSIGNMENT_KIND, FEEDBACK_KIND], authors: [desk], since }];
    if (kinds.length > 0) filters.push({ kinds: [...kinds], since });
    const bound = setTimeout(() => this.caughtUp(), SYNC_TIMEOUT_MS);
    bound.unref();
    void this.synced.then(() => clearTimeout(bound));
    this.sub = this.options.relay.subscribe(filters, {
      onEvent: (e) => this.onEvent(e),
      onEose: () => this.caughtUp(),
      onClose: (reason) => {
        this.caughtUp();
        this.options.logger.warn({ reason }, 'desk subscription closed by the relay');
      },
    });
  }

  stop(): void {
    this.sub?.close();
    this.caughtUp();
  }

  /** The request with this id: from what the subscription brought, else read from the relay. */
  async request(id: string): Promise<NostrEvent | undefined> {
    return this.requests.get(id) ?? (await this.options.lookups.event(id));
  }

  /**
   * Why the job is no longer this attempt's, from what the desk published: a later attempt assigned, or the
   * job ended by the desk. Undefined while it is still this attempt's.
   */
  noLongerMine(jobId: string, attempt: number): string | undefined {
    const n = this.news.get(jobId);
    if (n?.ended) return `the desk ended the job: ${n.ended}`;
    if (n && n.attempt > attempt) return `the desk assigned attempt ${n.attempt}`;
    return undefined;
  }

  private onEvent(e: NostrEvent): void {
    if (isJobRequestKind(e.kind)) {
      remember(this.requests, e.id, e);
      return;
    }
    if (e.pubkey !== this.options.desk) return;
    if (e.kind === ASSIGNMENT_KIND) {
      let a: ReturnType<typeof parseAssignment>;
      try {
        a = parseAssignment(e);
      } catch {
        if (e.tags.some((t) => t[0] === 'p' && t[1] === this.options.agent)) this.options.onAssignment(e);
        return;
      }
      const n = this.news.get(a.requestId);
      if (!n) remember(this.news, a.requestId, { attempt: a.attempt });
      else if (a.attempt > n.attempt) n.attempt = a.attempt;
      if (a.agent === this.options.agent) this.options.onAssignment(e);
      return;
    }
    if (e.kind !== FEEDBACK_KIND) return;
    let f: ReturnType<typeof parseFeedback>;
    try {
      f = parseFeedback(e);
    } catch {
      return; // not feedback the desk would have written
    }
    if (f.status !== 'error') return;
    const n = this.news.get(f.requestId);
    if (n) n.ended = f.message || 'error';
    else remember(this.news, f.requestId, { attempt: 0, ended: f.message || 'error' });
  }
}

/** Sets a key in a map that keeps the REMEMBERED most recently added keys. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.set(key, value);
  if (map.size > REMEMBERED) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}
