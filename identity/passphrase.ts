import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../core/logger.ts';
import { createFileAtomic } from './atomic-file.ts';

/**
 * The passphrase that encrypts the key store, kept in a file so `npm start` works with no configuration:
 * read when the file exists, otherwise created once with 32 random bytes (base64url), mode 0600, in a
 * directory created 0700. Surrounding whitespace (a trailing newline from an editor) is ignored.
 */
export class PassphraseFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`passphrase file ${file}: ${detail}`);
    this.name = 'PassphraseFileError';
  }
}

export interface EnsurePassphraseOptions {
  /** Warns when an existing file is readable by group or others. */
  logger?: Logger;
}

export async function ensurePassphrase(
  file: string,
  options: EnsurePassphraseOptions = {},
): Promise<{ passphrase: string; created: boolean }> {
  const existing = await readPassphrase(file, options.logger);
  if (existing !== undefined) return { passphrase: existing, created: false };

  const passphrase = randomBytes(32).toString('base64url');
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    // Atomic and exclusive: if another process got there first, theirs is the passphrase.
    await createFileAtomic(file, `${passphrase}\n`, 0o600);
  } catch (err) {
    if (isErrno(err, 'EEXIST')) {
      const raced = await readPassphrase(file, options.logger);
      if (raced !== undefined) return { passphrase: raced, created: false };
    }
    throw new PassphraseFileError(file, `cannot create: ${errnoText(err)}`);
  }
  options.logger?.info({ file }, 'created a new key store passphrase file');
  return { passphrase, created: true };
}

async function readPassphrase(file: string, logger: Logger | undefined): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw new PassphraseFileError(file, `cannot read: ${errnoText(err)}`);
  }
  const passphrase = text.trim();
  if (passphrase === '') throw new PassphraseFileError(file, 'is empty; delete it to have a new one created');
  if (logger && process.platform !== 'win32') {
    const st = await stat(file);
    if ((st.mode & 0o077) !== 0) {
      logger.warn(
        { file, mode: (st.mode & 0o777).toString(8) },
        'passphrase file is readable by other users; run chmod 600 on it',
      );
    }
  }
  return passphrase;
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

function errnoText(err: unknown): string {
  if (err instanceof Error) return (err as NodeJS.ErrnoException).code ?? err.message;
  return String(err);
}
