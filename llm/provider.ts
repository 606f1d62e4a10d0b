/**
 * The one interface every language-model back end implements: Ollama, any OpenAI-compatible server, an
 * in-process GGUF model, the cascade router itself, and the scripted fake used by tests.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CompletionRequest {
  messages: ChatMessage[];
  /** Upper bound on generated tokens. */
  maxTokens?: number;
  temperature?: number;
  /** Aborts the call; the provider rejects with an AbortError-like error promptly. */
  signal?: AbortSignal;
  /** Streaming: called with each piece of text as it is generated. */
  onToken?: (text: string) => void;
}

export interface Completion {
  text: string;
  /** Which provider answered (the router fills in the one that succeeded). */
  provider: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
}

export interface LlmProvider {
  /** Stable name used in logs, metrics and configuration (e.g. "ollama", "openai", "llama-cpp"). */
  readonly name: string;
  complete(request: CompletionRequest): Promise<Completion>;
  /** Releases sockets, model memory, worker threads. Idempotent. */
  close?(): Promise<void>;
}

/** No provider could answer: none configured, all circuits open, or all failed. The message says what to do. */
export class LlmUnavailableError extends Error {
  constructor(
    message: string,
    /** One line per provider tried: "ollama: timeout after 30000 ms". */
    readonly attempts: readonly string[] = [],
  ) {
    super(message);
    this.name = 'LlmUnavailableError';
  }
}

/** A provider answered, but not with something usable (malformed JSON, empty stream, wrong shape). */
export class LlmResponseError extends Error {
  constructor(
    readonly provider: string,
    message: string,
  ) {
    super(`${provider}: ${message}`);
    this.name = 'LlmResponseError';
  }
}
