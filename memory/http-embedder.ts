import { errorMessage } from '../core/errors.ts';
import { checkVectors, type Embedder, EmbedderError } from './embedder.ts';

export interface HttpEmbedderOptions {
  /** "ollama" (POST /api/embed) or "openai" (POST /v1/embeddings, any compatible server). */
  api: 'ollama' | 'openai';
  /** The server's base URL, e.g. http://127.0.0.1:11434. */
  url: string;
  model: string;
  apiKey?: string;
  /** 0: asked from the server by embedding one text in `ready()`. */
  dimension?: number;
  timeoutMs?: number;
  /** Texts per request (default 64). */
  maxBatch?: number;
}

/** An embedder behind an HTTP API: Ollama's embeddings API, or an OpenAI-compatible `/v1/embeddings`. */
export class HttpEmbedder implements Embedder {
  readonly model: string;
  private dim: number;
  private readonly options: HttpEmbedderOptions;

  constructor(options: HttpEmbedderOptions) {
    if (options.url === '') throw new EmbedderError(`memory.url is needed for the ${options.api} embedder`);
    if (options.model === '')
      throw new EmbedderError(`memory.model is needed for the ${options.api} embedder`);
    this.options = options;
    this.model = `${options.api}:${options.model}`;
    this.dim = options.dimension ?? 0;
  }

  get dimension(): number {
    return this.dim;
  }

  async ready(): Promise<void> {
    if (this.dim > 0) return;
    const [v] = await this.request(['dimension probe']);
    this.dim = v?.length ?? 0;
    if (this.dim === 0) throw new EmbedderError(`${this.model}: the server returned an empty vector`);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    await this.ready();
    const out: Float32Array[] = [];
    const batch = this.options.maxBatch ?? 64;
    for (let i = 0; i < texts.length; i += batch) {
      const part = texts.slice(i, i + batch);
      out.push(...checkVectors(this.model, this.dim, part.length, await this.request(part)));
    }
    return out;
  }

  async close(): Promise<void> {}

  private async request(input: readonly string[]): Promise<Float32Array[]> {
    const { api, url, apiKey } = this.options;
    const base = url.replace(/\/+$/, '');
    const endpoint =
      api === 'ollama' ? `${base}/api/embed` : `${base}${base.endsWith('/v1') ? '' : '/v1'}/embeddings`;
    let body: unknown;
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        },
        body: JSON.stringify({ model: this.options.model, input }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      body = await res.json();
    } catch (err) {
      throw new EmbedderError(`${this.model} at ${endpoint}: ${errorMessage(err)}`);
    }
    const rows =
      api === 'ollama'
        ? (body as { embeddings?: unknown }).embeddings
        : (body as { data?: { embedding?: unknown; index?: number }[] }).data
            ?.slice()
            .sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
            .map((d) => d.embedding);
    if (!Array.isArray(rows) || !rows.every((r) => Array.isArray(r) && r.every((x) => typeof x === 'number')))
      throw new EmbedderError(`${this.model} at ${endpoint}: the answer holds no embeddings`);
    return (rows as number[][]).map((r) => Float32Array.from(r));
  }
}
