import { Worker } from 'node:worker_threads';
import { errorMessage } from '../core/errors.ts';
import type { SaveOutcome } from '../core/event-store.ts';
import type { Logger } from '../core/logger.ts';
import type { WriterReply, WriterRequest } from './sqlite-writer.ts';
import { workerSource } from './worker-source.ts';

type Request = WriterRequest extends infer R ? (R extends WriterRequest ? Omit<R, 'id'> : never) : never;

interface Waiter {
  resolve: (reply: WriterReply) => void;
  reject: (err: Error) => void;
}

/**
 * The event store's writes in their own thread (relay/sqlite-writer.ts), so the SQLite work of saving
 * (statements, index updates, the commit's fsync) leaves the relay's event loop free to read, verify and
 * answer. Started on the first request. Requests are answered in order, each after its transaction
 * committed. If the thread dies, the requests it held fail (their transactions were rolled back, or
 * committed without an answer: a client that sends again is told "duplicate") and `failed` turns true,
 * so the store goes on writing on its own thread.
 */
export class WriteThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private stopped = false;
  private whenReady: Promise<void> | undefined;
  private onReady: (() => void) | undefined;

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  /** Starts the thread now rather than at the first request; resolves once its connection is open (or it failed). */
  ready(): Promise<void> {
    if (!this.stopped) this.start();
    return this.whenReady ?? Promise.resolve();
  }

  /** The thread died or could not start: the caller writes by itself from now on. */
  get failed(): boolean {
    return this.stopped;
  }

  save(raws: string[], now: number): Promise<SaveOutcome[]> {
    return this.request({ op: 'save', raws, now }).then((r) => {
      if ('outcomes' in r) return r.outcomes;
      throw new Error('the writer thread gave no outcomes');
    });
  }

  purge(now: number): Promise<number> {
    return this.request({ op: 'purge', now }).then((r) => ('purged' in r ? r.purged : 0));
  }

  /** Waits for the requests under way, closes the thread's connection, and ends the thread. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker || this.stopped) return;
    try {
      await this.request({ op: 'close' });
    } finally {
      this.stopped = true;
      this.worker = undefined;
      await worker.terminate();
    }
  }

  private request(req: Request): Promise<WriterReply> {
    if (this.stopped) return Promise.reject(new Error('the writer thread is stopped'));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<WriterReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ ...req, id } as WriterRequest);
    }).then((reply) => {
      if ('error' in reply) throw new Error(reply.error);
      return reply;
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerSource('sqlite-writer'), {
      eval: true,
      execArgv: [],
      workerData: { path: this.path },
    });
    this.whenReady = new Promise((resolve) => {
      this.onReady = resolve;
    });
    worker.on('message', (reply: WriterReply) => {
      if ('ready' in reply) {
        if (this.waiting.size === 0) worker.unref();
        this.onReady?.();
        return;
      }
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      w.resolve(reply);
    });
    worker.on('error', (err) => this.fail(worker, errorMessage(err)));
    worker.on('exit', (code) => this.fail(worker, `exited with code ${code}`));
    // Referenced until it is ready (someone may be waiting for that), then only while it holds requests.
    this.worker = worker;
    return worker;
  }

  private fail(worker: Worker, why: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.stopped = true;
    if (this.waiting.size > 0 || why !== 'exited with code 0') {
      this.log.error(
        { why, requests: this.waiting.size },
        'the event store writer thread stopped; writing inline',
      );
    }
    const err = new Error(`the writer thread stopped: ${why}`);
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    this.onReady?.();
  }
}
