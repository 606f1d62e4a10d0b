/**
 * The instance's media files (`<dataDir>/media/`): WAV files the text-to-speech agent made, each named by
 * the sha256 of its bytes (`<sha256>.wav`), so the same speech is one file and a name says what it holds.
 * Written to a temporary name and renamed (a crash leaves no half file under a real name), bounded: one
 * file at most `maxFileBytes`, all of them at most `maxTotalBytes` (the oldest files go first when a new
 * one would pass it). They survive restarts; web/media-route.ts serves them at `/media/<name>`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/logger.ts';

/** A media file's name: a sha256 in hex and its type's extension. */
export const MEDIA_NAME = /^[0-9a-f]{64}\.wav$/;

export const MEDIA_LIMITS = {
  /** 10 minutes of 16 kHz 16-bit mono audio and a header. */
  maxFileBytes: 20 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
};

export class MediaTooLargeError extends Error {
  constructor(bytes: number, max: number) {
    super(`the audio is ${bytes} bytes; this instance keeps media files of at most ${max} bytes`);
    this.name = 'MediaTooLargeError';
  }
}

export interface MediaStoreOptions {
  dir: string;
  logger: Logger;
  maxFileBytes?: number;
  maxTotalBytes?: number;
}

export class MediaStore {
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  /** One write at a time: the budget is checked and the oldest files removed without a race. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: MediaStoreOptions) {
    this.maxFileBytes = options.maxFileBytes ?? MEDIA_LIMITS.maxFileBytes;
    this.maxTotalBytes = options.maxTotalBytes ?? MEDIA_LIMITS.maxTotalBytes;
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Keeps a WAV file; resolves to its name (`<sha256>.wav`). Throws MediaTooLargeError over the file limit. */
  put(wav: Uint8Array): Promise<string> {
    if (wav.length > this.maxFileBytes)
      return Promise.reject(new MediaTooLargeError(wav.length, this.maxFileBytes));
    const run = this.queue.then(() => this.write(wav));
    this.queue = run.catch(() => {});
    return run;
  }

  /** The path of a stored file and its size, or undefined (a name that is not a media name is never a path). */
  async find(name: string): Promise<{ path: string; bytes: number } | undefined> {
    if (!MEDIA_NAME.test(name)) return undefined;
    const path = join(this.options.dir, name);
    try {
      const s = await stat(path);
      return s.isFile() ? { path, bytes: s.size } : undefined;
    } catch {
      return undefined;
    }
  }

  private async write(wav: Uint8Array): Promise<string> {
    const name = `${createHash('sha256').update(wav).digest('hex')}.wav`;
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    if (await this.find(name)) return name;
    await this.makeRoom(wav.length);
    const tmp = join(this.options.dir, `.${randomBytes(8).toString('hex')}.tmp`);
    try {
      await writeFile(tmp, wav, { mode: 0o600 });
      await rename(tmp, join(this.options.dir, name));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return name;
  }

  /** Removes the oldest files until `incoming` more bytes fit the total budget. */
  private async makeRoom(incoming: number): Promise<void> {
    const files: { name: string; bytes: number; mtimeMs: number }[] = [];
    for (const name of await readdir(this.options.dir)) {
      if (!MEDIA_NAME.test(name)) continue;
      try {
        const s = await stat(join(this.options.dir, name));
        files.push({ name, bytes: s.size, mtimeMs: s.mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
    let total = files.reduce((sum, f) => sum + f.bytes, 0);
    if (total + incoming <= this.maxTotalBytes) return;
    files.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const f of files) {
      if (total + incoming <= this.maxTotalBytes) break;
      await rm(join(this.options.dir, f.name), { force: true });
      total -= f.bytes;
      this.options.logger.info(
        { file: f.name, bytes: f.bytes },
        'media file removed: the media budget is full',
      );
    }
  }
}
