import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Signer } from '../../core/signer.ts';
import type { Tracing } from '../../core/tracing.ts';
import type { Publish, Subscribe } from '../../core/transport.ts';
import type { LlmProvider } from '../../llm/provider.ts';
import { Outbox } from '../outbox.ts';
import type { Persona } from '../persona.ts';
import type { AgentMemory } from './agent-memory.ts';
import { Bidder } from './bidder.ts';
import { DvmBeat } from './dvm-beat.ts';
import type { InputResolver } from './inputs.ts';
import type { Invoicer } from './invoicing.ts';
import { RelayLookups } from './relay-lookups.ts';
import type { ResultCopies } from './result-copies.ts';
import type { AgentWork } from './work-log.ts';
import { DvmWorker, type WorkerServe } from './worker.ts';

export interface AgentRuntimeOptions {
  persona: Persona;
  signer: Signer;
  pubkey: string;
  /** The desk this agent works for: whose assignments and auctions it takes (its own, or a peer's). */
  desk: string;
  /** The handlers for the kinds it serves (agents/runtime/roster.ts). */
  serves: readonly WorkerServe[];
  /** This agent's own connection to the relay (NIP-42 AUTH is per pubkey). */
  relay: Publish & Subscribe;
  /** Its own part of the work log (for a peer's desk: `WorkLog.forAway`). */
  work: AgentWork;
  inputs: InputResolver;
  llm: LlmProvider;
  config: Pick<Config, 'dvm' | 'auction' | 'llm'>;
  clock: Clock;
  logger: Logger;
  /** For a peer's desk: makes the invoice its results carry for the assigned price (agents/runtime/invoicing.ts). */
  invoicer?: Invoicer;
  /** Copies results to the relays their request names (agents/runtime/result-copies.ts). */
  copies?: ResultCopies;
  /** The kind 11998 heartbeat (on its own relay only): its NIP-89 d and the interval in seconds. */
  dvmHeartbeat?: { d: string; intervalSeconds: number };
  /** Its memory (docs/memory.md): recalled into model prompts, finished jobs remembered. */
  memory?: AgentMemory;
  /** Its bids and executions as spans of the jobs' traces (docs/observability.md); none by default. */
  tracing?: Tracing;
}

/**
 * One agent at work: it bids in the desk's auctions (when auctions are on) and executes what it is assigned,
 * with its own outbox over its own record and its own connection. Everything it shares with the desk goes
 * over the relay as signed events, so it runs the same in the desk's process (`timmy start`) as in a process
 * of its own (`timmy agents run`).
 */
export class AgentRuntime {
  readonly worker: DvmWorker;
  private readonly bidder: Bidder | undefined;
  private readonly outbox: Outbox;
  private readonly dvmBeat: DvmBeat | undefined;
  private started = false;

  constructor(private readonly options: AgentRuntimeOptions) {
    const { persona, signer, pubkey, desk, serves, relay, work, config, clock, logger } = options;
    this.outbox = new Outbox({ store: work, relay, logger: logger.child({ agent: persona.name }) });
    const lookups = new RelayLookups(relay);
    this.worker = new DvmWorker({
      name: persona.name,
      signer,
      pubkey,
      desk,
      serves,
      relay,
      work,
      outbox: this.outbox,
      lookups,
      inputs: options.inputs,
      llm: options.llm,
      dvm: config.dvm,
      clock,
      logger,
      invoicer: options.invoicer,
      copies: options.copies,
      memory: options.memory,
      ...(options.tracing ? { tracing: options.tracing } : {}),
    });
    const worker = this.worker;
    this.dvmBeat = options.dvmHeartbeat
      ? new DvmBeat({
          ...options.dvmHeartbeat,
          signer,
          relay,
          load: () => worker.load,
          capacity: worker.capacity,
          clock,
          logger: logger.child({ agent: persona.name }),
        })
      : undefined;
    this.bidder = config.auction.enabled
      ? new Bidder({
          name: persona.name,
          signer,
          pubkey,
          desk,
          prices: new Map(serves.map((s) => [s.kind, s.priceMsats])),
          llmKinds: new Set(serves.filter((s) => s.handler.needsLlm).map((s) => s.kind)),
          cost: persona.cost,
          relay,
          work,
          lookups,
          outbox: this.outbox,
          load: () => worker.load,
          llm: config.llm,
          lookbackSeconds: config.dvm.requestLookbackSeconds,
          clock,
          logger,
          ...(options.tracing ? { tracing: options.tracing } : {}),
        })
      : undefined;
  }

  get name(): string {
    return this.options.persona.name;
  }

  get pubkey(): string {
    return this.options.pubkey;
  }

  get kinds(): number[] {
    return this.worker.kinds;
  }

  get load(): number {
    return this.worker.load;
  }

  /**
   * Takes the agent's lease (AgentBusyError when another live process runs it from this work log),
   * publishes what it recorded but never got out, then takes assignments and auctions.
   */
  async start(): Promise<void> {
    this.options.work.claim();
    this.started = true;
    // Events recorded before a crash but never acknowledged go out first (same ids: idempotent).
    await this.outbox
      .flush()
      .catch((err: unknown) =>
        this.options.logger.warn(
          { agent: this.name, err: errorMessage(err) },
          'some recorded events are not out yet; retrying',
        ),
      );
    this.worker.start();
    this.bidder?.start();
    this.dvmBeat?.start();
  }

  async stop(): Promise<void> {
    this.dvmBeat?.stop();
    this.bidder?.stop();
    await this.worker.stop();
    this.outbox.stop();
    if (this.started) this.options.work.release();
  }
}
