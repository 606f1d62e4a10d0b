import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from './logger.ts';

/**
 * The files of an instance's data directory (`--data-dir`, `TIMMY_DATA_DIR`, default `./.timmy`), named in
 * this one place. docs/CONFIGURATION.md lists them for users.
 */
export const DATA_FILES = {
  /** The embedded relay's event store. */
  relay: 'relay.sqlite',
  /** The desk's job log. */
  jobs: 'jobs.sqlite',
  /** The agents' own records of their work (assignments, effects, the events they send). */
  work: 'work.sqlite',
  /** The treasury: the instance's accounts, job escrows, withdrawals. */
  treasury: 'treasury.sqlite',
  /** The embedded NIP-47 wallet service (test sats). */
  wallet: 'wallet.sqlite',
  /** The agents' and wallets' key pairs, NIP-49 encrypted (a folder). */
  keys: 'keys',
  /** The generated passphrase of the key store (unless identity.passphrase or passphraseFile is set). */
  passphrase: 'passphrase',
  /** The secret that signs L402 macaroons. */
  l402RootKey: 'l402-root-key',
  /** The public part of the NWC connection stored by `timmy wallet connect`. */
  nwc: 'nwc.json',
  /** Where a running instance says it listens (read by the other `timmy` commands). */
  instance: 'instance.json',
  /** The peer relays added from the dashboard (docs/federation.md); the configured ones are not in it. */
  peers: 'peers.json',
  /** The agents' and the desk's semantic memory (docs/memory.md): the texts of past jobs, facts, vectors. */
  memory: 'memory.sqlite',
  /** Media files the agents made, by content hash (a folder): the speech of text-to-speech jobs, served at /media/. */
  media: 'media',
} as const;

export type DataFile = keyof typeof DATA_FILES;

/** The path of one of the data directory's files. */
export function dataFile(dataDir: string, file: DataFile): string {
  return join(dataDir, DATA_FILES[file]);
}

/**
 * Makes the data directory private: created 0700 if missing, and whatever this process creates in it from
 * now on is private too (umask 077: SQLite files 0600). A directory or file already there with group or other
 * access (a data directory made by hand, an older version's files) is tightened to 0700/0600 with a warning:
 * `jobs.sqlite` holds decrypted requests and hold-invoice preimages, `work.sqlite` decrypted requests.
 */
export async function secureDataDir(dataDir: string, logger: Logger): Promise<void> {
  process.umask(0o077);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const tighten = async (path: string, isDir: boolean): Promise<void> => {
    const mode = (await stat(path)).mode & 0o777;
    const wanted = isDir ? 0o700 : 0o600;
    if ((mode & 0o077) === 0) return;
    await chmod(path, wanted);
    logger.warn(
      { path, was: `0${mode.toString(8)}`, now: `0${wanted.toString(8)}` },
      'tightened the access to a data file',
    );
  };
  await tighten(dataDir, true);
  for (const entry of await readdir(dataDir, { withFileTypes: true })) {
    const path = join(dataDir, entry.name);
    if (entry.isSymbolicLink()) continue;
    await tighten(path, entry.isDirectory());
  }
}
