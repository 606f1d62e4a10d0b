import { join } from 'node:path';

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
} as const;

export type DataFile = keyof typeof DATA_FILES;

/** The path of one of the data directory's files. */
export function dataFile(dataDir: string, file: DataFile): string {
  return join(dataDir, DATA_FILES[file]);
}
