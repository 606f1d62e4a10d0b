import { chmod, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decrypt, encrypt } from 'nostr-tools/nip49';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { z } from 'zod';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createFileAtomic } from './atomic-file.ts';
import { encodeNpub, encodeNsec, Nip19Error, parseSecretKey } from './nip19.ts';
import { LocalSigner } from './signer.ts';

export { ensurePassphrase, PassphraseFileError } from './passphrase.ts';

/**
 * Per-agent key pairs, encrypted at rest with NIP-49 (ncryptsec: scrypt + XChaCha20-Poly1305) under one
 * passphrase. One JSON file per key, `<dir>/<name>.json`, mode 0600 in a directory of mode 0700, written
 * atomically (a temporary file, fsync, then a link/rename into place: a crash leaves the old state or the
 * new, never half a file). Decrypted signers are cached in memory. Secret keys never reach a log line or
 * an error message; `exportNsec` is the one explicit way out.
 *
 * Cost: decrypting takes one scrypt with the file's log_n (16 by default: 64 MiB and ~0.1-0.5 s,
 * synchronous), so each key is decrypted once per process; tests pass a small `logN`.
 */

export type KeyStoreErrorCode =
  /** The name is not 1-64 of a-z, 0-9, "-", "_". */
  | 'invalid-name'
  /** An empty passphrase or an out-of-range logN. */
  | 'invalid-options'
  /** The secret key given to `import` is not an nsec or 64 hex characters (or not a valid key). */
  | 'invalid-key'
  | 'not-found'
  | 'exists'
  /** The passphrase does not decrypt the key (or its ciphertext was altered). */
  | 'bad-passphrase'
  /** A key file that is not what this store writes; the message names the file. */
  | 'corrupt'
  /** The file system refused (permissions, disk full...); the message names the path. */
  | 'io';

export class KeyStoreError extends Error {
  constructor(
    readonly code: KeyStoreErrorCode,
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'KeyStoreError';
  }
}

export interface KeyStoreOptions {
  dir: string;
  passphrase: string;
  logger: Logger;
  /** scrypt cost of newly written keys, as NIP-49's log_n (default 16). Tests use 8 or less. */
  logN?: number;
  /** Seconds since the epoch, for `createdAt` (default: the wall clock). */
  now?: () => number;
  /**
   * Called before each scrypt run (a key written, unlocked or read: ~0.1-1 s each at the default cost, and
   * synchronous), with the key's name: the CLI shows start-up progress with it.
   */
  onScrypt?: (name: string) => void;
}

/** What may be shown about a key: never the secret. */
export interface KeyInfo {
  name: string;
  /** Hex public key. */
  pubkey: string;
  npub: string;
  /** Unix seconds. */
  createdAt: number;
}

/** A decrypted key, shared from the cache (frozen). */
export interface KeyEntry {
  readonly name: string;
  readonly pubkey: string;
  readonly npub: string;
  readonly signer: LocalSigner;
}

const NAME_RE = /^[a-z0-9_-]{1,64}$/;
const FILE_RE = /^([a-z0-9_-]{1,64})\.json$/;
const DEFAULT_LOG_N = 16;

const keyFileSchema = z.object({
  version: z.literal(1),
  name: z.string().regex(NAME_RE),
  pubkey: z.string().regex(/^[0-9a-f]{64}$/),
  npub: z.string().startsWith('npub1'),
  ncryptsec: z.string().startsWith('ncryptsec1'),
  createdAt: z.number().int().nonnegative(),
});
type KeyFile = z.infer<typeof keyFileSchema>;

/** NIP-49 key security byte: 0x00 handled insecurely (imported: it was pasted in clear), 0x02 not tracked. */
type KeySecurityByte = 0x00 | 0x01 | 0x02;

export function isValidKeyName(name: string): boolean {
  return typeof name === 'string' && NAME_RE.test(name);
}

export class KeyStore {
  readonly dir: string;
  readonly #passphrase: string;
  readonly #logN: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #onScrypt: (name: string) => void;
  readonly #cache = new Map<string, Promise<KeyEntry>>();
  #dirReady: Promise<void> | undefined;

  constructor(options: KeyStoreOptions) {
    if (typeof options.passphrase !== 'string' || options.passphrase === '') {
      throw new KeyStoreError('invalid-options', 'key store: the passphrase must not be empty');
    }
    const logN = options.logN ?? DEFAULT_LOG_N;
    if (!Number.isInteger(logN) || logN < 1 || logN > 22) {
      throw new KeyStoreError(
        'invalid-options',
        `key store: logN must be an integer from 1 to 22, got ${logN}`,
      );
    }
    this.dir = options.dir;
    this.#passphrase = options.passphrase;
    this.#logN = logN;
    this.#log = options.logger.child({ component: 'keystore' });
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.#onScrypt = options.onScrypt ?? (() => {});
  }

