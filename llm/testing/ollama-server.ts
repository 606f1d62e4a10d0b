/**
 * An Ollama-API-speaking test server on loopback: `POST /api/chat` (NDJSON stream, or one JSON object with
 * `stream: false`) and `GET /api/tags`, answering through any LlmProvider (a ScriptedProvider, or the real
 * LlamaCppProvider on a tiny GGUF). A model not in `models` gets Ollama's 404 "not found" answer.
 */

import { errorMessage } from '../../core/errors.ts';
import type { ChatMessage, LlmProvider } from '../provider.ts';
import { clientGone, type LoopbackServer, startLoopbackServer } from './loopback-server.ts';

export interface FakeOllamaOptions {
  backend: LlmProvider;
  /** Model names the server "has pulled" (default ["tiny"]); tags are listed as "<name>:latest". */
  models?: string[];
}

export interface FakeOllama extends LoopbackServer {
  /** Parsed bodies of the /api/chat requests. */
  requests: Record<string, unknown>[];
}

export async function startFakeOllama(options: FakeOllamaOptions): Promise<FakeOllama> {
  const models = options.models ?? ['tiny'];
  const has = (m: string) => models.includes(m) || models.includes(m.replace(/:latest$/, ''));
  const requests: Record<string, unknown>[] = [];
  const server = await startLoopbackServer(async (req, body, res) => {
    if (req.method === 'GET' && req.url === '/api/tags') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          models: models.map((m) => ({ name: `${m}:latest`, model: `${m}:latest`, size: 1 })),
        }),
      );
      return;
    }
    if (req.method !== 'POST' || req.url !== '/api/chat') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found');
      return;
    }
    const input = JSON.parse(body) as {
      model: string;
      messages: ChatMessage[];
      stream?: boolean;
      options?: { num_predict?: number; temperature?: number };
    };
    requests.push(input as unknown as Record<string, unknown>);
    if (!has(input.model)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `model "${input.model}" not found, try pulling it first` }));
      return;
    }
    const stream = input.stream !== false;
    const line = (o: Record<string, unknown>) =>
      `${JSON.stringify({ model: input.model, created_at: new Date().toISOString(), ...o })}\n`;
    res.writeHead(200, { 'content-type': stream ? 'application/x-ndjson' : 'application/json' });
    try {
      const c = await options.backend.complete({
        messages: input.messages,
        maxTokens: input.options?.num_predict,
        temperature: input.options?.temperature,
        signal: clientGone(res),
        onToken: stream
          ? (t) => res.write(line({ message: { role: 'assistant', content: t }, done: false }))
          : undefined,
      });
      const final = {
        message: { role: 'assistant', content: stream ? '' : c.text },
        done: true,
        done_reason: 'stop',
        prompt_eval_count: c.promptTokens,
        eval_count: c.completionTokens,
      };
      res.end(stream ? line(final) : line(final).trim());
    } catch (err) {
      res.end(line({ error: errorMessage(err) }));
    }
  });
  return { ...server, requests };
}
