import { readFile } from 'node:fs/promises';
import { dataFile } from '../core/data-dir.ts';
import { createFileAtomic } from '../identity/atomic-file.ts';

/**
 * The public half of a stored NWC connection (`timmy wallet connect`): the wallet service's pubkey and its
 * relays, in `<dataDir>/nwc.json`. The connection secret is in the key store as `wallet-nwc`, encrypted at
 * rest with the agents' passphrase (NIP-49), like every nsec.
 */
export interface StoredNwcConnection {
  walletPubkey: string;
  relays: string[];
  connectedAt: number;
}

export async function readNwcConnection(dataDir: string): Promise<StoredNwcConnection | undefined> {
  let text: string;
  try {
    text = await readFile(dataFile(dataDir, 'nwc'), 'utf8');
  } catch {
    return undefined;
  }
  const v = JSON.parse(text) as Partial<StoredNwcConnection>;
  if (typeof v.walletPubkey !== 'string' || !Array.isArray(v.relays)) return undefined;
  return {
    walletPubkey: v.walletPubkey,
    relays: v.relays.map(String),
    connectedAt: Number(v.connectedAt ?? 0),
  };
}

export async function writeNwcConnection(dataDir: string, c: StoredNwcConnection): Promise<void> {
  await createFileAtomic(dataFile(dataDir, 'nwc'), `${JSON.stringify(c, null, 2)}\n`);
}
