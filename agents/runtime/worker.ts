import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { Signer } from '../../core/signer.ts';
import type { Publish, Subscribe, Subscription } from '../../core/transport.ts';
import { type Assignment, buildHeartbeat, parseAssignment } from '../../dvm/coordination.ts';
import { buildFeedback, parseFeedback } from '../../dvm/feedback.ts';
import type { JobHandler } from '../../dvm/handler.ts';
import { JobInputError } from '../../dvm/handler.ts';
import { ASSIGNMENT_KIND, FEEDBACK_KIND } from '../../dvm/kinds.ts';
import { decryptJobRequest, isEncryptedRequest } from '../../dvm/request.ts';
import { buildResult } from '../../dvm/result.ts';
import type { LlmProvider } from '../../llm/provider.ts';
import type { Outbox } from '../outbox.ts';
import { customerMessage, executeJob, type RunRecord, readRecorded, recordableError } from './execute.ts';
import type { InputResolver } from './inputs.ts';
import { type AgentWork, RecordExistsError, type WorkItem } from './work-log.ts';

export interface WorkerServe {
  kind: number;
  handler: JobHandler;
  priceMsats: number;
  /** The persona's system prompt the handler was built with (recorded for replay). */
  systemPrompt?: string;
}

export interface WorkerOptions {
  name: string;
  signer: Signer;
  pubkey: string;
  /** The desk whose assignments (kind 7600) this agent accepts. */
  desk: string;
  serves: readonly WorkerServe[];
  relay: Publish & Subscribe;
  /** This agent's own record of its work. */
  work: AgentWork;
  outbox: Outbox;
  inputs: InputResolver;
  llm: LlmProvider;
  dvm: Config['dvm'];
  clock: Clock;
  logger: Logger;
  /** Jobs this agent runs at once; more wait in its queue. */
  capacity?: number;
}

/** How long the relay may take to answer the worker's queries (the request, later assignments). */
const QUERY_TIMEOUT_MS = 10_000;

/**
 * A worker agent: executes the jobs the desk assigns to it (kind 7600 naming its pubkey), with the handler
 * of the job's kind, and answers the customer directly: `processing` feedback, then the kind 6xxx result,
 * or an `error` feedback whose message the customer can act on. It never decides on its own to take a job,
 * so two agents serving one kind never both execute it.
 *
 * Everything it knows comes from the relay: the signed assignment, the request it names (fetched by id),
 * and before it publishes a result, whether the desk has since given the job to another attempt or given
 * up on it. What it did is in its own record (agents/runtime/work-log.ts): the assignment it accepted,
 * resolved inputs and each model completion (recorded before they are used), and every event it sends
 * (recorded, then published, by its Outbox), so a resumed job reuses what was done and never calls the
 * model or publishes twice.
 */
export class DvmWorker {
  private readonly log: Logger;
  private readonly capacity: number;
  private readonly queue: WorkItem[] = [];
  private readonly running = new Set<string>();
  private readonly queued = new Set<string>();
  private readonly accepting = new Set<string>();
  private subscription: Subscription | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private firstBeat: NodeJS.Timeout | undefined;
  private readonly stopping = new AbortController();
  private readonly done = new Set<Promise<void>>();

  constructor(private readonly options: WorkerOptions) {
    this.log = options.logger.child({ agent: options.name });
    this.capacity = options.capacity ?? 4;
  }

  get pubkey(): string {
    return this.options.pubkey;
  }

  get kinds(): number[] {
    return this.options.serves.map((s) => s.kind);
  }

  get load(): number {
    return this.running.size + this.queue.length;
  }

