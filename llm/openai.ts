/**
 * Any OpenAI-compatible server (llama.cpp's llama-server, LM Studio, vLLM, LocalAI, OpenAI itself):
 * `POST {url}/v1/chat/completions` with `stream: true` and `stream_options: {include_usage: true}`, read as
 * server-sent events (`data: {chunk}` … `data: [DONE]`). The URL may be given with or without its trailing
 * `/v1`. Token counts come from the final `usage` chunk; servers that send none get an estimate (about four
 * characters a token). The API key, when set, goes in `Authorization: Bearer` and nowhere else.
 */
import { type Clock, systemClock } from '../core/clock.ts';
import { throwIfAborted } from './abort.ts';
import { CompletionBuilder, clip } from './completion-builder.ts';
import { errorDetail, providerFetch, streamFailure } from './http-fetch.ts';
import { readLines, readSseData } from './http-stream.ts';
import {
  type Completion,
  type CompletionRequest,
  type LlmProvider,
  LlmResponseError,
  LlmUnavailableError,
} from './provider.ts';

export interface OpenAiOptions {
  /** Server URL, with or without the trailing /v1, e.g. http://127.0.0.1:8080 or http://host:1234/v1. */
  url: string;
  /** Model id; empty lets the server pick (llama-server serves one model). */
  model: string;
  apiKey?: string;
  maxTokens?: number;
  temperature?: number;
  clock?: Clock;
  /** Provider name (default "openai"). */
  name?: string;
}

interface Chunk {
  model?: unknown;
  choices?: { delta?: { content?: unknown }; message?: { content?: unknown }; finish_reason?: unknown }[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  error?: unknown;
}

/** The server root without a trailing slash or /v1: the API lives at `${root}/v1/...`. */
export function openAiRoot(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/v1$/, '');
}

export class OpenAiProvider implements LlmProvider {
  readonly name: string;
  readonly model: string;
  /** The server root (see openAiRoot). */
  readonly url: string;
  private readonly options: OpenAiOptions;
  private readonly clock: Clock;

  constructor(options: OpenAiOptions) {
    this.options = options;
    this.name = options.name ?? 'openai';
    this.model = options.model;
    this.url = openAiRoot(options.url);
    this.clock = options.clock ?? systemClock;
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    throwIfAborted(request.signal);
    const answer = new CompletionBuilder({
      provider: this.name,
      model: this.model || 'default',
      request,
      clock: this.clock,
    });
    const body: Record<string, unknown> = {
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      stream: true,
      stream_options: { include_usage: true },
    };
    if (this.model) body.model = this.model;
    const maxTokens = request.maxTokens ?? this.options.maxTokens;
    const temperature = request.temperature ?? this.options.temperature;
    if (maxTokens !== undefined) body.max_tokens = maxTokens;
    if (temperature !== undefined) body.temperature = temperature;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'text/event-stream',
    };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const res = await providerFetch(this.name, `${this.url}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: request.signal,
    });
    if (!res.ok) throw await this.httpError(res);
    try {
      if ((res.headers.get('content-type') ?? '').includes('application/json')) {
        this.whole(await res.text(), answer);
      } else {
        if (!res.body) throw new LlmResponseError(this.name, 'empty response body');
        await this.stream(res.body, answer);
      }
      return answer.finish();
    } catch (err) {
      throw streamFailure(this.name, err, request.signal);
    }
  }

  private async stream(body: ReadableStream<Uint8Array>, answer: CompletionBuilder): Promise<void> {
    let finished = false;
    for await (const data of readSseData(readLines(body))) {
      if (data.trim() === '[DONE]') return;
      const chunk = this.parse(data);
      this.take(chunk, answer);
      const choice = chunk.choices?.[0];
      const piece = choice?.delta?.content;
      if (piece !== undefined && piece !== null && typeof piece !== 'string')
        throw new LlmResponseError(this.name, `delta.content is not text: ${clip(data)}`);
      if (piece) answer.append(piece);
      if (typeof choice?.finish_reason === 'string') finished = true;
    }
    // Some servers end the stream without [DONE]; a finish_reason is proof enough that the answer is whole.
    if (!finished) throw new LlmResponseError(this.name, 'the answer stream ended before [DONE]');
  }

  /** A server that ignored `stream: true` and sent one JSON completion. */
  private whole(text: string, answer: CompletionBuilder): void {
    const chunk = this.parse(text);
    this.take(chunk, answer);
    const content = chunk.choices?.[0]?.message?.content;
    if (typeof content !== 'string')
      throw new LlmResponseError(this.name, `no message content in ${clip(text)}`);
    answer.append(content);
  }

  private parse(data: string): Chunk {
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new LlmResponseError(this.name, `malformed event in the answer stream: ${clip(data)}`);
    }
    if (chunk === null || typeof chunk !== 'object' || Array.isArray(chunk))
      throw new LlmResponseError(this.name, `unexpected event in the answer stream: ${clip(data)}`);
    const c = chunk as Chunk;
    if (c.error !== undefined) {
      const e = c.error as { message?: unknown };
      const msg = typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : JSON.stringify(e);
      throw new LlmResponseError(this.name, `server error: ${msg}`);
    }
    if (c.choices !== undefined && !Array.isArray(c.choices))
      throw new LlmResponseError(this.name, `choices is not a list: ${clip(data)}`);
    return c;
  }

  private take(chunk: Chunk, answer: CompletionBuilder): void {
    answer.setModel(chunk.model);
    const u = chunk.usage;
    if (u && typeof u === 'object') answer.setUsage(u.prompt_tokens, u.completion_tokens);
  }

  private async httpError(res: Response): Promise<Error> {
    const detail = await errorDetail(res);
    const where = `${this.url}/v1/chat/completions`;
    if (res.status === 401 || res.status === 403) {
      const key = this.options.apiKey
        ? 'the API key (TIMMY_LLM_OPENAI_API_KEY) was refused'
        : 'it needs an API key (set TIMMY_LLM_OPENAI_API_KEY)';
      return new LlmUnavailableError(
        `${this.name}: ${where} answered HTTP ${res.status}: ${key}${detail ? ` (${detail})` : ''}`,
      );
    }
    if (res.status === 404 && this.model && /model/i.test(detail)) {
      return new LlmUnavailableError(
        `${this.name}: model "${this.model}" is not served by ${this.url} (${detail}); check TIMMY_LLM_OPENAI_MODEL against GET ${this.url}/v1/models`,
      );
    }
    return new LlmUnavailableError(
      `${this.name}: ${where} answered HTTP ${res.status}${detail ? `: ${detail}` : ''}`,
    );
  }
}
