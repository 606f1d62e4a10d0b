/**
 * An Ollama server (https://ollama.com) through its native API: `POST /api/chat` with `stream: true`,
 * answered with NDJSON lines `{message: {content}, done: false}` and a final line with `done: true`,
 * `prompt_eval_count` and `eval_count` (token counts; estimated when missing).
 */
import { type Clock, systemClock } from '../core/clock.ts';
import { throwIfAborted } from './abort.ts';
import { errorDetail, providerFetch, streamFailure } from './http-fetch.ts';
import { readLines } from './http-stream.ts';
import {
  type Completion,
  type CompletionRequest,
  type LlmProvider,
  LlmResponseError,
  LlmUnavailableError,
} from './provider.ts';
import { estimatePromptTokens, estimateTokens } from './token-estimate.ts';

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
    const started = this.clock.now();
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
      return await this.readStream(res.body, request, started);
    } catch (err) {
      throw streamFailure(this.name, err, request.signal);
    }
  }

  private async readStream(
    body: ReadableStream<Uint8Array>,
    request: CompletionRequest,
    started: number,
  ): Promise<Completion> {
    let text = '';
    let model = this.model;
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
      if (typeof obj.model === 'string' && obj.model) model = obj.model;
      const piece = obj.message?.content;
      if (piece !== undefined && typeof piece !== 'string')
        throw new LlmResponseError(this.name, `message.content is not text: ${clip(line)}`);
      if (piece) {
        text += piece;
        request.onToken?.(piece);
      }
      if (obj.done === true) {
        if (text === '') throw new LlmResponseError(this.name, 'answered with no text');
        return {
          text,
          provider: this.name,
          model,
          promptTokens: count(obj.prompt_eval_count) ?? estimatePromptTokens(request.messages),
          completionTokens: count(obj.eval_count) ?? estimateTokens(text),
          latencyMs: this.clock.now() - started,
        };
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

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}