  /** Path of a key's file (the name is validated). */
  pathOf(name: string): string {
    checkName(name);
    return join(this.dir, `${name}.json`);
  }

  async has(name: string): Promise<boolean> {
    const file = this.pathOf(name);
    try {
      await stat(file);
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw ioError('cannot read', file, err);
    }
  }

  /** Generates a new key pair under `name`; `exists` when the name is taken. */
  async create(name: string): Promise<KeyEntry> {
    const file = this.pathOf(name);
    if (await this.has(name)) throw existsError(name, file);
    const secretKey = generateSecretKey();
    try {
      return await this.#store(name, secretKey, 0x02, 'created');
    } finally {
      secretKey.fill(0);
    }
  }

  /** Stores an existing secret key (nsec or 64 hex characters) under `name`. */
  async import(name: string, nsecOrHex: string): Promise<KeyEntry> {
    const file = this.pathOf(name);
    let secretKey: Uint8Array;
    try {
      secretKey = parseSecretKey(nsecOrHex);
    } catch (err) {
      const detail = err instanceof Nip19Error ? err.message : 'unreadable';
      throw new KeyStoreError('invalid-key', `cannot import "${name}": not a secret key (${detail})`);
    }
    try {
      try {
        getPublicKey(secretKey);
      } catch {
        throw new KeyStoreError('invalid-key', `cannot import "${name}": not a valid secp256k1 secret key`);
      }
      if (await this.has(name)) throw existsError(name, file);
      return await this.#store(name, secretKey, 0x00, 'imported');
    } finally {
      secretKey.fill(0);
    }
  }

  /** The key named `name`, decrypted once and then served from memory. */
  async get(name: string): Promise<KeyEntry> {
    checkName(name);
    const cached = this.#cache.get(name);
    if (cached) return cached;
    const loading = this.#load(name);
    this.#cache.set(name, loading);
    loading.catch(() => {
      if (this.#cache.get(name) === loading) this.#cache.delete(name);
    });
    return loading;
  }

  /** `get`, or `create` when there is no key of that name yet. */
  async getOrCreate(name: string): Promise<KeyEntry & { created: boolean }> {
    if (await this.has(name)) return { ...(await this.get(name)), created: false };
    try {
      return { ...(await this.create(name)), created: true };
    } catch (err) {
      // another process created it between has() and create()
      if (err instanceof KeyStoreError && err.code === 'exists')
        return { ...(await this.get(name)), created: false };
      throw err;
    }
  }

  /** Public information of one key, without decrypting it. */
  async info(name: string): Promise<KeyInfo> {
    const file = this.pathOf(name);
    const k = await this.#readFile(name, file);
    return { name: k.name, pubkey: k.pubkey, npub: k.npub, createdAt: k.createdAt };
  }

  /** Public information of every key, sorted by name; nothing is decrypted. A corrupt file throws. */
  async list(): Promise<KeyInfo[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw ioError('cannot list', this.dir, err);
    }
    const names = entries
      .map((f) => FILE_RE.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .sort();
    const out: KeyInfo[] = [];
    for (const name of names) out.push(await this.info(name));
    return out;
  }

  /**
   * The secret key as hex, for the few components that must hold a raw key rather than a Signer: a Nostr
   * Wallet Connect client (its connection secret) and the invoice-signing node key of the embedded wallet.
   * Logged at debug level, without the key.
   */
  async secretHex(name: string): Promise<string> {
    const file = this.pathOf(name);
    const k = await this.#readFile(name, file);
    const secretKey = this.#decrypt(k, file);
    try {
      this.#log.debug({ name, pubkey: k.pubkey }, 'secret key handed to a wallet component');
      return Buffer.from(secretKey).toString('hex');
    } finally {
      secretKey.fill(0);
    }
  }

  /**
   * The secret key as an nsec, for `timmy keys show --secret` only. Decrypts the file again (the cached
   * signer does not hand its key out) and logs that an export happened, without the key.
   */
  async exportNsec(name: string): Promise<string> {
    const file = this.pathOf(name);
    const k = await this.#readFile(name, file);
    const secretKey = this.#decrypt(k, file);
    try {
      this.#log.warn({ name, pubkey: k.pubkey }, 'secret key exported');
      return encodeNsec(secretKey);
    } finally {
      secretKey.fill(0);
    }
  }

  async #load(name: string): Promise<KeyEntry> {
    const file = this.pathOf(name);
    const k = await this.#readFile(name, file);
    const secretKey = this.#decrypt(k, file);
    try {
      const signer = new LocalSigner(secretKey);
      this.#log.debug({ name, pubkey: k.pubkey }, 'key loaded');
      return Object.freeze({ name, pubkey: signer.pubkey, npub: signer.npub, signer });
    } finally {
      secretKey.fill(0);
    }
  }

