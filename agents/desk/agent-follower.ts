import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { Subscribe, Subscription } from '../../core/transport.ts';
import { parseHeartbeat } from '../../dvm/coordination.ts';
import { parseFeedback } from '../../dvm/feedback.ts';
import type { JobLog } from '../../dvm/job-log.ts';
import type { JobView } from '../../dvm/job-state.ts';
import { FEEDBACK_KIND, HEARTBEAT_KIND, resultKindFor } from '../../dvm/kinds.ts';
import type { Liveness } from './liveness.ts';
import type { Roster } from './roster.ts';

export interface AgentFollowerOptions {
  relay: Subscribe;
  log: JobLog;
  liveness: Liveness;
  /** The agents the desk assigns work to (their feedback, results and heartbeats are followed). */
  roster: Roster;
  /** How long an agent may stay silent before its job is taken back. */
  agentTimeoutMs: number;
  logger: Logger;
  /** Runs `fn` with the job's lock (the desk's steps on one job never interleave). */
  withJob(jobId: string, fn: () => Promise<void>): Promise<void>;
  /** The job ended (completed, or failed at the agent): its payment is settled or refunded. */
  ended(jobId: string): void;
  /** Move the job on (after its agent was lost: it is auctioned again). */
  process(jobId: string): Promise<void>;
}

const inHand = (v: JobView): boolean => v.state === 'assigned' || v.state === 'executing';

/**
 * The desk following its agents over the relay: their heartbeats (Liveness), their feedback and results on
 * the jobs they were assigned (`started`, `failed`, `completed` in the job log), a query now and then for
 * what live delivery missed, and the jobs of agents that went silent (`agent-lost`, then auctioned again).
 */
export class AgentFollower {
  private subs: Subscription[] = [];
  private unlisten: (() => void) | undefined;

  constructor(private readonly options: AgentFollowerOptions) {}

  /**
   * Follows the agents' events from `since` (unix seconds) and their heartbeats from now; when the roster
   * changes (a peer's agent joins or leaves) the subscriptions are replaced.
   */
  start(since: number, crash: (what: string, err: unknown) => void): void {
    this.subscribe(since, crash);
    this.unlisten = this.options.roster.onChange(() => this.subscribe(since, crash));
  }

  private subscribe(since: number, crash: (what: string, err: unknown) => void): void {
    const { relay, roster, logger } = this.options;
    for (const s of this.subs) s.close();
    this.subs = [];
    const pubkeys = roster.pubkeys();
    if (pubkeys.length === 0) return;
    const results = roster.kinds().map(resultKindFor);
    this.subs.push(
      relay.subscribe([{ kinds: [FEEDBACK_KIND, ...results], authors: pubkeys, since }], {
        onEvent: (e) => void this.onAgentEvent(e).catch((err: unknown) => crash('agent event', err)),
        onClose: (reason) => logger.warn({ reason }, 'agent event subscription closed by the relay'),
      }),
      relay.subscribe([{ kinds: [HEARTBEAT_KIND], authors: pubkeys }], {
        onEvent: (e) => this.onHeartbeat(e),
      }),
    );
  }

  stop(): void {
    this.unlisten?.();
    for (const s of this.subs) s.close();
    this.subs = [];
  }

  /** An agent's feedback or result on a job it holds: the job log follows. */
  async onAgentEvent(event: NostrEvent): Promise<void> {
    const { log, logger } = this.options;
    const requestId = event.tags.find((t) => t[0] === 'e')?.[1];
    if (!requestId || !log.get(requestId)) return;
    await this.options.withJob(requestId, async () => {
      const view = log.get(requestId);
      if (!view || view.agent !== event.pubkey || !inHand(view)) return;
      if (event.kind === FEEDBACK_KIND) {
        let f: ReturnType<typeof parseFeedback>;
        try {
          f = parseFeedback(event);
        } catch {
          return;
        }
        if (f.status === 'processing' && view.state === 'assigned')
          log.append(view.id, { type: 'started', agent: event.pubkey });
        else if (f.status === 'error') {
          log.append(view.id, { type: 'failed', reason: f.message || 'the agent reported an error' });
          logger.info({ job: view.id, reason: f.message }, 'job failed at the agent');
          this.options.ended(view.id);
        }
        return;
      }
      if (event.kind === resultKindFor(view.request.kind)) {
        log.append(view.id, { type: 'completed', result: event, agent: event.pubkey });
        logger.info({ job: view.id, result: event.id }, 'job completed');
        this.options.ended(view.id);
      }
    });
  }

  private onHeartbeat(event: NostrEvent): void {
    try {
      const hb = parseHeartbeat(event);
      this.options.liveness.beat(event.pubkey, {
        load: hb.load,
        capacity: hb.capacity ?? 0,
        kinds: hb.kinds,
      });
    } catch (err) {
      this.options.logger.debug({ err: errorMessage(err) }, 'ignoring a malformed heartbeat');
    }
  }

  /** The job of an agent that stopped beating goes back to `posted` and on to another attempt. */
  takeBackFromSilent(view: JobView): void {
    const { log, liveness, logger } = this.options;
    const agent = view.agent;
    if (!agent || !inHand(view) || liveness.isAlive(agent)) return;
    void this.options
      .withJob(view.id, async () => {
        const now = log.get(view.id);
        if (!now || now.agent !== agent || !inHand(now)) return;
        const seconds = Math.round(this.options.agentTimeoutMs / 1000);
        log.append(view.id, { type: 'agent-lost', agent, reason: `no heartbeat for ${seconds} s` });
        logger.warn({ job: view.id, agent }, 'agent stopped beating; reassigning its job');
      })
      .then(() => this.options.process(view.id));
  }

  /**
   * Asks the relay for the feedback and results of jobs in the agents' hands. Live delivery can miss an
   * event (a reconnect resubscribes from the last second seen); this makes the job log converge anyway.
   */
  async reconcile(crash: (what: string, err: unknown) => void): Promise<void> {
    const busy = this.options.log.active().filter(inHand);
    if (busy.length === 0) return;
    const kinds = [...new Set(busy.map((v) => resultKindFor(v.kind)))];
    const agents = [...new Set(busy.map((v) => v.agent).filter((a): a is string => a !== undefined))];
    let events: NostrEvent[];
    try {
      events = await this.options.relay.query(
        [{ kinds: [FEEDBACK_KIND, ...kinds], authors: agents, '#e': busy.map((v) => v.id) }],
        { timeoutMs: 5000 },
      );
    } catch {
      return; // the relay is away; the next round tries again
    }
    events.sort((a, b) => a.created_at - b.created_at || a.kind - b.kind);
    for (const e of events) await this.onAgentEvent(e).catch((err: unknown) => crash('agent event', err));
  }
}
