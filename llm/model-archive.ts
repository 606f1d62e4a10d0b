/**
 * Downloads a model archive (.tar.bz2, as sherpa-onnx publishes its speech models), checks its SHA-256, and
 * extracts it with Debian's `tar` into `<data-dir>/models/<name>/`: the archive's single top folder becomes
 * that directory. Everything happens beside the target (a `.part` file, an `.extract` folder) and is deleted
 * whatever happens; the directory appears only when complete. An archive holding links or device files is
 * refused. A checksum marker in the directory lets a second fetch of the same archive do nothing.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Clock } from '../core/clock.ts';
import {
  checkFetchUrl,
  download,
  type FetchProgress,
  ModelFetchError,
  normalizeSha256,
} from './model-fetch.ts';

/** Written into the extracted directory: the archive's sha256. */
export const ARCHIVE_MARKER = '.timmy-archive.sha256';

export interface FetchArchiveOptions {
  url: string;
  sha256: string;
  /** The directory the archive's content becomes. */
  outDir: string;
  onProgress?: (progress: FetchProgress) => void;
  signal?: AbortSignal;
  clock?: Clock;
  /** Debian's tar (default `tar` on PATH); it runs `bzip2` for -j. */
  tar?: string;
}

export interface FetchArchiveResult {
  path: string;
  bytes: number;
  sha256: string;
  files: number;
  alreadyPresent: boolean;
}

/** Whether a URL or name names a .tar.bz2 archive. */
export function isArchiveName(s: string): boolean {
  return /\.(tar\.bz2|tbz2)(\?.*)?$/i.test(s);
}

/** `<dataDir>/models/<archive name without .tar.bz2>`. */
export function defaultArchiveDir(dataDir: string, url: string): string {
  const last = decodeURIComponent(checkFetchUrl(url).pathname.split('/').pop() ?? '');
  const name = last.replace(/\.(tar\.bz2|tbz2)$/i, '');
  if (!name || name === '.' || name === '..')
    throw new ModelFetchError(`cannot name the directory after ${url}: give --out <dir>`);
  return join(dataDir, 'models', name);
}

export async function fetchArchive(options: FetchArchiveOptions): Promise<FetchArchiveResult> {
  const expected = normalizeSha256(options.sha256);
  checkFetchUrl(options.url);
  const out = options.outDir;
  const present = await markerOf(out);
  if (present !== undefined) {
    if (present.sha256 === expected)
      return { path: out, bytes: 0, sha256: expected, files: present.files, alreadyPresent: true };
    throw new ModelFetchError(
      `${out} already exists${present.sha256 ? ` (from an archive with sha256 ${present.sha256})` : ''}; remove it or choose another --out`,
    );
  }
  await mkdir(dirname(out), { recursive: true });
  const tag = randomBytes(4).toString('hex');
  const temp = `${out}.${tag}.part`;
  const scratch = `${out}.${tag}.extract`;
  try {
    const { bytes, sha256, head } = await download(options, temp);
    if (sha256 !== expected)
      throw new ModelFetchError(
        `checksum mismatch for ${options.url}: expected sha256 ${expected}, got ${sha256}; the download was deleted`,
      );
    if (head.subarray(0, 3).toString('latin1') !== 'BZh')
      throw new ModelFetchError(`${options.url} is not a .tar.bz2 archive (it does not start with "BZh")`);
    await mkdir(scratch);
    await untar(options.tar ?? 'tar', temp, scratch, options.signal);
    const files = await checkTree(scratch);
    if (files === 0) throw new ModelFetchError(`${options.url} is an empty archive`);
    const top = await readdir(scratch);
    const root =
      top.length === 1 && (await lstat(join(scratch, top[0]!))).isDirectory()
        ? join(scratch, top[0]!)
        : scratch;
    await writeFile(join(root, ARCHIVE_MARKER), `${sha256}\n`);
    if (await exists(out))
      throw new ModelFetchError(`${out} appeared during the download; not overwriting it`);
    await rename(root, out);
    return { path: out, bytes, sha256, files, alreadyPresent: false };
  } finally {
    await rm(temp, { force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The marker's checksum and the file count of an existing directory; '' when it has no marker. */
async function markerOf(dir: string): Promise<{ sha256: string; files: number } | undefined> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) return { sha256: '', files: 0 };
  } catch {
    return undefined;
  }
  const sha = await readFile(join(dir, ARCHIVE_MARKER), 'utf8').then(
    (t) => t.trim(),
    () => '',
  );
  return { sha256: sha, files: sha ? await checkTree(dir).catch(() => 0) : 0 };
}

function untar(tar: string, archive: string, into: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['-xjf', archive, '-C', into, '--no-same-owner', '--no-same-permissions'];
    const child = spawn(tar, args, { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 2000) err += d.toString();
    });
    child.on('error', (e) => {
      if (signal?.aborted) reject(e);
      else
        reject(
          new ModelFetchError(
            `cannot run ${tar} to extract the archive: ${e.message}; install it with: apt-get install tar bzip2`,
          ),
        );
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new ModelFetchError(
            `the archive does not extract (tar exit ${code}): ${err.trim().split('\n').slice(-3).join('; ')}`,
          ),
        );
    });
  });
}

/** Counts the regular files under `dir`; throws on a link, a device or anything else that is not a file or folder. */
async function checkTree(dir: string): Promise<number> {
  let n = 0;
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    const s = await lstat(p);
    if (s.isDirectory()) n += await checkTree(p);
    else if (s.isFile()) n++;
    else
      throw new ModelFetchError(
        `the archive holds ${s.isSymbolicLink() ? 'a symbolic link' : 'a special file'} (${name}); refusing it`,
      );
  }
  return n;
}
