import { checkVectors, type Embedder, EmbedderError, normalize } from './embedder.ts';

export interface FakeEmbedderOptions {
  /** Default 64. */
  dimension?: number;
  /** Default "fake/<dimension>". */
  model?: string;
}

/**
 * A deterministic embedder for tests: each word is hashed to a few signed dimensions (a bag of words), so
 * texts that share words are near and texts that share none are near orthogonal. Scriptable: `script` pins
 * a text's vector, `failNext` makes the next call reject, and `calls`/`texts` count what was asked.
 */
export class FakeEmbedder implements Embedder {
  readonly dimension: number;
  readonly model: string;
  calls = 0;
  texts = 0;
  closed = false;
  private readonly scripted = new Map<string, Float32Array>();
  private failure: Error | undefined;

  constructor(options: FakeEmbedderOptions = {}) {
    this.dimension = options.dimension ?? 64;
    this.model = options.model ?? `fake/${this.dimension}`;
  }

  async ready(): Promise<void> {}

  script(text: string, vector: readonly number[]): void {
    if (vector.length !== this.dimension)
      throw new EmbedderError(`scripted vector of ${vector.length}, expected ${this.dimension}`);
    this.scripted.set(text, Float32Array.from(vector));
  }

  failNext(error: Error = new EmbedderError('scripted failure')): void {
    this.failure = error;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.closed) throw new EmbedderError(`${this.model}: closed`);
    this.calls++;
    this.texts += texts.length;
    const failure = this.failure;
    if (failure) {
      this.failure = undefined;
      throw failure;
    }
    return checkVectors(
      this.model,
      this.dimension,
      texts.length,
      texts.map((t) => this.scripted.get(t) ?? this.bagOfWords(t)),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private bagOfWords(text: string): Float32Array {
    const v = new Float32Array(this.dimension);
    const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    for (const word of words) {
      for (let seed = 0; seed < 3; seed++) {
        const h = fnv1a(`${seed}:${word}`);
        v[h % this.dimension] = (v[h % this.dimension] ?? 0) + ((h >>> 16) & 1 ? 1 : -1);
      }
    }
    if (words.length === 0) v[0] = 1;
    return normalize(v);
  }
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
