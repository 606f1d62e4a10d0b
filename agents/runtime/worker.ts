import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { Signer } from '../../core/signer.ts';
import type { Publish, Subscribe, Subscription } from '../../core/transport.ts';
import { buildHeartbeat, parseAssignment } from '../../dvm/coordination.ts';
import { buildFeedback } from '../../dvm/feedback.ts';
import type { JobHandler } from '../../dvm/handler.ts';
import { JobInputError } from '../../dvm/handler.ts';
import type { JobLog } from '../../dvm/job-log.ts';
import { isTerminal, type JobView } from '../../dvm/job-state.ts';
import { ASSIGNMENT_KIND } from '../../dvm/kinds.ts';
import { decryptJobRequest, isEncryptedRequest } from '../../dvm/request.ts';
import { buildResult } from '../../dvm/result.ts';
import type { LlmProvider } from '../../llm/provider.ts';
import type { Outbox } from '../outbox.ts';
import { customerMessage, executeJob, type RunRecord, readRecorded, recordableError } from './execute.ts';
import type { InputResolver } from './inputs.ts';

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
  /** The coordinator whose assignments (kind 7600) this agent accepts. */
  coordinator: string;
  serves: readonly WorkerServe[];
  relay: Publish & Subscribe;
  log: JobLog;
  outbox: Outbox;
  inputs: InputResolver;
  llm: LlmProvider;
  dvm: Config['dvm'];
  clock: Clock;
  logger: Logger;
  /** Jobs this agent runs at once; more wait in its queue. */
  capacity?: number;
}

/**
 * A worker agent: executes the jobs the coordinator assigns to it (kind 7600 naming its pubkey), with the
 * handler of the job's kind, and answers the customer directly: `processing` feedback, then the kind
 * 6xxx result, or an `error` feedback whose message the customer can act on. It never decides on its own
 * to take a job, so two agents serving one kind never both execute it.
 *
 * Crash safety: every side effect is keyed by job and attempt in the job log. Resolved inputs and each
 * model completion are recorded before they are used, and every event goes through the Outbox (recorded,
 * then published), so a resumed job reuses what was done and never calls the model or publishes twice.
 */
export class DvmWorker {
  private readonly log: Logger;
  private readonly capacity: number;
  private readonly queue: { jobId: string; attempt: number }[] = [];
  private readonly running = new Set<string>();
  private readonly queued = new Set<string>();
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
      [{ kinds: [ASSIGNMENT_KIND], '#p': [this.options.pubkey], authors: [this.options.coordinator], since }],
      {
        onEvent: (e) => this.onAssignment(e),
        onClose: (reason) => this.log.warn({ reason }, 'assignment subscription closed by the relay'),
      },
    );
    for (const view of this.options.log.active()) {
      if (view.agent === this.options.pubkey && (view.state === 'assigned' || view.state === 'executing')) {
        this.log.info({ job: view.id, state: view.state, attempt: view.attempt }, 'resuming job');
        this.enqueue(view.id, view.attempt);
      }
    }
    // The first beat goes out shortly after start, once the coordinator's subscription is in place; then
    // one every interval. (Until then the coordinator counts a silent agent as alive: see Liveness.)
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

  private onAssignment(event: NostrEvent): void {
    let a: ReturnType<typeof parseAssignment>;
    try {
      a = parseAssignment(event);
    } catch (err) {
      this.log.warn({ id: event.id, err: errorMessage(err) }, 'ignoring a malformed assignment');
      return;
    }
    if (!this.stillMine(a.requestId, a.attempt)) {
      this.log.debug({ job: a.requestId, attempt: a.attempt }, 'ignoring a stale assignment');
      return;
    }
    this.enqueue(a.requestId, a.attempt);
  }

  private enqueue(jobId: string, attempt: number): void {
    const key = `${jobId}:${attempt}`;
    if (this.running.has(key) || this.queued.has(key) || this.stopping.signal.aborted) return;
    this.queued.add(key);
    this.queue.push({ jobId, attempt });
    this.pump();
  }

  private pump(): void {
    while (this.running.size < this.capacity && this.queue.length > 0) {
      const next = this.queue.shift();
      if (!next) break;
      const key = `${next.jobId}:${next.attempt}`;
      this.queued.delete(key);
      this.running.add(key);
      const p = this.execute(next.jobId, next.attempt)
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

  private async execute(jobId: string, attempt: number): Promise<void> {
    const { log, outbox, signer } = this.options;
    const view = log.get(jobId);
    if (!this.mine(view, attempt)) return;
    const request = view.request;
    const resultKey = `result:${attempt}`;
    const errorKey = `error:${attempt}`;
    for (const key of [resultKey, errorKey]) {
      const sent = view.outbox.find((o) => o.key === key);
      if (sent) {
        // Finished before a restart: make sure it went out, and do nothing else.
        if (!sent.published) await outbox.send(jobId, key, signer, sent.event);
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
      if (!this.stillMine(jobId, attempt)) {
        this.log.warn({ job: jobId }, 'the job was reassigned while this agent worked on it; result dropped');
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
    }
  }

  /** The job is assigned to this agent for this attempt and not finished (an assignment is not stale). */
  private stillMine(jobId: string, attempt: number): boolean {
    return this.mine(this.options.log.get(jobId), attempt);
  }

  private mine(view: JobView | undefined, attempt: number): view is JobView {
    return (
      view !== undefined &&
      view.agent === this.options.pubkey &&
      view.attempt === attempt &&
      !isTerminal(view.state)
    );
  }

  /** Runs `make` once per job and key: the value is recorded in the job log and reused on resume/replay. */
  private async recorded<T>(jobId: string, key: string, make: () => Promise<T>): Promise<T> {
    const found = this.options.log.effect(jobId, key);
    if (found.found) return readRecorded<T>(found.value);
    let value: T;
    try {
      value = await make();
    } catch (err) {
      const recordable = recordableError(err);
      if (recordable) this.options.log.append(jobId, { type: 'effect', key, value: recordable });
      throw err;
    }
    this.options.log.append(jobId, { type: 'effect', key, value });
    return value;
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