  /** Subscribes to assignments, starts beating, and resumes the jobs it had in hand when it stopped. */
  start(): void {
    const since = Math.floor(this.options.clock.now() / 1000) - this.options.dvm.requestLookbackSeconds;
    this.subscription = this.options.relay.subscribe(
      [{ kinds: [ASSIGNMENT_KIND], '#p': [this.options.pubkey], authors: [this.options.desk], since }],
      {
        onEvent: (e) =>
          void this.onAssignment(e).catch((err: unknown) =>
            this.log.error({ err: errorMessage(err) }, 'handling an assignment failed'),
          ),
        onClose: (reason) => this.log.warn({ reason }, 'assignment subscription closed by the relay'),
      },
    );
    for (const item of this.options.work.open()) {
      this.log.info({ job: item.jobId, attempt: item.attempt }, 'resuming job');
      this.enqueue(item);
    }
    // The first beat goes out shortly after start, once the desk's subscription is in place; then one every
    // interval. (Until then the desk counts a silent agent as alive: see Liveness.)
    const first = setTimeout(() => void this.beat(), Math.min(500, this.options.dvm.heartbeatIntervalMs));
    first.unref();
    this.firstBeat = first;
    this.heartbeat = setInterval(() => void this.beat(), this.options.dvm.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  /** Stops taking work and waits for running jobs to notice (they resume on the next start). */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('the agent is stopping'));
    this.subscription?.close();
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.firstBeat) clearTimeout(this.firstBeat);
    this.queue.length = 0;
    await Promise.allSettled([...this.done]);
  }

  private async beat(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    try {
      const template = buildHeartbeat({ kinds: this.kinds, load: this.load, capacity: this.capacity });
      await this.options.relay.publish(await this.options.signer.signEvent(template));
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'heartbeat not published');
    }
  }

  private async onAssignment(event: NostrEvent): Promise<void> {
    let a: Assignment;
    try {
      a = parseAssignment(event);
    } catch (err) {
      this.log.warn({ id: event.id, err: errorMessage(err) }, 'ignoring a malformed assignment');
      return;
    }
    const { work } = this.options;
    if (a.agent !== this.options.pubkey || a.coordinator !== this.options.desk) return;
    const known = work.item(a.requestId, a.attempt);
    if (known) {
      if (known.state === 'assigned') this.enqueue(known);
      return;
    }
    if (work.attempts(a.requestId).some((w) => w.attempt > a.attempt)) {
      this.log.debug({ job: a.requestId, attempt: a.attempt }, 'ignoring a stale assignment');
      return;
    }
    const key = `${a.requestId}:${a.attempt}`;
    if (this.accepting.has(key) || this.stopping.signal.aborted) return;
    this.accepting.add(key);
    try {
      await this.accept(event, a);
    } finally {
      this.accepting.delete(key);
    }
  }

  /** Reads the assigned request from the relay, records the assignment, and queues the job. */
  private async accept(event: NostrEvent, a: Assignment): Promise<void> {
    let request: NostrEvent | undefined;
    try {
      const found = await this.options.relay.query([{ ids: [a.requestId] }], { timeoutMs: QUERY_TIMEOUT_MS });
      request = found.find((e) => e.id === a.requestId && e.kind === a.kind && e.pubkey === a.customer);
    } catch (err) {
      // The relay is away: the assignment comes again when the subscription is re-established.
      this.log.warn(
        { job: a.requestId, err: errorMessage(err) },
        'could not read the assigned request; will retry',
      );
      return;
    }
    if (!request) {
      const message = 'the job request is not on the relay any more, so it cannot be executed';
      this.log.warn({ job: a.requestId }, message);
      await this.options.outbox.send(
        a.requestId,
        `error:${a.attempt}`,
        this.options.signer,
        buildFeedback({ request: { id: a.requestId, pubkey: a.customer }, status: 'error', message }),
      );
      return;
    }
    const price = Number(event.tags.find((t) => t[0] === 'price')?.[1]);
    const item = this.options.work.accept({
      jobId: a.requestId,
      attempt: a.attempt,
      desk: a.coordinator,
      kind: a.kind,
      customer: a.customer,
      assignment: event,
      request,
      priceMsats: Number.isSafeInteger(price) && price >= 0 ? price : undefined,
    });
    this.enqueue(item);
  }

  private enqueue(item: WorkItem): void {
    const key = `${item.jobId}:${item.attempt}`;
    if (this.running.has(key) || this.queued.has(key) || this.stopping.signal.aborted) return;
    this.queued.add(key);
    this.queue.push(item);
    this.pump();
  }

  private pump(): void {
    while (this.running.size < this.capacity && this.queue.length > 0) {
      const next = this.queue.shift();
      if (!next) break;
      const key = `${next.jobId}:${next.attempt}`;
      this.queued.delete(key);
      this.running.add(key);
      const p = this.execute(next)
        .catch((err: unknown) =>
          this.log.error({ job: next.jobId, err: errorMessage(err) }, 'job execution crashed'),
        )
        .finally(() => {
          this.running.delete(key);
          this.done.delete(p);
          this.pump();
        });
      this.done.add(p);
    }
  }

  private async execute(queued: WorkItem): Promise<void> {
    const { work, outbox, signer } = this.options;
    const { jobId, attempt } = queued;
    const item = work.item(jobId, attempt);
    if (item?.state !== 'assigned') return;
    const request = item.request;
    const resultKey = `result:${attempt}`;
    const errorKey = `error:${attempt}`;
    for (const [key, state] of [
      [resultKey, 'done'],
      [errorKey, 'failed'],
    ] as const) {
      const sent = work.outboxItem(jobId, key);
      if (sent) {
        // Finished before a restart: make sure it went out, and do nothing else.
        if (!sent.published) await outbox.send(jobId, key, signer, sent.event);
        work.finish(jobId, attempt, state);
        return;
      }
    }
    await outbox.send(
      jobId,
      `processing:${attempt}`,
      signer,
      buildFeedback({ request, status: 'processing', message: `${this.options.name} is working on it` }),
    );
    const timeout = AbortSignal.timeout(this.options.dvm.jobTimeoutMs);
    const signal = AbortSignal.any([this.stopping.signal, timeout]);
    try {
      const encrypted = isEncryptedRequest(request);
      const logical = encrypted
        ? await this.recorded(jobId, `request:${attempt}`, () => decryptJobRequest(request, signer))
        : request;
      const serve = this.options.serves.find((s) => s.kind === request.kind);
      if (!serve) throw new JobInputError(`${this.options.name} does not serve kind ${request.kind}`);
      await this.recorded<RunRecord>(jobId, `run:${attempt}`, async () => ({
        agent: this.options.name,
        handler: serve.handler.name,
        systemPrompt: serve.systemPrompt ?? '',
      }));
      const output = await executeJob({
        request: logical,
        attempt,
        handler: serve.handler,
        maxInputBytes: this.options.dvm.maxInputBytes,
        signal,
        logger: this.log.child({ job: jobId }),
        effects: {
          recorded: (key, make) => this.recorded(jobId, key, make),
          resolveInputs: (inputs, s) => this.options.inputs.resolve(inputs, s),
          complete: (req) => this.options.llm.complete(req),
          progress: this.progress(request),
        },
      });
      if (this.stopping.signal.aborted) return;
      const gone = await this.noLongerMine(item);
      if (gone) {
        work.finish(jobId, attempt, 'dropped', gone);
        this.log.warn({ job: jobId, reason: gone }, 'result dropped: the job is no longer this agent’s');
        return;
      }
      let content = output.content;
      if (encrypted) {
        const nip04 = request.content.includes('?iv=');
        content = await (nip04 ? signer.nip04 : signer.nip44).encrypt(request.pubkey, content);
      }
      await outbox.send(
        jobId,
        resultKey,
        signer,
        buildResult({ request, content, encrypted, extraTags: output.tags }),
      );
      work.finish(jobId, attempt, 'done');
      this.log.info({ job: jobId, kind: request.kind }, 'job done, result published');
    } catch (err) {
      if (this.stopping.signal.aborted) {
        this.log.info({ job: jobId }, 'job interrupted by shutdown; it resumes on the next start');
        return;
      }
      const message = customerMessage(err, timeout.aborted, this.options.dvm.jobTimeoutMs);
      if (message.internal) this.log.error({ job: jobId, err: errorMessage(err) }, 'job failed');
      else this.log.info({ job: jobId, reason: message.text }, 'job refused');
      await outbox.send(
        jobId,
        errorKey,
        signer,
        buildFeedback({ request, status: 'error', message: message.text }),
      );
      work.finish(jobId, attempt, 'failed', message.text);
    }
  }

  /**
   * Why the job is no longer this attempt's, asked of the relay: the desk assigned a later attempt, or it
   * gave up on the job (its `error` feedback). Undefined while it is still ours, or when the relay cannot
   * tell (the desk ignores a result that is not the current attempt's anyway).
   */
  private async noLongerMine(item: WorkItem): Promise<string | undefined> {
    let events: NostrEvent[];
    try {
      events = await this.options.relay.query(
        [{ kinds: [ASSIGNMENT_KIND, FEEDBACK_KIND], authors: [item.desk], '#e': [item.jobId] }],
        { timeoutMs: QUERY_TIMEOUT_MS },
      );
    } catch {
      return undefined;
    }
    for (const e of events) {
      if (e.kind === ASSIGNMENT_KIND) {
        try {
          const later = parseAssignment(e);
          if (later.requestId === item.jobId && later.attempt > item.attempt)
            return `the desk assigned attempt ${later.attempt}`;
        } catch {
          // not an assignment we can read
        }
      } else if (e.created_at >= item.assignment.created_at) {
        try {
          const f = parseFeedback(e);
          if (f.status === 'error') return `the desk ended the job: ${f.message}`;
        } catch {
          // not feedback we can read
        }
      }
    }
    return undefined;
  }

  /** Runs `make` once per job and key: the value is recorded in this agent's work log and reused on resume/replay. */
  private async recorded<T>(jobId: string, key: string, make: () => Promise<T>): Promise<T> {
    const { work } = this.options;
    const found = work.effect(jobId, key);
    if (found.found) return readRecorded<T>(found.value);
    let value: T;
    try {
      value = await make();
    } catch (err) {
      const recordable = recordableError(err);
      if (recordable) this.record(jobId, key, recordable);
      throw err;
    }
    return readRecorded<T>(this.record(jobId, key, value));
  }

  /** Records a value; when another run recorded one first, that one counts. */
  private record(jobId: string, key: string, value: unknown): unknown {
    try {
      this.options.work.recordEffect(jobId, key, value);
      return value;
    } catch (err) {
      if (!(err instanceof RecordExistsError)) throw err;
      const found = this.options.work.effect(jobId, key);
      return found.found ? found.value : value;
    }
  }

  /** Best-effort `processing` feedback with a status line, at most one every 2 s (not recorded). */
  private progress(request: NostrEvent): (message: string) => void {
    let last = 0;
    return (message) => {
      const now = this.options.clock.now();
      if (now - last < 2000) return;
      last = now;
      void this.options.signer
        .signEvent(buildFeedback({ request, status: 'processing', message }))
        .then((e) => this.options.relay.publish(e))
        .catch((err: unknown) =>
          this.log.debug({ err: errorMessage(err) }, 'progress feedback not published'),
        );
    };
  }
}
