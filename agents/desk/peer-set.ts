import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { createFileAtomic } from '../../identity/atomic-file.ts';
import { normalizedRelayUrl } from './peers.ts';

/**
 * The peer relays of an instance (docs/federation.md, "Peers added at run time"): those of the configuration
 * (`federation.peers`, `--peer`), which only the configuration changes, and those an owner added from the
 * dashboard, kept in `<dataDir>/peers.json` (replaced atomically on each change) and read again at start.
 * This class holds the list and checks changes; applying them to the running network is the caller's.
 */

/** Why a change was refused: `invalid` (400), `own-relay` (400), `configured` (409), `exists` (409), `unknown` (404), `full` (409). */
export type PeerSetErrorCode = 'invalid' | 'own-relay' | 'configured' | 'exists' | 'unknown' | 'full';

export class PeerSetError extends Error {
  constructor(
    readonly code: PeerSetErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PeerSetError';
  }
}

/** peers.json is not a peer list (start refuses it rather than overwrite what an owner added). */
export class PeerFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}; fix it, or delete it to forget the peers added from the dashboard`);
    this.name = 'PeerFileError';
  }
}

/** The file's shape: `{ "version": 1, "peers": [{ "url": "wss://…", "addedAt": <unix s>, "by": "npub1…" }] }`. */
export interface AddedPeer {
  url: string;
  /** Unix seconds. */
  addedAt: number;
  /** Who added it (an owner's npub), when known. */
  by?: string;
}

export interface PeerSetOptions {
  /** `<dataDir>/peers.json`. */
  file: string;
  /** federation.peers (after `--peer`). */
  configured: readonly string[];
  /** This instance's own relay URLs (its local and public relay URLs, the dashboard's /relay): never a peer. */
  ownRelays: () => readonly string[];
  /** Most peer relays in all (default 64, as federation.peers). */
  maxPeers?: number;
  logger: Logger;
  /** Unix seconds now (tests). */
  now?: () => number;
}

const MAX_URL_LENGTH = 512;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0', '[::]']);

/** What the dashboard manages (web/dashboard-api.ts); the running network's is a PeerSet applied to it. */
export interface PeerAdmin {
  /** Whether `url` was added from the dashboard (not configured). */
  isAdded(url: string): boolean;
  /** Adds a peer relay; its URL as stored. Throws PeerSetError. */
  add(url: unknown, by?: string): Promise<string>;
  /** Removes a peer relay added from the dashboard; its URL as stored. Throws PeerSetError. */
  remove(url: unknown, by?: string): Promise<string>;
}

/** A change, told to the listeners once it is on disk (and before the change's promise settles). */
export interface PeerChange {
  type: 'added' | 'removed';
  url: string;
}

export class PeerSet implements PeerAdmin {
  private added: AddedPeer[];
  /** Changes one at a time, in the order asked (checked, written, applied). */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners: ((change: PeerChange) => void | Promise<void>)[] = [];

  private constructor(
    private readonly options: PeerSetOptions,
    added: AddedPeer[],
  ) {
    this.added = added;
  }

  /** Reads the added peers (none when the file is missing); throws PeerFileError when it is not a peer list. */
  static async open(options: PeerSetOptions): Promise<PeerSet> {
    let text: string | undefined;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new PeerFileError(options.file, `cannot be read: ${errorMessage(err)}`);
    }
    const added = text === undefined ? [] : parseFile(options.file, text);
    const configured = new Set(options.configured.map(normalizedRelayUrl));
    // A peer added from the dashboard and later put in the configuration is the configuration's.
    const set = new PeerSet(
      options,
      added.filter((p) => !configured.has(normalizedRelayUrl(p.url))),
    );
    if (set.added.length > 0)
      options.logger.info({ peers: set.added.map((p) => p.url), file: options.file }, 'peers added earlier');
    return set;
  }

  /** Every peer relay: the configured ones, then those added (repeats once). */
  all(): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const url of [...this.options.configured, ...this.added.map((p) => p.url)]) {
      const key = normalizedRelayUrl(url);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(url);
    }
    return out;
  }

  /** The peers added from the dashboard. */
  addedPeers(): readonly AddedPeer[] {
    return this.added;
  }

  /** Whether `url` was added from the dashboard (not configured). */
  isAdded(url: string): boolean {
    const key = normalizedRelayUrl(url);
    return this.added.some((p) => normalizedRelayUrl(p.url) === key);
  }

  /** Calls `fn` with each change once it is written; the change waits for it (errors are logged). */
  onChange(fn: (change: PeerChange) => void | Promise<void>): void {
    this.listeners.push(fn);
  }

  /**
   * Checks and records a new peer relay; returns its URL as stored (trimmed). Throws PeerSetError: not a
   * ws:// or wss:// URL, this instance's own relay, already a peer, or too many peers.
   */
  add(input: unknown, by?: string): Promise<string> {
    return this.serial(() => this.addNow(input, by));
  }

  /**
   * Forgets a peer relay added from the dashboard; returns its URL as stored. Throws PeerSetError: one of
   * the configuration (only the configuration removes it), or not a peer.
   */
  remove(input: unknown, by?: string): Promise<string> {
    return this.serial(() => this.removeNow(input, by));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private async addNow(input: unknown, by?: string): Promise<string> {
    const url = checkUrl(input);
    const key = normalizedRelayUrl(url);
    for (const own of this.options.ownRelays())
      if (sameRelay(url, own))
        throw new PeerSetError('own-relay', `${url} is this instance's own relay, not a peer`);
    if (this.options.configured.some((c) => normalizedRelayUrl(c) === key))
      throw new PeerSetError('exists', `${url} is a peer already (in the configuration)`);
    if (this.isAdded(url)) throw new PeerSetError('exists', `${url} is a peer already`);
    const max = this.options.maxPeers ?? 64;
    if (this.all().length >= max)
      throw new PeerSetError('full', `at most ${max} peer relays; remove one first`);
    const now = this.options.now?.() ?? Math.floor(Date.now() / 1000);
    const next = [...this.added, { url, addedAt: now, ...(by ? { by } : {}) }];
    await this.save(next);
    this.added = next;
    this.options.logger.info({ url, by }, 'peer relay added');
    await this.tell({ type: 'added', url });
    return url;
  }

  private async removeNow(input: unknown, by?: string): Promise<string> {
    const url = checkUrl(input);
    const key = normalizedRelayUrl(url);
    if (this.options.configured.some((c) => normalizedRelayUrl(c) === key))
      throw new PeerSetError(
        'configured',
        `${url} is a peer in the configuration (federation.peers or --peer): remove it there and restart`,
      );
    const found = this.added.find((p) => normalizedRelayUrl(p.url) === key);
    if (!found) throw new PeerSetError('unknown', `${url} is not a peer relay here`);
    const next = this.added.filter((p) => p !== found);
    await this.save(next);
    this.added = next;
    this.options.logger.info({ url: found.url, by }, 'peer relay removed');
    await this.tell({ type: 'removed', url: found.url });
    return found.url;
  }

  private async tell(change: PeerChange): Promise<void> {
    for (const fn of this.listeners) {
      try {
        await fn(change);
      } catch (err) {
        this.options.logger.error({ ...change, err: errorMessage(err) }, 'applying a peer change failed');
      }
    }
  }

  /** Replaces the file atomically: a new file beside it (written, fsynced), renamed over it. */
  private async save(peers: readonly AddedPeer[]): Promise<void> {
    const file = this.options.file;
    const text = `${JSON.stringify({ version: 1, peers }, null, 2)}\n`;
    const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.new`);
    try {
      await createFileAtomic(tmp, text);
      await rename(tmp, file);
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }
}

/** A ws:// or wss:// URL with a host, no credentials, at most 512 characters: trimmed; else PeerSetError. */
function checkUrl(input: unknown): string {
  if (typeof input !== 'string')
    throw new PeerSetError('invalid', 'url must be a string: a ws:// or wss:// relay URL');
  const url = input.trim();
  if (url.length === 0 || url.length > MAX_URL_LENGTH)
    throw new PeerSetError(
      'invalid',
      `url must be a ws:// or wss:// relay URL of at most ${MAX_URL_LENGTH} characters`,
    );
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PeerSetError(
      'invalid',
      `${JSON.stringify(url)} is not a URL: a peer is a ws:// or wss:// relay URL`,
    );
  }
  if ((parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') || !/^wss?:\/\/[^\s/?#]+\S*$/i.test(url))
    throw new PeerSetError('invalid', `${JSON.stringify(url)} is not a ws:// or wss:// relay URL`);
  if (parsed.username || parsed.password)
    throw new PeerSetError('invalid', 'a peer relay URL carries no user name or password');
  if (parsed.hash) throw new PeerSetError('invalid', 'a peer relay URL has no #fragment');
  return url;
}

/** The same relay: equal once normalized, or the same port and path on two names of this machine. */
export function sameRelay(a: string, b: string): boolean {
  if (normalizedRelayUrl(a) === normalizedRelayUrl(b)) return true;
  try {
    const x = new URL(a);
    const y = new URL(b);
    const port = (u: URL) => u.port || (u.protocol === 'wss:' || u.protocol === 'https:' ? '443' : '80');
    const path = (u: URL) => u.pathname.replace(/\/+$/, '');
    return LOOPBACK.has(x.hostname) && LOOPBACK.has(y.hostname) && port(x) === port(y) && path(x) === path(y);
  } catch {
    return false;
  }
}

function parseFile(file: string, text: string): AddedPeer[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PeerFileError(file, 'is not JSON');
  }
  const peers = (json as { peers?: unknown } | null)?.peers;
  if (typeof json !== 'object' || json === null || !Array.isArray(peers))
    throw new PeerFileError(file, 'is not a peer list ({ "version": 1, "peers": [...] })');
  return peers.map((p, i): AddedPeer => {
    const o = p as Partial<AddedPeer> | null;
    let url: string;
    try {
      url = checkUrl(o?.url);
    } catch (err) {
      throw new PeerFileError(file, `peers[${i}].url: ${errorMessage(err)}`);
    }
    return {
      url,
      addedAt: typeof o?.addedAt === 'number' ? o.addedAt : 0,
      ...(typeof o?.by === 'string' ? { by: o.by } : {}),
    };
  });
}
