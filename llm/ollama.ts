/**
 * An Ollama server (https://ollama.com) through its native API: `POST /api/chat` with `stream: true`,
 * answered with NDJSON lines `{message: {content}, done: false}` and a final line with `done: true`,
 * `prompt_eval_count` and `eval_count` (token counts; estimated when missing).
 */
import { type Clock, systemClock } from '../core/clock.ts';
import { throwIfAborted } from './abort.ts';
import { CompletionBuilder, clip } from './completion-builder.ts';
import { errorDetail, providerFetch, streamFailure } from './http-fetch.ts';
import { readLines } from './http-stream.ts';
import {
  type Completion,
  type CompletionRequest,
  type LlmProvider,
  LlmResponseError,
  LlmUnavailableError,
} from './provider.ts';

export interface OllamaOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:11434. */
  url: string;
  model: string;
  /** Used when a request does not say. */
  maxTokens?: number;
  temperature?: number;
  clock?: Clock;
  /** Provider name (default "ollama"). */
  name?: string;
}

interface OllamaLine {
  model?: unknown;
  message?: { content?: unknown };
  done?: unknown;
  error?: unknown;
  prompt_eval_count?: unknown;
  eval_count?: unknown;
}

export class OllamaProvider implements LlmProvider {
  readonly name: string;
  readonly model: string;
  readonly url: string;
  private readonly options: OllamaOptions;
  private readonly clock: Clock;

  constructor(options: OllamaOptions) {
    this.options = options;
    this.name = options.name ?? 'ollama';
    this.model = options.model;
    this.url = options.url.replace(/\/+$/, '');
    this.clock = options.clock ?? systemClock;
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    throwIfAborted(request.signal);
    const answer = new CompletionBuilder({
      provider: this.name,
      model: this.model,
      request,
      clock: this.clock,
    });
    const endpoint = `${this.url}/api/chat`;
    const options: Record<string, number> = {};
    const maxTokens = request.maxTokens ?? this.options.maxTokens;
    const temperature = request.temperature ?? this.options.temperature;
    if (maxTokens !== undefined) options.num_predict = maxTokens;
    if (temperature !== undefined) options.temperature = temperature;
    const res = await providerFetch(this.name, endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: this.model,
        messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
        stream: true,
        options,
      }),
      signal: request.signal,
    });
    if (!res.ok) throw await this.httpError(res);
    if (!res.body) throw new LlmResponseError(this.name, 'empty response body');
    try {
      return await this.readStream(res.body, answer);
    } catch (err) {
      throw streamFailure(this.name, err, request.signal);
    }
  }

  private async readStream(body: ReadableStream<Uint8Array>, answer: CompletionBuilder): Promise<Completion> {
    for await (const raw of readLines(body)) {
      const line = raw.trim();
      if (line === '') continue;
      let obj: OllamaLine;
      try {
        obj = JSON.parse(line) as OllamaLine;
      } catch {
        throw new LlmResponseError(this.name, `malformed line in the answer stream: ${clip(line)}`);
      }
      if (obj === null || typeof obj !== 'object')
        throw new LlmResponseError(this.name, `unexpected line in the answer stream: ${clip(line)}`);
      if (typeof obj.error === 'string') throw new LlmResponseError(this.name, `server error: ${obj.error}`);
      answer.setModel(obj.model);
      const piece = obj.message?.content;
      if (piece !== undefined && typeof piece !== 'string')
        throw new LlmResponseError(this.name, `message.content is not text: ${clip(line)}`);
      if (piece) answer.append(piece);
      if (obj.done === true) {
        answer.setUsage(obj.prompt_eval_count, obj.eval_count);
        return answer.finish();
      }
    }
    throw new LlmResponseError(this.name, 'the answer stream ended without its final "done" line');
  }

  private async httpError(res: Response): Promise<Error> {
    const detail = await errorDetail(res);
    if (res.status === 404 && /not found/i.test(detail)) {
      return new LlmUnavailableError(
        `${this.name}: model "${this.model}" is not available on ${this.url} (${detail}); ` +
          `pull it with: ollama pull ${this.model}`,
      );
    }
    return new LlmUnavailableError(
      `${this.name}: ${this.url}/api/chat answered HTTP ${res.status}${detail ? `: ${detail}` : ''}`,
    );
  }
}
