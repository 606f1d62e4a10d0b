import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { EventTemplate, NostrEvent } from '../../core/nostr.ts';
import type { Signer } from '../../core/signer.ts';
import { noTracing, type SpanHandle, type Tracing, traceparentOf, withSpan } from '../../core/tracing.ts';
import type { Publish, Subscribe } from '../../core/transport.ts';
import { type Assignment, buildHeartbeat, parseAssignment } from '../../dvm/coordination.ts';
import { buildFeedback } from '../../dvm/feedback.ts';
import type { HandlerMemory, JobHandler } from '../../dvm/handler.ts';
import { JobInputError } from '../../dvm/handler.ts';
import { MEMORY_SEARCH_KIND } from '../../dvm/kinds.ts';
import { decryptJobRequest, isEncryptedRequest } from '../../dvm/request.ts';
import { buildResult } from '../../dvm/result.ts';
import type { LlmProvider } from '../../llm/provider.ts';
import type { Outbox } from '../outbox.ts';
import { type AgentMemory, jobMemory, recallQuery, recallSafely } from './agent-memory.ts';
import { DeskWatch } from './desk-watch.ts';
import { customerMessage, executeJob, type RunRecord, readRecorded, recordableError } from './execute.ts';
import type { InputResolver } from './inputs.ts';
import { type Invoicer, resultInvoice } from './invoicing.ts';
import type { RelayLookups } from './relay-lookups.ts';
import type { ResultCopies } from './result-copies.ts';
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
  /** Batched reads of the relay (a request its subscription did not bring). */
  lookups: RelayLookups;
  inputs: InputResolver;
  llm: LlmProvider;
  dvm: Config['dvm'];
  clock: Clock;
  logger: Logger;
  /** Jobs this agent runs at once; more wait in its queue. */
  capacity?: number;
  /** For a peer's desk: the invoice a result carries for the assignment's price (agents/runtime/invoicing.ts). */
  invoicer?: Invoicer;
  /** Copies of each result to the relays its request names. */
  copies?: ResultCopies;
  /** Its memory: recalled into model prompts; each finished job remembered (docs/memory.md). */
  memory?: AgentMemory;
  /** Spans of each execution in the job's trace (docs/observability.md, "Traces"); none by default. */
  tracing?: Tracing;
}

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
  readonly capacity: number;
  private readonly queue: WorkItem[] = [];
  private readonly running = new Set<string>();
  private readonly queued = new Set<string>();
  private readonly accepting = new Set<string>();
  private readonly watch: DeskWatch;
  private readonly retries = new Set<NodeJS.Timeout>();
  private heartbeat: NodeJS.Timeout | undefined;
  private firstBeat: NodeJS.Timeout | undefined;
  private readonly stopping = new AbortController();
  private readonly done = new Set<Promise<void>>();

  constructor(private readonly options: WorkerOptions) {
    this.log = options.logger.child({ agent: options.name });
    this.capacity = options.capacity ?? 4;
    this.watch = new DeskWatch({
      relay: options.relay,
      desk: options.desk,
      agent: options.pubkey,
      kinds: options.serves.map((s) => s.kind),
      lookups: options.lookups,
      logger: this.log,
      onAssignment: (e) =>
        void this.onAssignment(e).catch((err: unknown) =>
          this.log.error({ err: errorMessage(err) }, 'handling an assignment failed'),
        ),
    });
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

  /** Follows the desk on the relay, starts beating, and resumes the jobs it had in hand when it stopped. */
  start(): void {
    const since = Math.floor(this.options.clock.now() / 1000) - this.options.dvm.requestLookbackSeconds;
    this.watch.start(since);
    // A job in hand when the agent stopped resumes once the agent has caught up with what the desk published
    // meanwhile (bounded: a relay that never answers does not hold it forever), so a job the desk gave to
    // another attempt or ended is dropped, not run again.
    const open = this.options.work.open();
    if (open.length > 0)
      void this.watch.synced
        .then(() => {
          for (const item of open) {
            this.log.info({ job: item.jobId, attempt: item.attempt }, 'resuming job');
            this.enqueue(item);
          }
        })
        .catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'resuming jobs failed'));
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
    this.watch.stop();
    for (const t of this.retries) clearTimeout(t);
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
    // An assignment read while catching up (a restart) is judged on everything the desk published since.
    await this.watch.synced;
    const moved = this.watch.noLongerMine(a.requestId, a.attempt);
    if (moved && !work.item(a.requestId, a.attempt)) {
      this.log.debug({ job: a.requestId, attempt: a.attempt, reason: moved }, 'ignoring a stale assignment');
      return;
    }
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
  private async accept(event: NostrEvent, a: Assignment, tries = 0): Promise<void> {
    let request: NostrEvent | undefined;
    try {
      const found = await this.watch.request(a.requestId);
      if (found?.kind === a.kind && found.pubkey === a.customer) request = found;
    } catch (err) {
      // The relay did not answer: try again shortly (the desk reassigns the job if this agent never starts).
      this.log.warn(
        { job: a.requestId, err: errorMessage(err) },
        'could not read the assigned request; will retry',
      );
      if (tries < 10 && !this.stopping.signal.aborted) {
        const timer = setTimeout(
          () => {
            this.retries.delete(timer);
            void this.accept(event, a, tries + 1).catch((e: unknown) =>
              this.log.error({ err: errorMessage(e) }, 'handling an assignment failed'),
            );
          },
          1000 * (tries + 1),
        );
        timer.unref();
        this.retries.add(timer);
      }
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
    const { work, signer } = this.options;
    const price = Number(event.tags.find((t) => t[0] === 'price')?.[1]);
    const serve = this.options.serves.find((s) => s.kind === request.kind);
    const processing = await signer.signEvent(
      buildFeedback({ request, status: 'processing', message: `${this.options.name} is working on it` }),
    );
    // One transaction: the assignment accepted, what will run it, and the `processing` feedback to send.
    const item = work.transaction(() => {
      const accepted = work.accept({
        jobId: a.requestId,
        attempt: a.attempt,
        desk: a.coordinator,
        kind: a.kind,
        customer: a.customer,
        assignment: event,
        request,
        priceMsats: Number.isSafeInteger(price) && price >= 0 ? price : undefined,
      });
      const run = `run:${a.attempt}`;
      if (serve && !work.effect(a.requestId, run).found)
        work.recordEffect(a.requestId, run, this.runRecord(serve));
      const key = `processing:${a.attempt}`;
      if (!work.outboxItem(a.requestId, key)) work.recordOutbox(a.requestId, key, processing);
      return accepted;
    });
    this.enqueue(item);
  }

  /** Which agent ran an attempt with which handler and prompt (recorded, so a replay runs the same code). */
  private runRecord(serve: WorkerServe): RunRecord {
    return { agent: this.options.name, handler: serve.handler.name, systemPrompt: serve.systemPrompt ?? '' };
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

  /** The finished job into the agent's memory (its row is written at once; a failure is only logged). */
  private remember(
    request: NostrEvent,
    encrypted: boolean,
    prompt: string | undefined,
    answer: string,
  ): void {
    const memory = this.options.memory;
    // A search of the memory is not remembered: its answer is memories already there.
    if (!memory || request.kind === MEMORY_SEARCH_KIND) return;
    const asked =
      prompt ??
      request.tags
        .filter((t) => t[0] === 'i')
        .map((t) => t[1] ?? '')
        .join(' ');
    const m = jobMemory({ request, prompt: asked, answer, encrypted });
    memory
      .remember(this.options.name, { kind: 'episodic', content: m.content, meta: m.meta })
      .catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'the job was not remembered'));
  }

  /** The memory as a handler sees it: searches default to this agent's namespace. */
  private memorySearch(memory: AgentMemory): HandlerMemory {
    return {
      search: (query, { agent, ...o }) => memory.search(agent ?? this.options.name, query, o),
    };
  }

  /**
   * One attempt, as a span of the job's trace: under the desk's span its assignment names (its
   * `traceparent` tag), else under the job's root as the request id names it.
   */
  private async execute(queued: WorkItem): Promise<void> {
    const item = this.options.work.item(queued.jobId, queued.attempt);
    if (item?.state !== 'assigned') return;
    const tracing = this.options.tracing ?? noTracing;
    const span = tracing.start('agent.execute', {
      parent: { traceparent: traceparentOf(item.assignment), job: item.jobId },
      attributes: tracing.enabled
        ? { 'timmy.agent': this.options.name, 'timmy.job.kind': item.kind, 'timmy.job.attempt': item.attempt }
        : {},
    });
    try {
      const outcome = await this.attempt(item, span, this.log.child({ job: item.jobId, ...span.logFields }));
      span.set({ 'timmy.job.outcome': outcome });
      span.end(outcome === 'failed' ? 'the job failed' : undefined);
    } catch (err) {
      span.end(err);
      throw err;
    }
  }

  private async attempt(
    item: WorkItem,
    span: SpanHandle,
    log: Logger,
  ): Promise<'done' | 'failed' | 'dropped' | 'interrupted' | 'resent'> {
    const { work, outbox, signer } = this.options;
    const { jobId, attempt } = item;
    const tracing = this.options.tracing ?? noTracing;
    const request = item.request;
    const resultKey = `result:${attempt}`;
    const errorKey = `error:${attempt}`;
    for (const [key, state] of [
      [resultKey, 'done'],
      [errorKey, 'failed'],
    ] as const) {
      const sent = work.outboxItem(jobId, key);
      if (sent) {
        // Finished before a restart: make sure it went out (or that its refusal was reported), nothing else.
        work.finish(jobId, attempt, state);
        if (sent.refused !== undefined && key === resultKey) await this.resultRefused(item, sent.refused);
        else if (!sent.published && sent.refused === undefined)
          await outbox.send(jobId, key, signer, sent.event);
        return 'resent';
      }
    }
    // Moved on while this attempt waited (in the queue, or across a restart): nothing to run.
    const moved = this.watch.noLongerMine(jobId, attempt);
    if (moved) {
      work.finish(jobId, attempt, 'dropped', moved);
      log.info({ reason: moved }, 'job dropped before it ran: it is no longer this agent’s');
      return 'dropped';
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
      let prompt: string | undefined;
      const serve = this.options.serves.find((s) => s.kind === request.kind);
      if (!serve) throw new JobInputError(`${this.options.name} does not serve kind ${request.kind}`);
      await this.recorded<RunRecord>(jobId, `run:${attempt}`, async () => this.runRecord(serve));
      const output = await executeJob({
        request: logical,
        attempt,
        handler: serve.handler,
        maxInputBytes: this.options.dvm.maxInputBytes,
        signal,
        logger: log,
        effects: {
          recorded: (key, make) => this.recorded(jobId, key, make),
          // A span only when there is something to fetch (text inputs are the request's own).
          resolveInputs: (inputs, s) =>
            inputs.every((i) => i.type === 'text')
              ? this.options.inputs.resolve(inputs, s)
              : withSpan(tracing, 'agent.inputs', span, { 'timmy.inputs': inputs.length }, () =>
                  this.options.inputs.resolve(inputs, s),
                ),
          complete: (req) =>
            withSpan(tracing, 'llm.complete', span, {}, async (llmSpan) => {
              const memory = this.options.memory;
              if (memory) prompt = recallQuery(req);
              const completion = await this.options.llm.complete(
                memory ? await recallSafely(memory, this.options.name, req, log, request.pubkey) : req,
              );
              llmSpan.set({
                'gen_ai.system': completion.provider,
                'gen_ai.request.model': completion.model,
                'gen_ai.usage.input_tokens': completion.promptTokens,
                'gen_ai.usage.output_tokens': completion.completionTokens,
              });
              return completion;
            }),
          progress: this.progress(request),
          ...(this.options.memory ? { memory: this.memorySearch(this.options.memory) } : {}),
        },
      });
      if (this.stopping.signal.aborted) return 'interrupted';
      const gone = this.watch.noLongerMine(jobId, attempt);
      if (gone) {
        work.finish(jobId, attempt, 'dropped', gone);
        log.warn({ reason: gone }, 'result dropped: the job is no longer this agent’s');
        return 'dropped';
      }
      let content = output.content;
      if (encrypted) {
        const nip04 = request.content.includes('?iv=');
        content = await (nip04 ? signer.nip04 : signer.nip44).encrypt(request.pubkey, content);
      }
      const invoice = await resultInvoice({
        item,
        agent: this.options.name,
        invoicer: this.options.invoicer,
        recorded: (key, make) => this.recorded(jobId, key, make),
        logger: this.log,
        signal: this.stopping.signal,
      });
      await withSpan(tracing, 'agent.result', span, {}, () =>
        this.finish(
          item,
          resultKey,
          buildResult({ request, content, encrypted, extraTags: output.tags, ...invoice }),
          'done',
        ),
      );
      log.info({ kind: request.kind }, 'job done, result published');
      this.remember(logical, encrypted, prompt, output.content);
      return 'done';
    } catch (err) {
      if (this.stopping.signal.aborted) {
        log.info('job interrupted by shutdown; it resumes on the next start');
        return 'interrupted';
      }
      const message = customerMessage(err, timeout.aborted, this.options.dvm.jobTimeoutMs);
      if (message.internal) log.error({ err: errorMessage(err) }, 'job failed');
      else log.info({ reason: message.text }, 'job refused');
      span.set({ 'timmy.job.error': message.text });
      await this.finish(
        item,
        errorKey,
        buildFeedback({ request, status: 'error', message: message.text }),
        'failed',
        message.text,
      );
      return 'failed';
    }
  }

  /**
   * Ends the attempt: the signed result (or error feedback) and the attempt's end are recorded together in
   * the work log, then published by the outbox (again after a crash, never re-signed).
   */
  private async finish(
    item: WorkItem,
    key: string,
    template: EventTemplate,
    state: 'done' | 'failed',
    reason?: string,
  ): Promise<void> {
    const { work, outbox, signer } = this.options;
    const event = await signer.signEvent(template);
    work.transaction(() => {
      if (!work.outboxItem(item.jobId, key)) work.recordOutbox(item.jobId, key, event);
      work.finish(item.jobId, item.attempt, state, reason);
    });
    const { event: sent, published } = await outbox.send(item.jobId, key, signer, template);
    const copies = this.options.copies;
    if (state === 'done')
      void published
        .then((outcome) =>
          typeof outcome === 'object'
            ? this.resultRefused(item, outcome.refused)
            : outcome === 'published'
              ? copies?.copy(item.request, sent)
              : undefined,
        )
        .catch((err: unknown) =>
          this.log.error({ job: item.jobId, err: errorMessage(err) }, 'reporting a refused result failed'),
        );
  }

  /**
   * The relay refused the result for good (too large for it, say): the customer and the desk are told with
   * an `error` feedback, so the job fails (and a payment is refunded) instead of waiting for a result that
   * never comes.
   */
  private async resultRefused(item: WorkItem, reason: string): Promise<void> {
    const message = `the relay refused the result: ${reason}`;
    this.log.warn({ job: item.jobId, reason }, 'the relay refused the result');
    this.options.work.failAfter(item.jobId, item.attempt, message);
    await this.options.outbox.send(
      item.jobId,
      `error:${item.attempt}`,
      this.options.signer,
      buildFeedback({ request: item.request, status: 'error', message }),
    );
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
