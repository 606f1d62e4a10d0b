/**
 * An OpenAI-compatible test server on loopback: `POST /v1/chat/completions` (SSE stream `data:` chunks, the
 * usage chunk when `stream_options.include_usage`, then `data: [DONE]`; or one JSON object without
 * `stream`), and `GET /v1/models`, answering through any LlmProvider. With `apiKey` set, requests without
 * `Authorization: Bearer <apiKey>` get a 401.
 */

import { errorMessage } from '../../core/errors.ts';
import type { ChatMessage, LlmProvider } from '../provider.ts';
import { clientGone, type LoopbackServer, startLoopbackServer } from './loopback-server.ts';

export interface FakeOpenAiOptions {
  backend: LlmProvider;
  /** Model ids served (default ["tiny"]); an empty model in a request means the first. */
  models?: string[];
  apiKey?: string;
  /** Leave out the usage chunk even when asked (as some servers do). */
  omitUsage?: boolean;
}

export interface FakeOpenAi extends LoopbackServer {
  requests: Record<string, unknown>[];
  /** Authorization headers received. */
  authorizations: (string | undefined)[];
}

export async function startFakeOpenAi(options: FakeOpenAiOptions): Promise<FakeOpenAi> {
  const models = options.models ?? ['tiny'];
  const requests: Record<string, unknown>[] = [];
  const authorizations: (string | undefined)[] = [];
  const server = await startLoopbackServer(async (req, body, res) => {
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    authorizations.push(req.headers.authorization);
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      json(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
      return;
    }
    if (req.method === 'GET' && req.url === '/v1/models') {
      json(200, { object: 'list', data: models.map((id) => ({ id, object: 'model', owned_by: 'test' })) });
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      json(404, { error: { message: `no route ${req.method} ${req.url}` } });
      return;
    }
    const input = JSON.parse(body) as {
      model?: string;
      messages: ChatMessage[];
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
      max_tokens?: number;
      temperature?: number;
    };
    requests.push(input as unknown as Record<string, unknown>);
    const model = input.model || models[0] || 'default';
    if (!models.includes(model)) {
      json(404, {
        error: { message: `The model \`${model}\` does not exist`, type: 'invalid_request_error' },
      });
      return;
    }
    const id = `chatcmpl-${requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`;
    if (input.stream)
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    try {
      const c = await options.backend.complete({
        messages: input.messages,
        maxTokens: input.max_tokens,
        temperature: input.temperature,
        signal: clientGone(res),
        onToken: input.stream
          ? (t) => res.write(chunk([{ index: 0, delta: { content: t }, finish_reason: null }]))
          : undefined,
      });
      const usage = {
        prompt_tokens: c.promptTokens,
        completion_tokens: c.completionTokens,
        total_tokens: c.promptTokens + c.completionTokens,
      };
      if (!input.stream) {
        json(200, {
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: c.text }, finish_reason: 'stop' }],
          usage,
        });
        return;
      }
      res.write(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
      if (input.stream_options?.include_usage && !options.omitUsage) res.write(chunk([], { usage }));
      res.end('data: [DONE]\n\n');
    } catch (err) {
      const message = errorMessage(err);
      if (!input.stream) json(500, { error: { message } });
      else res.end(`data: ${JSON.stringify({ error: { message } })}\n\n`);
    }
  });
  return { ...server, requests, authorizations };
}
