import type { Logger } from '../core/logger.ts';
import type { Completion, CompletionRequest } from '../llm/provider.ts';

/**
 * What an agent runs for one NIP-90 job kind. Handlers are pure job logic: they get resolved inputs and a
 * context, and return the result content. Publishing, feedback, idempotency and the job log are the
 * runtime's business (agents/runtime/worker.ts), so a handler never talks to a relay.
 */

/** One `i` tag of the request, with its data resolved to text (url fetched, event/job looked up). */
export interface ResolvedInput {
  type: 'text' | 'url' | 'event' | 'job';
  /** The tag's data as written in the request (the text itself, a URL, an event id, a job id). */
  data: string;
  marker: string;
  /** The input's content as text: the text itself, the fetched body, the event's content, the job's result. */
  text: string;
  /** For url inputs: the response's content type (e.g. "text/html; charset=utf-8"); '' otherwise. */
  contentType: string;
}

export interface JobInput {
  /** Request event id. */
  id: string;
  kind: number;
  customer: string;
  inputs: ResolvedInput[];
  /** `param` tags, last one wins per name. */
  params: Record<string, string>;
  /** Every value of each param (some take several, e.g. ["param", "range", "300", "360"]); last tag wins. */
  paramValues?: Record<string, string[]>;
  /** `output` tag (a MIME type), '' when absent. */
  output: string;
}

export interface HandlerOutput {
  content: string;
  /** Tags to add to the result event beyond the standard ones (rare). */
  tags?: string[][];
}

export interface HandlerContext {
  /**
   * Calls the language model through the instance's router. The call is recorded under `key` (unique within
   * the job): when a job is resumed or replayed, a recorded completion is returned instead of calling again.
   * Rejects with LlmUnavailableError (its message says how to enable a model) when none can answer.
   */
  llm(key: string, request: Omit<CompletionRequest, 'signal'>): Promise<Completion>;
  /** Sends a NIP-90 `partial`/`processing` feedback with this text (best effort, rate-limited). */
  progress(message: string): void;
  signal: AbortSignal;
  logger: Logger;
  /** The agent's memory, to search (the memory DVM kind); absent when the agent has none. */
  memory?: HandlerMemory;
}

/** One memory found by a search, with where it came from (docs/memory.md, "Memory as a DVM"). */
export interface MemoryHit {
  id: number;
  /** Its namespace: the agent's name. */
  agent: string;
  kind: string;
  content: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Cosine similarity, or the reciprocal rank fusion score of a hybrid search. */
  score: number;
  meta: Record<string, unknown>;
}

export interface MemorySearchOptions {
  /** The namespace searched; absent: the serving agent's own. */
  agent?: string;
  k: number;
  kinds?: readonly string[];
  /** Vector and BM25 fused (reciprocal rank fusion) instead of the vector search alone. */
  hybrid?: boolean;
}

/** What a handler may ask of the serving agent's memory. */
export interface HandlerMemory {
  search(query: string, options: MemorySearchOptions): Promise<MemoryHit[]>;
}

/** A failure the customer should read (sent as NIP-90 `error` feedback with this message). */
export class JobInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobInputError';
  }
}

export interface JobHandler {
  /** Name used in persona files, e.g. "echo", "extractive-summary". */
  readonly name: string;
  /** Job kinds this handler can serve (a persona picks which of them its agent announces). */
  readonly kinds: readonly number[];
  /** Whether the handler needs a language model (so the agent can say so in its announcement). */
  readonly needsLlm: boolean;
  /**
   * The `param` tags it reads, as a JSON schema of an object keyed by param name (announced in NIP-89 as a
   * `param-schema` tag; values travel as strings and are typed as the handler reads them). Absent: not stated.
   */
  readonly paramSchema?: Readonly<Record<string, unknown>>;
  /**
   * The handler fetches its `url` inputs itself (binary media such as audio, under its own limits): the
   * runtime hands them over unfetched (`text` and `contentType` empty). Other inputs are resolved as usual.
   */
  readonly fetchesUrls?: boolean;
  run(job: JobInput, ctx: HandlerContext): Promise<HandlerOutput>;
}
