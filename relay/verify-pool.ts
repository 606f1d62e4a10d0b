import { Worker } from 'node:worker_threads';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { pushVerifyItem, STATUS_CODES, type VerifyStatus, verifyFlat } from './verify.ts';
import type { VerifyReply, VerifyRequest } from './verify-worker.ts';
import { workerSource } from './worker-source.ts';

/** Asynchronous event verification, batched: events arriving within one turn of the event loop go together. */
export interface Verifier {
  verify(event: NostrEvent): Promise<VerifyStatus>;
  /** Waits for the verifications under way, then stops the workers. */
  close(): Promise<void>;
}

export interface VerifyPoolOptions {
  /** Worker threads; 0 verifies on the calling thread (still batched). */
  workers: number;
  logger: Logger;
  /** Events per batch (default 256). */
  maxBatch?: number;
}

type Resolve = (status: VerifyStatus) => void;

interface Batch {
  items: string[];
  resolvers: Resolve[];
}

interface Slot {
  worker: Worker;
  batches: Map<number, Batch>;
}

/**
 * A pool of verification workers, so the main thread keeps parsing and serving while signatures are
 * checked on the other cores. A worker that dies hands its batches back to the main thread, and later
 * batches go to the remaining workers (or the main thread when none is left). Workers keep the process
 * alive only while they hold work.
 */
export class VerifyPool implements Verifier {
  private readonly logger: Logger;
  private readonly maxBatch: number;
  private readonly slots: Slot[] = [];
  private pending: Batch = { items: [], resolvers: [] };
  private scheduled = false;
  private nextId = 1;
  private idle: (() => void) | undefined;
  private closing = false;

  constructor(options: VerifyPoolOptions) {
    this.logger = options.logger;
    this.maxBatch = options.maxBatch ?? 256;
    for (let i = 0; i < options.workers; i++) {
      try {
        this.startWorker();
      } catch (err) {
        this.logger.warn({ err: errorMessage(err) }, 'cannot start a verification worker; verifying inline');
      }
    }
  }

  verify(event: NostrEvent): Promise<VerifyStatus> {
    return new Promise((resolve) => {
      pushVerifyItem(this.pending.items, event);
      this.pending.resolvers.push(resolve);
      if (this.pending.resolvers.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Worker threads currently running. */
  get workerCount(): number {
    return this.slots.length;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.flush();
    if (this.slots.some((s) => s.batches.size > 0)) {
      await new Promise<void>((resolve) => {
        this.idle = resolve;
      });
    }
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.resolvers.length === 0) return;
    this.pending = { items: [], resolvers: [] };
    let slot: Slot | undefined;
    for (const s of this.slots) if (!slot || s.batches.size < slot.batches.size) slot = s;
    if (!slot) {
      settle(batch, verifyFlat(batch.items));
      return;
    }
    const id = this.nextId++;
    slot.batches.set(id, batch);
    slot.worker.ref();
    const req: VerifyRequest = { id, items: batch.items };
    slot.worker.postMessage(req);
  }

  private startWorker(): void {
    const worker = new Worker(workerSource('verify-worker'), { eval: true, execArgv: [] });
    const slot: Slot = { worker, batches: new Map() };
    this.slots.push(slot);
    worker.on('message', (reply: VerifyReply) => {
      const batch = slot.batches.get(reply.id);
      if (!batch) return;
      slot.batches.delete(reply.id);
      if (slot.batches.size === 0) worker.unref();
      settle(batch, reply.codes);
      this.checkIdle();
    });
    worker.on('error', (err) => this.retire(slot, errorMessage(err)));
    worker.on('exit', (code) => this.retire(slot, `exited with code ${code}`));
    // After the listeners: adding a 'message' listener refs the worker again.
    worker.unref();
  }

  /** A worker died (or was terminated): its batches are verified here instead. */
  private retire(slot: Slot, why: string): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) {
      this.slots.splice(i, 1);
      if (!this.closing)
        this.logger.warn({ why, remaining: this.slots.length }, 'verification worker stopped');
    }
    for (const batch of slot.batches.values()) settle(batch, verifyFlat(batch.items));
    slot.batches.clear();
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.idle && this.slots.every((s) => s.batches.size === 0)) {
      const idle = this.idle;
      this.idle = undefined;
      idle();
    }
  }
}

function settle(batch: Batch, codes: Uint8Array): void {
  for (let i = 0; i < batch.resolvers.length; i++) {
    batch.resolvers[i]?.(STATUS_CODES[codes[i] ?? 2] ?? 'bad-sig');
  }
}