  async #readFile(name: string, file: string): Promise<KeyFile> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        throw new KeyStoreError('not-found', `no key named "${name}" in ${this.dir}`, file);
      }
      throw ioError('cannot read', file, err);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw corrupt(file, 'not valid JSON');
    }
    const parsed = keyFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw corrupt(file, `field "${issue?.path.join('.') || '(root)'}": ${issue?.message ?? 'invalid'}`);
    }
    if (parsed.data.name !== name) {
      throw corrupt(file, `it holds the key "${parsed.data.name}", not "${name}"`);
    }
    return parsed.data;
  }

  /** Decrypts and checks the key against the file's pubkey. The caller zeroes the result. */
  #decrypt(k: KeyFile, file: string): Uint8Array {
    let secretKey: Uint8Array;
    this.#onScrypt(k.name);
    try {
      secretKey = decrypt(k.ncryptsec, this.#passphrase);
    } catch (err) {
      // Never forward the library's message: it may repeat the ncryptsec.
      const msg = err instanceof Error ? err.message : '';
      if (/invalid tag/i.test(msg)) {
        throw new KeyStoreError(
          'bad-passphrase',
          `wrong passphrase for key "${k.name}" (${file}), or its encrypted key was altered`,
          file,
        );
      }
      throw corrupt(file, 'field "ncryptsec" is not a valid NIP-49 encrypted key');
    }
    let pubkey: string;
    try {
      if (secretKey.length !== 32) throw new Error('length');
      pubkey = getPublicKey(secretKey);
    } catch {
      secretKey.fill(0);
      throw corrupt(file, 'the decrypted secret key is not a valid secp256k1 key');
    }
    if (pubkey !== k.pubkey) {
      secretKey.fill(0);
      throw corrupt(file, 'the decrypted secret key does not match the file\'s "pubkey"');
    }
    return secretKey;
  }

  async #store(
    name: string,
    secretKey: Uint8Array,
    ksb: KeySecurityByte,
    action: 'created' | 'imported',
  ): Promise<KeyEntry> {
    const file = this.pathOf(name);
    const signer = new LocalSigner(secretKey);
    this.#onScrypt(name);
    const record: KeyFile = {
      version: 1,
      name,
      pubkey: signer.pubkey,
      npub: encodeNpub(signer.pubkey),
      ncryptsec: encrypt(secretKey, this.#passphrase, this.#logN, ksb),
      createdAt: this.#now(),
    };
    await this.#ensureDir();
    await this.#writeNew(file, `${JSON.stringify(record, null, 2)}\n`, name);
    const entry: KeyEntry = Object.freeze({ name, pubkey: signer.pubkey, npub: signer.npub, signer });
    this.#cache.set(name, Promise.resolve(entry));
    this.#log.debug({ name, pubkey: signer.pubkey }, `key ${action}`);
    return entry;
  }

  #ensureDir(): Promise<void> {
    this.#dirReady ??= (async () => {
      try {
        await mkdir(this.dir, { recursive: true, mode: 0o700 });
        if (process.platform !== 'win32') {
          const st = await stat(this.dir);
          if ((st.mode & 0o077) !== 0) {
            await chmod(this.dir, 0o700);
            this.#log.warn(
              { dir: this.dir, was: (st.mode & 0o777).toString(8) },
              'key store directory was open to other users; set it to 0700',
            );
          }
        }
      } catch (err) {
        this.#dirReady = undefined;
        throw ioError('cannot create directory', this.dir, err);
      }
    })();
    return this.#dirReady;
  }

  /** Writes a new file atomically and refuses to replace an existing one. */
  async #writeNew(file: string, content: string, name: string): Promise<void> {
    try {
      await createFileAtomic(file, content, 0o600);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw existsError(name, file);
      throw ioError('cannot write', file, err);
    }
  }
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : typeof name;
    throw new KeyStoreError(
      'invalid-name',
      `invalid key name ${shown}: use 1-64 characters among a-z, 0-9, "-" and "_"`,
    );
  }
}

function existsError(name: string, file: string): KeyStoreError {
  return new KeyStoreError('exists', `a key named "${name}" already exists (${file})`, file);
}

function corrupt(file: string, detail: string): KeyStoreError {
  return new KeyStoreError('corrupt', `key file ${file} is corrupt: ${detail}`, file);
}

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
}

function ioError(what: string, path: string, err: unknown): KeyStoreError {
  const code = errnoCode(err) ?? errorMessage(err);
  return new KeyStoreError('io', `key store: ${what} ${path} (${code})`, path);
}
