import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { Filter, NostrEvent } from '../../core/nostr.ts';
import type { Signer } from '../../core/signer.ts';
import type { Publish, Subscribe, Subscription } from '../../core/transport.ts';
import { buildAssignment } from '../../dvm/coordination.ts';
import { buildFeedback } from '../../dvm/feedback.ts';
import { DuplicateJobError, type JobLog } from '../../dvm/job-log.ts';
import { isTerminal, type JobView } from '../../dvm/job-state.ts';
import { isJobRequestKind } from '../../dvm/kinds.ts';
import { type JobRequest, JobRequestError, parseJobRequest } from '../../dvm/request.ts';
import { AgentFollower } from './agent-follower.ts';
import { type Auctioneer, RecordRefusedError } from './auctioneer.ts';
import type { Billing } from './billing.ts';
import { approvalReason, chooseAgent, type LocalAgent } from './dispatch.ts';
import type { Forwarder, ForwardOrigin } from './forwarder.ts';
import type { Liveness } from './liveness.ts';
import type { Roster } from './roster.ts';

export type { LocalAgent } from './dispatch.ts';

import { errorMessage } from '../../core/errors.ts';
import type { Outbox } from '../outbox.ts';

export interface CoordinatorOptions {
  signer: Signer;
  pubkey: string;
  relay: Publish & Subscribe;
  log: JobLog;
  outbox: Outbox;
  liveness: Liveness;
  /** The agents work may go to: this instance's, and its peers' (docs/federation.md). */
  roster: Roster;
  /**
   * Whether an agent may be invited to (or given) a job of a kind: its reputation score against
   * `reputation.minScore` (docs/reputation.md). Everyone when absent.
   */
  eligible?: (agent: LocalAgent, kind: number) => boolean;
  /** Labels the agents of a job that ended (docs/reputation.md). */
  labeler?: { jobEnded(view: JobView): Promise<void> };
  /** Kinds no agent here serves that a peer desk takes (forwarded; docs/federation.md). */
  forwarder?: Pick<Forwarder, 'kinds' | 'takes' | 'onChange' | 'forward'>;
  dvm: Config['dvm'];
  clock: Clock;
  logger: Logger;
  /** Runs the sealed-bid auctions; without it (auction.enabled false) jobs go to the least-loaded agent. */
  auctioneer?: Auctioneer;
  /** Charges customers and pays agents; without it (payments.enabled false) jobs are free. */
  billing?: Billing;
  /** How often external changes to the job log (approvals from `timmy job approve`) are picked up. */
  pollMs?: number;
}

/** Unfinished jobs a restarted desk moves on at once. */
export const RESUME_AT_ONCE = 8;

/**
 * Timmy's job desk. Takes NIP-90 requests addressed to this instance (no `p` tag for a kind an agent here
 * serves, or a `p` tag naming Timmy or one of the agents), records each in the job log, answers malformed or
 * unservable ones with an `error` feedback, holds jobs for the operator's approval where configured,
 * assigns each job to exactly one live agent (kind 7600), follows the agent's feedback and result, and
 * reassigns when the agent stops beating. Every decision is a row in the job log first, so a restarted
 * coordinator picks up where it stopped.
 */
export class Coordinator {
  private readonly log: Logger;
  private requestSub: Subscription | undefined;
  private requestKinds = '';
  private readonly unlisten: (() => void)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly locks = new Map<string, Promise<void>>();
  private readonly settleTimers = new Map<string, NodeJS.Timeout>();
  private readonly follower: AgentFollower;
  /** Each job's request as read when it was posted (or when a restarted desk first met it again). */
  private readonly requests = new Map<string, JobRequest | JobRequestError>();
  private readonly ours: Set<string>;
  private lastSeq = 0;
  private stopped = false;

  constructor(private readonly options: CoordinatorOptions) {
    this.log = options.logger.child({ agent: 'coordinator' });
    this.ours = new Set([options.pubkey, ...options.roster.local.map((a) => a.pubkey)]);
    this.follower = new AgentFollower({
      relay: options.relay,
      log: options.log,
      liveness: options.liveness,
      roster: options.roster,
      agentTimeoutMs: options.dvm.agentTimeoutMs,
      logger: this.log,
      withJob: (jobId, fn) => this.withJob(jobId, fn),
      ended: (jobId) => this.ended(jobId),
      process: (jobId) => this.process(jobId),
    });
  }

