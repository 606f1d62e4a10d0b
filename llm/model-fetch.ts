/**
 * Downloads a GGUF model file for the llama-cpp provider: streams it to a temporary file beside the target
 * while hashing it, checks the SHA-256 the user copied from the model's page and the GGUF magic, then moves
 * it into place without ever overwriting an existing file. Anything that goes wrong deletes the temporary
 * file. No resuming: a failed download starts over.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BodyReadError, contentLength, readBoundedBody } from '../core/bounded-body.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { hasGgufMagic } from './gguf-file.ts';
import { networkReason } from './http-fetch.ts';

export class ModelFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFetchError';
  }
}

export interface FetchProgress {
  receivedBytes: number;
  /** From Content-Length; undefined when the server does not say. */
  totalBytes: number | undefined;
  elapsedMs: number;
}

export interface FetchModelOptions {
  url: string;
  /** Expected SHA-256, 64 hex digits (any case). */
  sha256: string;
  outPath: string;
  onProgress?: (progress: FetchProgress) => void;
  signal?: AbortSignal;
  clock?: Clock;
}

export interface FetchModelResult {
  path: string;
  bytes: number;
  sha256: string;
  /** The file was already there with the right checksum; nothing was downloaded. */
  alreadyPresent: boolean;
}

/** `<dataDir>/models/<last path segment of the URL>`. */
export function defaultModelPath(dataDir: string, url: string): string {
  let name = '';
  try {
    name = basename(decodeURIComponent(new URL(url).pathname));
  } catch {
    throw new ModelFetchError(`not a URL: ${url}`);
  }
  if (!name || name === '/' || name === '.' || name === '..')
    throw new ModelFetchError(`cannot name the file after ${url}: give --out <file>`);
  return join(dataDir, 'models', name);
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The checksum in lower case; throws a ModelFetchError unless it is 64 hexadecimal digits. */
export function normalizeSha256(hex: string): string {
  const h = hex.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(h))
    throw new ModelFetchError(`the sha256 must be 64 hexadecimal digits, got "${hex}"`);
  return h;
}

/** Throws a ModelFetchError unless `url` is an http(s) URL. */
export function checkFetchUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ModelFetchError(`not a URL: ${url}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new ModelFetchError(`only http(s) URLs can be fetched, got ${parsed.protocol}`);
  return parsed;
}

export async function fetchModel(options: FetchModelOptions): Promise<FetchModelResult> {
  const expected = normalizeSha256(options.sha256);
  checkFetchUrl(options.url);
  const out = options.outPath;
  const existing = await existingChecksum(out);
  if (existing !== undefined) {
    if (existing.sha256 === expected)
      return { path: out, bytes: existing.bytes, sha256: expected, alreadyPresent: true };
    throw new ModelFetchError(
      `${out} already exists and is a different file (sha256 ${existing.sha256}); remove it or choose another --out`,
    );
  }
  await mkdir(dirname(out), { recursive: true });
  const temp = `${out}.${randomBytes(4).toString('hex')}.part`;
  try {
    const { bytes, sha256, head } = await download(options, temp);
    if (sha256 !== expected) {
      throw new ModelFetchError(
        `checksum mismatch for ${options.url}: expected sha256 ${expected}, got ${sha256}; the download was deleted`,
      );
    }
    if (!hasGgufMagic(head)) {
      throw new ModelFetchError(`${options.url} is not a GGUF model file (it does not start with "GGUF")`);
    }
    await placeWithoutOverwrite(temp, out);
    return { path: out, bytes, sha256, alreadyPresent: false };
  } finally {
    await unlink(temp).catch(() => {});
  }
}

async function existingChecksum(path: string): Promise<{ sha256: string; bytes: number } | undefined> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new ModelFetchError(`${path} exists and is not a file`);
    return { sha256: await sha256OfFile(path), bytes: s.size };
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Streams `options.url` into the new file `temp` while hashing it; the first 8 bytes come back in `head`. */
export async function download(
  options: Pick<FetchModelOptions, 'url' | 'signal' | 'clock' | 'onProgress'>,
  temp: string,
): Promise<{ bytes: number; sha256: string; head: Buffer }> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  let res: Response;
  try {
    res = await fetch(options.url, { signal: options.signal, redirect: 'follow' });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new ModelFetchError(`cannot download ${options.url}: ${networkReason(err)}`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw new ModelFetchError(
      `download failed: ${options.url} answered HTTP ${res.status} ${res.statusText}`.trim(),
    );
  }
  const total = contentLength(res);
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headBytes = 0;
  let received = 0;
  const file = await open(temp, 'wx');
  try {
    received = await readBoundedBody(res, {
      signal: options.signal,
      onChunk: async (bytes, receivedBytes) => {
        hash.update(bytes);
        if (headBytes < 8) {
          head.push(Buffer.from(bytes.subarray(0, 8 - headBytes)));
          headBytes += Math.min(bytes.length, 8 - headBytes);
        }
        await file.write(bytes);
        options.onProgress?.({ receivedBytes, totalBytes: total, elapsedMs: clock.now() - started });
      },
    });
  } catch (err) {
    if (err instanceof BodyReadError)
      throw new ModelFetchError(
        `download interrupted after ${err.receivedBytes} bytes: ${networkReason(err.cause)}`,
      );
    throw err;
  } finally {
    await file.close();
  }
  if (total !== undefined && received !== total)
    throw new ModelFetchError(`download incomplete: received ${received} of ${total} bytes`);
  return { bytes: received, sha256: hash.digest('hex'), head: Buffer.concat(head) };
}

/** Moves the verified file into place; fails rather than replace a file that appeared meanwhile. */
async function placeWithoutOverwrite(temp: string, out: string): Promise<void> {
  try {
    await link(temp, out);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'EEXIST')
      throw new ModelFetchError(`${out} appeared during the download; not overwriting it`);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
    // No hard links on this file system: check, then rename (a small window, acceptable here).
    if (
      await stat(out).then(
        () => true,
        () => false,
      )
    )
      throw new ModelFetchError(`${out} appeared during the download; not overwriting it`);
    await rename(temp, out);
  }
}
