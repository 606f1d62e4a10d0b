import { dataFile } from '../core/data-dir.ts';
import { silentLogger } from '../core/logger.ts';
import { KeyStore } from '../identity/keystore.ts';
import { encodeNpub } from '../identity/nip19.ts';

/**
 * pubkey → agent name, from the key files' public parts in `<dataDir>/keys` (nothing is decrypted, so no
 * passphrase is needed; the store's passphrase option is a placeholder that `list()` never uses).
 */
export async function agentNames(dataDir: string): Promise<Map<string, string>> {
  const store = new KeyStore({
    dir: dataFile(dataDir, 'keys'),
    passphrase: 'list-only',
    logger: silentLogger,
  });
  try {
    return new Map((await store.list()).map((k) => [k.pubkey, k.name]));
  } catch {
    return new Map();
  }
}

/** An agent's name when it is one of ours, else a short npub. */
export function nameOf(names: Map<string, string>, pubkey: string | undefined): string {
  if (!pubkey) return '-';
  return names.get(pubkey) ?? `${encodeNpub(pubkey).slice(0, 14)}…`;
}
