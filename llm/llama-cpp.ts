/**
 * A GGUF model run in-process through node-llama-cpp (CPU only, prebuilt binary, never compiled here).
 *
 * The model loads lazily on the first call, once: concurrent first calls share the load, a failed load is
 * retried by the next call. A missing, unreadable or non-GGUF file is reported naming its path. One context
 * with one sequence serves all calls, one at a time (callers queue; an abort while queued leaves the queue).
 * The chat template comes from the model file; a model without one gets node-llama-cpp's best match or its
 * general wrapper. Token counts come from the model's own tokenizer: the rendered prompt, and the tokens
 * generated. `threads: 0` means one per physical core (node-llama-cpp's own default oversubscribes small
 * machines badly).
 */
import { basename } from 'node:path';
import type { ChatHistoryItem, Llama, LlamaChat, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { type Clock, systemClock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { abortError, raceAbort, throwIfAborted } from './abort.ts';
import { checkGgufFile } from './gguf-file.ts';
import {
  type ChatMessage,
  type Completion,
  type CompletionRequest,
  type LlmProvider,
  LlmResponseError,
  LlmUnavailableError,
} from './provider.ts';

export interface LlamaCppOptions {
  modelPath: string;
  contextSize: number;
  /** CPU threads; 0 = one per physical core. */
  threads: number;
  maxTokens?: number;
  temperature?: number;
  logger: Logger;
  clock?: Clock;
  /** Provider name (default "llama-cpp"). */
  name?: string;
}

interface Loaded {
  model: LlamaModel;
  context: LlamaContext;
  chat: LlamaChat;
  modelName: string;
}

/**
 * One node-llama-cpp runtime per process, shared by every provider; its log lines go to the last logger set.
 * The package is imported on first use only (it takes most of a second), so commands that never generate
 * with a local model do not pay for it.
 */
type NodeLlamaCpp = typeof import('node-llama-cpp');
let runtime: Promise<{ lib: NodeLlamaCpp; llama: Llama }> | undefined;
let runtimeLogger: Logger | undefined;
function sharedLlama(logger: Logger): Promise<{ lib: NodeLlamaCpp; llama: Llama }> {
  runtimeLogger = logger;
  runtime ??= (async () => {
    const lib = await import('node-llama-cpp');
    const { LlamaLogLevel } = lib;
    const llama = await lib.getLlama({
      build: 'never',
      gpu: false,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => {
        const text = message.trim();
        if (!text || !runtimeLogger) return;
        const fields = { component: 'node-llama-cpp' };
        if (level === LlamaLogLevel.fatal || level === LlamaLogLevel.error) runtimeLogger.error(fields, text);
        else if (level === LlamaLogLevel.warn) runtimeLogger.warn(fields, text);
        else runtimeLogger.debug(fields, text);
      },
    });
    return { lib, llama };
  })().catch((err: unknown) => {
    runtime = undefined;
    throw err;
  });
  return runtime;
}

export class LlamaCppProvider implements LlmProvider {
  readonly name: string;
  readonly modelPath: string;
  private readonly options: LlamaCppOptions;
  private readonly clock: Clock;
  private loading: Promise<Loaded> | undefined;
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: LlamaCppOptions) {
    this.options = options;
    this.name = options.name ?? 'llama-cpp';
    this.modelPath = options.modelPath;
    this.clock = options.clock ?? systemClock;
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    throwIfAborted(request.signal);
    const started = this.clock.now();
    const loaded = await raceAbort(this.load(), request.signal);
    const release = await this.turn(request.signal);
    try {
      throwIfAborted(request.signal);
      return await this.generate(loaded, request, started);
    } finally {
      release();
    }
  }

  /** Loads the model now (the first call does it otherwise); resolves to the model's name. */
  async warmUp(): Promise<string> {
    return (await this.load()).modelName;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const loading = this.loading;
    this.loading = undefined;
    if (!loading) return;
    const loaded = await loading.catch(() => undefined);
    if (!loaded) return;
    await loaded.context.dispose().catch(() => {});
    await loaded.model.dispose().catch(() => {});
  }

  private load(): Promise<Loaded> {
    if (this.closed) return Promise.reject(new LlmUnavailableError(`${this.name}: the provider is closed`));
    this.loading ??= this.doLoad().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  private async doLoad(): Promise<Loaded> {
    const path = this.modelPath;
    try {
      await checkGgufFile(path);
    } catch (err) {
      throw new LlmUnavailableError(`${this.name}: ${errorMessage(err)} (TIMMY_LLM_LLAMA_CPP_MODEL_PATH)`);
    }
    const t0 = this.clock.now();
    let runtime: { lib: NodeLlamaCpp; llama: Llama };
    try {
      runtime = await sharedLlama(this.options.logger);
    } catch (err) {
      throw new LlmUnavailableError(`${this.name}: cannot start node-llama-cpp: ${errorMessage(err)}`);
    }
    const { lib, llama } = runtime;
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: path });
    } catch (err) {
      throw new LlmUnavailableError(`${this.name}: cannot load the model ${path}: ${errorMessage(err)}`);
    }
    let context: LlamaContext;
    try {
      context = await model.createContext({
        contextSize: this.options.contextSize,
        threads: this.options.threads > 0 ? this.options.threads : llama.cpuMathCores,
        sequences: 1,
      });
    } catch (err) {
      await model.dispose().catch(() => {});
      throw new LlmUnavailableError(
        `${this.name}: cannot create a ${this.options.contextSize}-token context for ${path}: ${errorMessage(err)}`,
      );
    }
    const chat = new lib.LlamaChat({ contextSequence: context.getSequence() });
    const modelName = model.fileInfo.metadata.general?.name || basename(path);
    this.options.logger.info(
      {
        provider: this.name,
        model: modelName,
        path,
        loadMs: this.clock.now() - t0,
        chatWrapper: chat.chatWrapper.wrapperName,
      },
      'llama-cpp model loaded',
    );
    if (this.closed) {
      await context.dispose().catch(() => {});
      await model.dispose().catch(() => {});
      throw new LlmUnavailableError(`${this.name}: the provider is closed`);
    }
    return { model, context, chat, modelName };
  }

  /** Waits for this call's turn on the single sequence; resolves to the function that ends the turn. */
  private async turn(signal: AbortSignal | undefined): Promise<() => void> {
    const previous = this.tail;
    let release = (): void => {};
    const mine = new Promise<void>((r) => {
      release = r;
    });
    this.tail = previous.then(() => mine);
    try {
      await raceAbort(previous, signal);
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  private async generate(loaded: Loaded, request: CompletionRequest, started: number): Promise<Completion> {
    const history = toHistory(request.messages);
    const promptTokens = loaded.chat.chatWrapper
      .generateContextState({ chatHistory: history })
      .contextText.tokenize(loaded.model.tokenizer).length;
    let completionTokens = 0;
    let text = '';
    const maxTokens = request.maxTokens ?? this.options.maxTokens;
    const temperature = request.temperature ?? this.options.temperature;
    try {
      await loaded.chat.generateResponse(history, {
        ...(maxTokens !== undefined ? { maxTokens } : {}),
        ...(temperature !== undefined ? { temperature } : {}),
        signal: request.signal,
        stopOnAbortSignal: false,
        onToken: (tokens) => {
          completionTokens += tokens.length;
        },
        onTextChunk: (chunk) => {
          if (!chunk) return;
          text += chunk;
          request.onToken?.(chunk);
        },
      });
    } catch (err) {
      if (request.signal?.aborted) throw abortError(request.signal);
      throw new LlmResponseError(this.name, `generation failed: ${errorMessage(err)}`);
    }
    if (request.signal?.aborted) throw abortError(request.signal);
    if (text === '') throw new LlmResponseError(this.name, 'the model produced no text');
    return {
      text,
      provider: this.name,
      model: loaded.modelName,
      promptTokens,
      completionTokens,
      latencyMs: this.clock.now() - started,
    };
  }
}

/** Chat messages as node-llama-cpp history, ending with the model's turn (an assistant message last is continued). */
export function toHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m) =>
    m.role === 'assistant' ? { type: 'model', response: [m.content] } : { type: m.role, text: m.content },
  );
  const last = history[history.length - 1];
  if (last?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}
