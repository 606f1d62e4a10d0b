/**
 * Group fsync for a SQLite file in WAL mode with `synchronous=NORMAL` (docs/decisions/0014).
 *
 * With NORMAL, a commit writes its WAL frames into the operating system's page cache and returns without an
 * fsync: the commit already survives a kill -9 of the process (the kernel holds the frames and writes them
 * out), but not a power cut. `durable()` is the rest: it resolves once every commit made before it was asked
 * for is on the disk, by one `fdatasync` of the `-wal` file on libuv's thread pool, so the event loop never
 * waits for the disk. Every caller of one event-loop turn shares one fsync, and callers that come while one
 * runs share the next. Whoever is about to let a recorded effect leave the process (publish an outbox event,
 * answer a wallet request) awaits it first, so nothing the outside world saw can be lost by a power cut.
 *
 * Why syncing another descriptor of the WAL is enough: on Linux an fsync flushes the file's pages, whoever
 * wrote them; SQLite itself fsyncs the WAL before a checkpoint copies it into the database and the database
 * after, so a commit checkpointed meanwhile is on the disk too, and a WAL truncated or restarted keeps its
 * inode while the connection is open (it is deleted only when the last connection closes, after a checkpoint).
 */
import { close, fdatasync, open } from 'node:fs';

export class WalSync {
  private fd: number | undefined;
  private opening: Promise<number | undefined> | undefined;
  private running = false;
  private waiting: { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } | undefined;
  private scheduled = false;
  private closed = false;
  /** fsyncs run (for tests and the benchmark). */
  syncs = 0;

  /** `dbPath` is the database file; ':memory:' or '' (a temporary database) has nothing to sync. */
  constructor(private readonly dbPath: string) {}

  /** Resolves once every commit made before this call is on the disk. */
  durable(): Promise<void> {
    if (this.dbPath === '' || this.dbPath === ':memory:') return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`${this.dbPath}: closed`));
    if (!this.waiting) {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.waiting = { promise, resolve, reject };
    }
    this.schedule();
    return this.waiting.promise;
  }

  /** Closes the descriptor (after the fsync in progress, if any); later `durable()` calls reject. */
  close(): void {
    this.closed = true;
    if (!this.running && this.fd !== undefined) this.release();
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // At the end of this turn: every commit of the turn rides on the same fsync.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    const batch = this.waiting;
    if (!batch || this.running) return;
    this.waiting = undefined;
    this.running = true;
    try {
      const fd = await this.descriptor();
      if (fd !== undefined) {
        await new Promise<void>((res, rej) => fdatasync(fd, (err) => (err ? rej(err) : res())));
        this.syncs++;
      }
      batch.resolve();
    } catch (err) {
      batch.reject(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.running = false;
      if (this.closed) {
        this.release();
        // Callers that came while this fsync ran (the property was reset above, so TypeScript needs telling).
        const late = this.waiting as typeof batch | undefined;
        this.waiting = undefined;
        late?.reject(new Error(`${this.dbPath}: closed`));
      } else if (this.waiting) this.schedule();
    }
  }

  /** The WAL's descriptor, opened once; undefined while there is no WAL (nothing committed in WAL mode). */
  private async descriptor(): Promise<number | undefined> {
    if (this.fd !== undefined) return this.fd;
    this.opening ??= new Promise<number | undefined>((res, rej) =>
      open(`${this.dbPath}-wal`, 'r', (err, fd) => {
        if (!err) res(fd);
        else if (err.code === 'ENOENT') res(undefined);
        else rej(err);
      }),
    ).finally(() => {
      this.opening = undefined;
    });
    const fd = await this.opening;
    if (fd !== undefined && this.fd === undefined) this.fd = fd;
    return this.fd;
  }

  private release(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) close(fd, () => {});
  }
}