  /** Kinds some agent on the roster serves. */
  get servedKinds(): number[] {
    return this.options.roster.kinds();
  }

  /** Kinds whose requests the desk takes: served here, or forwarded to a peer desk. */
  private takenKinds(): number[] {
    const kinds = new Set([...this.servedKinds, ...(this.options.forwarder?.kinds() ?? [])]);
    return [...kinds].sort((a, b) => a - b);
  }

  /** The request subscription, replaced when the kinds taken change (a peer joined or left). */
  private subscribeRequests(since: number): void {
    const kinds = this.takenKinds();
    const key = kinds.join(',');
    if (this.requestSub && key === this.requestKinds) return;
    this.requestSub?.close();
    this.requestKinds = key;
    const requestFilters: Filter[] = [{ '#p': [...this.ours], since }];
    if (kinds.length > 0) requestFilters.unshift({ kinds, since });
    this.requestSub = this.options.relay.subscribe(requestFilters, {
      onEvent: (e) => void this.onRequest(e).catch((err: unknown) => this.crash('request', err)),
      onClose: (reason) => this.log.warn({ reason }, 'request subscription closed by the relay'),
    });
  }

  start(): void {
    const { dvm, clock } = this.options;
    const nowS = Math.floor(clock.now() / 1000);
    this.lastSeq = this.options.log.lastSeq();
    const since = nowS - dvm.requestLookbackSeconds;
    this.subscribeRequests(since);
    const resubscribe = (): void => {
      if (!this.stopped) this.subscribeRequests(since);
    };
    this.unlisten.push(this.options.roster.onChange(resubscribe));
    if (this.options.forwarder) this.unlisten.push(this.options.forwarder.onChange(resubscribe));
    const active = this.options.log.active();
    const oldest = Math.min(nowS, ...active.map((v) => Math.floor(v.createdAt / 1000)));
    this.follower.start(oldest - 60, (what, err) => this.crash(what, err));
    this.options.auctioneer?.start();
    // Every opening may complete an auction that closed early (docs/auctions.md): settle it at once.
    const auctioneer = this.options.auctioneer;
    if (auctioneer)
      this.unlisten.push(
        auctioneer.onOpening((jobId) => {
          const view = this.options.log.get(jobId);
          if (view?.state === 'bidding' && auctioneer.openingsComplete(view)) void this.process(jobId);
        }),
      );
    this.options.billing?.start({
      paid: (jobId) => void this.process(jobId),
      expired: (jobId, reason) =>
        void this.withJob(jobId, async () => {
          const view = this.options.log.get(jobId);
          if (view && !isTerminal(view.state)) await this.fail(view, reason);
        }),
    });
    void this.resume(active.map((v) => v.id));
    this.every('sweep', Math.max(100, Math.floor(dvm.heartbeatIntervalMs / 2)), () => this.sweep());
    this.every('poll', this.options.pollMs ?? 500, () => this.pollChanges());
    this.every('reconcile', Math.max(1000, dvm.heartbeatIntervalMs), () =>
      this.stopped ? undefined : this.follower.reconcile((what, err) => this.crash(what, err)),
    );
    this.announceRejections();
  }

