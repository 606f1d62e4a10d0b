/**
 * Turns texts into vectors. Every vector a store keeps is recorded with the `model` and `dimension` of the
 * embedder that made it, so a change of model is a migration (memory/migrate.ts), never a silent mix.
 * Vectors come back unit-length (cosine similarity is their dot product).
 */
export interface Embedder {
  /** A stable name of the model and its version, e.g. "use-lite/512". */
  readonly model: string;
  /** Length of every vector (known after `ready()`). */
  readonly dimension: number;
  /** Loads the model (or asks the server for the dimension); later calls resolve at once. */
  ready(): Promise<void>;
  /** One unit-length vector per text, in order. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** An embedder failed: the model did not load, the server answered badly, a vector had the wrong length. */
export class EmbedderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbedderError';
  }
}

/** The vector scaled to length 1 (a zero vector stays zero). */
export function normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm === 0) return v;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = (v[i] ?? 0) / norm;
  return out;
}

/** Dot product: the cosine similarity of two unit vectors. */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}

/** The vector as the bytes SQLite stores (float32, little-endian as the platform is). */
export function vectorBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** A stored blob back as a vector (copied: the blob's buffer may be reused). */
export function vectorFromBytes(b: Uint8Array): Float32Array {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

/** Checks what an embedder returned: as many vectors as texts, each of the stated dimension. */
export function checkVectors(
  model: string,
  dimension: number,
  texts: number,
  vectors: readonly Float32Array[],
): Float32Array[] {
  if (vectors.length !== texts)
    throw new EmbedderError(`${model}: ${vectors.length} vectors for ${texts} texts`);
  for (const v of vectors)
    if (v.length !== dimension)
      throw new EmbedderError(`${model}: a vector of ${v.length} dimensions, expected ${dimension}`);
  return vectors.map(normalize);
}