  /**
   * Moves the jobs a restart found unfinished on, a few at a time (RESUME_AT_ONCE): hundreds of them resumed
   * at once would settle their auctions, and ask the relay and the wallet, all in the same instant.
   */
  private async resume(jobIds: readonly string[]): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (!this.stopped && next < jobIds.length) {
        const id = jobIds[next++] as string;
        await this.process(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(RESUME_AT_ONCE, jobIds.length) }, lane));
  }

  /** A round every `ms`; a round that throws (the database busy, say) is logged, and the next one runs. */
  private every(what: string, ms: number, round: () => void | Promise<void>): void {
    const timer = setInterval(() => {
      try {
        const p = round();
        if (p) p.catch((err: unknown) => this.crash(`${what} round`, err));
      } catch (err) {
        this.crash(`${what} round`, err);
      }
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unlisten) u();
    this.requestSub?.close();
    this.follower.stop();
    for (const t of this.timers) clearInterval(t);
    for (const t of this.settleTimers.values()) clearTimeout(t);
    this.options.auctioneer?.stop();
    await this.options.billing?.stop();
    await Promise.allSettled([...this.locks.values()]);
  }

  private crash(what: string, err: unknown): void {
    this.log.error({ err: errorMessage(err) }, `handling a ${what} failed`);
  }

  /**
   * Serializes work on one job (a result may arrive while the sweep reassigns it). Never rejects: a step that
   * throws is logged, and the job is moved on again by the next sweep or event.
   */
  private withJob(jobId: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.locks.get(jobId) ?? Promise.resolve();
    const next = prev
      .then(fn)
      .catch((err: unknown) => this.crash(`step of job ${jobId}`, err))
      .finally(() => {
        if (this.locks.get(jobId) === next) this.locks.delete(jobId);
      });
    this.locks.set(jobId, next);
    return next;
  }

  private async onRequest(event: NostrEvent): Promise<void> {
    if (this.stopped || !isJobRequestKind(event.kind)) return;
    const providers = event.tags.filter((t) => t[0] === 'p').map((t) => t[1] ?? '');
    if (providers.length > 0 && !providers.some((p) => this.ours.has(p))) return;
    if (!this.post(event)) return;
    this.log.info({ job: event.id, kind: event.kind, customer: event.pubkey }, 'job posted');
    await this.process(event.id);
  }

  /**
   * Records a request as a new job (with `origin` when a peer desk forwarded it), once: false when the job
   * is already in the log or the request has expired.
   */
  private post(request: NostrEvent, origin?: ForwardOrigin): boolean {
    const { log, clock } = this.options;
    if (log.get(request.id)) return false;
    const exp = Number(request.tags.find((t) => t[0] === 'expiration')?.[1]);
    if (Number.isFinite(exp) && exp * 1000 < clock.now()) return false;
    try {
      if (!origin) log.append(request.id, { type: 'posted', request });
      else
        log.transaction(() => {
          log.append(request.id, { type: 'posted', request });
          log.append(request.id, { type: 'effect', key: 'forwarded-from', value: origin });
        });
    } catch (err) {
      if (err instanceof DuplicateJobError) return false;
      throw err;
    }
    return true;
  }

  /**
   * A job a peer desk forwarded here (docs/federation.md): recorded with where it came from (a forward on
   * keeps the path), then moved on like any job. Taken once: a job id already in the log is left alone.
   */
  async takeForwarded(request: NostrEvent, origin: ForwardOrigin): Promise<void> {
    if (this.stopped || !this.post(request, origin)) return;
    this.log.info({ job: request.id, kind: request.kind, from: origin.from }, 'forwarded job posted');
    // The agents here read the request from this relay: the customer's signed event, republished as it is
    // (once its record, with where it came from, is on the disk: docs/decisions/0014).
    await this.options.log.durable().catch(() => {});
    await this.options.relay
      .publish(request)
      .catch((err: unknown) =>
        this.log.warn({ job: request.id, err: errorMessage(err) }, 'could not copy a forwarded request here'),
      );
    await this.process(request.id);
  }

  /** Moves a job forward from whatever state it is in. */
  private process(jobId: string): Promise<void> {
    return this.withJob(jobId, async () => {
      if (this.stopped) return;
      const view = this.options.log.get(jobId);
      if (view?.state === 'posted') await this.assign(view);
      else if (view?.state === 'bidding') await this.settle(view);
    });
  }

  /**
   * The job's request, parsed once: for an encrypted one, its public tags (the desk cannot read the sealed
   * inputs and params; the agent it is addressed to checks those). A JobRequestError says why it is refused.
   */
  private requestOf(view: JobView): JobRequest | JobRequestError {
    let parsed = this.requests.get(view.id);
    if (!parsed) {
      try {
        parsed = parseJobRequest(view.request, {
          maxInputBytes: this.options.dvm.maxInputBytes,
          publicTagsOnly: true,
        });
      } catch (err) {
        if (!(err instanceof JobRequestError)) throw err;
        parsed = err;
      }
      this.requests.set(view.id, parsed);
    }
    return parsed;
  }

  private async assign(view: JobView): Promise<void> {
    const { log, dvm, liveness } = this.options;
    const request = view.request;
    const parsed = this.requestOf(view);
    if (parsed instanceof JobRequestError) return this.fail(view, parsed.message);
    const addressed = request.tags.filter((t) => t[0] === 'p').map((t) => t[1] ?? '');
    let candidates = this.candidatesFor(request.kind);
    const named = candidates.filter((a) => addressed.includes(a.pubkey));
    if (named.length > 0) candidates = named;
    if (candidates.length === 0) {
      if (this.options.forwarder?.takes(request.kind)) return this.forward(view, 'fail');
      const served = this.servedKinds;
      return this.fail(
        view,
        `no agent on this instance serves kind ${request.kind}${served.length ? ` (served here: ${served.join(', ')})` : ''}`,
      );
    }
    if (view.attempt >= dvm.maxAttempts) {
      return this.fail(
        view,
        `gave up after ${view.attempt} attempts${view.reason ? `: ${view.reason}` : ''}`,
      );
    }
    const alive = candidates.filter((a) => liveness.isAlive(a.pubkey));
    if (alive.length === 0) {
      // None here can take it now: a peer desk that serves the kind gets it (tried once), else it waits.
      return this.noneAlive(view);
    }
    const auctioneer = this.options.auctioneer;
    const agent = chooseAgent(view, alive, this.options);
    // With auctions the winner is not known yet: when an agent that needs approval may win, ask first.
    const approval = approvalReason(
      this.options.dvm,
      request.kind,
      auctioneer ? alive.map((a) => a.name) : [agent.name],
    );
    if (approval && !view.approved) {
      log.append(view.id, { type: 'approval-required', reason: approval });
      await this.options.outbox.send(
        view.id,
        'awaiting-approval',
        this.options.signer,
        buildFeedback({ request, status: 'processing', message: "waiting for the operator's approval" }),
      );
      this.log.info({ job: view.id, reason: approval }, 'job awaits approval');
      return;
    }
    const billing = this.options.billing;
    let reserveMsats = parsed.bidMsats;
    if (parsed.bidMsats !== undefined && billing) {
      reserveMsats = billing.reserveFor(parsed.bidMsats);
      if (reserveMsats === undefined) return this.fail(view, billing.bidTooLow(parsed.bidMsats));
    }
    if (auctioneer) {
      const invited = alive.map((a) => a.pubkey);
      const caps: Record<string, number> = {};
      for (const a of alive) {
        const listed = a.prices?.get(request.kind);
        if (listed !== undefined) caps[a.pubkey] = listed;
      }
      const open =
        auctioneer.currentAuction(view) ?? (await auctioneer.open(view, invited, reserveMsats, caps));
      const until = log.get(view.id)?.biddingUntil ?? open.created_at * 1000;
      this.scheduleSettle(view.id, auctioneer.settleAt(Math.floor(until / 1000)));
      return;
    }
    if (await this.charged(view, agent, agent.prices?.get(request.kind) ?? 0))
      await this.assignTo(view, agent);
  }

  /** True when the job may go to `agent` now (paid, or free); otherwise billing waits or the job failed. */
  private async charged(view: JobView, agent: LocalAgent, priceMsats: number): Promise<boolean> {
    const billing = this.options.billing;
    if (!billing) return true;
    const parsed = this.requestOf(view);
    const bid = parsed instanceof JobRequestError ? undefined : parsed.bidMsats;
    const outcome = await billing.charge(view, agent.pubkey, priceMsats, bid);
    if (outcome.kind === 'fail') await this.fail(view, outcome.reason);
    return outcome.kind === 'ready';
  }

  private async assignTo(
    view: JobView,
    agent: LocalAgent,
    auction?: { record: string; priceMsats?: number },
  ): Promise<void> {
    const attempt = view.attempt + 1;
    this.options.log.append(view.id, { type: 'assigned', agent: agent.pubkey, attempt });
    const template = buildAssignment({ request: view.request, agent: agent.pubkey, attempt });
    if (auction) {
      template.tags.push(['auction', auction.record]);
      if (auction.priceMsats !== undefined) template.tags.push(['price', String(auction.priceMsats)]);
    }
    await this.options.outbox.send(view.id, `assign:${attempt}`, this.options.signer, template);
    this.log.info(
      { job: view.id, agent: agent.name, attempt, priceMsats: auction?.priceMsats },
      'job assigned',
    );
  }

  private scheduleSettle(jobId: string, at: number): void {
    if (this.settleTimers.has(jobId) || this.stopped) return;
    const timer = setTimeout(
      () => {
        this.settleTimers.delete(jobId);
        void this.process(jobId);
      },
      Math.max(0, at - this.options.clock.now()),
    );
    timer.unref();
    this.settleTimers.set(jobId, timer);
  }

  /**
   * After the deadline (plus the reveal grace), or as soon as every invited bidder has committed and opened
   * its bid (the early close, docs/auctions.md): settle, publish the record, assign the winner.
   */
  private async settle(view: JobView): Promise<void> {
    const auctioneer = this.options.auctioneer;
    if (!auctioneer) return;
    const at = auctioneer.settleAt(Math.floor((view.biddingUntil ?? 0) / 1000));
    const early = this.options.clock.now() < at;
    if (early && !auctioneer.openingsComplete(view)) {
      this.scheduleSettle(view.id, at);
      return;
    }
    const candidates = this.candidatesFor(view.kind);
    let outcome: Awaited<ReturnType<Auctioneer['settle']>> | undefined;
    try {
      outcome = early ? await auctioneer.settle(view, { early: true }) : await auctioneer.settle(view);
    } catch (err) {
      if (err instanceof RecordRefusedError) return this.fail(view, err.message);
      throw err;
    }
    if (outcome === undefined) {
      // Not closed after all (a commitment not on the relay yet, say): the deadline decides.
      this.scheduleSettle(view.id, at);
      return;
    }
    const pending = this.settleTimers.get(view.id);
    if (pending) {
      clearTimeout(pending);
      this.settleTimers.delete(view.id);
    }
    const { settlement, record } = outcome;
    const byKey = new Map(candidates.map((a) => [a.pubkey, a]));
    // The best-ranked bidder that is still alive gets the job (the record names the auction's winner).
    const winner = settlement.ranked
      .map((b) => byKey.get(b.bidder))
      .find((a): a is LocalAgent => a !== undefined && this.options.liveness.isAlive(a.pubkey));
    if (winner) {
      const price = settlement.priceMsats ?? winner.prices?.get(view.kind) ?? 0;
      if (await this.charged(view, winner, price))
        await this.assignTo(view, winner, { record: record.id, priceMsats: settlement.priceMsats });
      return;
    }
    // No valid bid: fail over to the least-loaded live agent (docs/auctions.md).
    const alive = candidates.filter((a) => this.options.liveness.isAlive(a.pubkey));
    // Every bidder lapsed (an overloaded or restarting agent, or a peer's agent that never bid here): like a
    // job posted while none is alive, a peer desk that serves the kind gets it (tried once), else it waits;
    // the sweep settles it again (from the published record) once one beats.
    if (alive.length === 0) return this.noneAlive(view);
    const fallback = chooseAgent(view, alive, this.options);
    if (!(await this.charged(view, fallback, fallback.prices?.get(view.kind) ?? 0))) return;
    this.options.log.append(view.id, {
      type: 'note',
      text: 'no valid bid: assigned to the least-loaded live agent',
    });
    await this.assignTo(view, fallback, { record: record.id });
  }

  /** The agents on the roster that serve `kind` and may take it (reputation; docs/reputation.md). */
  private candidatesFor(kind: number): LocalAgent[] {
    const eligible = this.options.eligible;
    return this.options.roster
      .all()
      .filter((a) => a.kinds.includes(kind) && (eligible === undefined || eligible(a, kind)));
  }

  /**
   * Hands the job to a peer desk (docs/federation.md): forwarded is where this desk's part ends. When no peer
   * desk takes it, the job fails (`otherwise` 'fail': nobody here serves the kind) or waits for an agent
   * here ('wait': some serve it but none is alive now; the forward is not tried again).
   */
  private async forward(view: JobView, otherwise: 'fail' | 'wait'): Promise<void> {
    const forwarder = this.options.forwarder;
    if (!forwarder) return;
    const to = await forwarder.forward(view);
    if (to !== undefined) return this.ended(view.id);
    if (otherwise === 'fail') return this.fail(view, `no agent here or at a peer serves kind ${view.kind}`);
    this.options.log.append(view.id, { type: 'effect', key: 'forward-tried', value: null });
    return this.waitForAgent(view);
  }

  /**
   * No live agent here can take the job now (at assignment, or after an auction with no live bidder): a peer
   * desk that serves the kind gets it (tried once, on a first attempt), else it waits for an agent here.
   */
  private noneAlive(view: JobView): Promise<void> {
    if (view.attempt === 0 && !('forward-tried' in view.effects) && this.options.forwarder?.takes(view.kind))
      return this.forward(view, 'wait');
    return this.waitForAgent(view);
  }

  /** Tells the customer (once) that the job waits for an agent; the sweep moves it on when one beats. */
  private async waitForAgent(view: JobView): Promise<void> {
    await this.options.outbox.send(
      view.id,
      'waiting-for-agent',
      this.options.signer,
      buildFeedback({
        request: view.request,
        status: 'processing',
        message: 'waiting for an agent to come back online',
      }),
    );
  }

  /** Records the error feedback first (so a crash cannot lose it), then the failure, then publishes. */
  private async fail(view: JobView, reason: string): Promise<void> {
    const { event } = await this.options.outbox.send(
      view.id,
      'error',
      this.options.signer,
      buildFeedback({ request: view.request, status: 'error', message: reason }),
    );
    const now = this.options.log.get(view.id);
    if (now && !isTerminal(now.state)) this.options.log.append(view.id, { type: 'failed', reason });
    this.log.info({ job: view.id, reason, feedback: event.id }, 'job failed');
    this.ended(view.id);
  }

  /** A job reached a terminal state: its payment is settled or refunded (outside the job's lock). */
  private ended(jobId: string): void {
    this.requests.delete(jobId);
    const { billing, labeler, log } = this.options;
    if (!billing && !labeler) return;
    // The payment settles first, so the label can show it (the preimage) as evidence.
    queueMicrotask(
      () =>
        void (async () => {
          await billing?.finish(jobId);
          const view = log.get(jobId);
          if (labeler && view && !this.stopped) await labeler.jobEnded(view);
        })().catch((err: unknown) => this.crash(`end of job ${jobId}`, err)),
    );
  }

  /** Takes back jobs whose agent stopped beating, and retries jobs waiting for an agent. */
  private sweep(): void {
    if (this.stopped) return;
    for (const view of this.options.log.active()) {
      if (view.state === 'assigned' || view.state === 'executing') this.follower.takeBackFromSilent(view);
      else if (view.state === 'posted' || view.state === 'bidding') void this.process(view.id);
    }
  }

  /** Picks up appends made by another process (the `timmy job approve|reject` commands). */
  private pollChanges(): void {
    if (this.stopped) return;
    const last = this.options.log.lastSeq();
    if (last <= this.lastSeq) return;
    const changes = this.options.log.changesSince(this.lastSeq);
    this.lastSeq = last;
    for (const c of changes) {
      if (c.type === 'approved') void this.process(c.jobId);
      else if (c.type === 'rejected') void this.announceRejection(c.jobId);
    }
  }

  /** At start: rejections recorded while the instance was down still reach the customer. */
  private announceRejections(): void {
    for (const s of this.options.log.list({ states: ['cancelled'], limit: 100 })) {
      void this.announceRejection(s.id);
    }
  }

  private announceRejection(jobId: string): Promise<void> {
    return this.withJob(jobId, async () => {
      const view = this.options.log.get(jobId);
      if (view?.state !== 'cancelled' || view.outbox.some((o) => o.key === 'rejected')) return;
      this.requests.delete(jobId);
      const rejected = this.options.log.entries(jobId).some((e) => e.entry.type === 'rejected');
      if (!rejected) return;
      await this.options.outbox.send(
        jobId,
        'rejected',
        this.options.signer,
        buildFeedback({
          request: view.request,
          status: 'error',
          message: `the operator declined this job${view.reason ? `: ${view.reason}` : ''}`,
        }),
      );
    });
  }
}
