import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type Clock, systemClock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { NostrEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';
import type { Publish, Subscribe } from '../core/transport.ts';
import { exportLines, type ImportReport, importLines, type MemoryLine, parseLine } from './jsonl.ts';
import type { Memories } from './memories.ts';

/**
 * An agent's memory as Nostr events, so it follows its npub (docs/memory.md, "Backup to Nostr"): the JSONL
 * records of `timmy memory export` without their vectors (re-embedded on restore by the configured
 * embedder), cut into chunks, each a NIP-78 application-data event (kind 30078, addressable by its `d` tag)
 * signed by the agent's key and NIP-44 v2 encrypted to itself; then a manifest naming the count, the chunks'
 * hashes and a digest of the content hashes, published last, so a restore knows it has everything.
 */
export const MEMORY_BACKUP_KIND = 30078;
/** NIP-44 v2 encrypts at most 65535 bytes of plaintext. */
export const MAX_CHUNK_BYTES = 65_535;
/** 48 KiB of plaintext: about 65 KB of NIP-44 payload, half the embedded relay's `maxContentBytes`. */
export const DEFAULT_CHUNK_BYTES = 48 * 1024;

/** The `d` tag of a backup's manifest or of its chunk n (from 0). */
export function backupDTag(agent: string, part: number | 'manifest'): string {
  return `timmy-memory:${agent}:${part}`;
}

const manifestSchema = z.strictObject({
  v: z.literal(1),
  agent: z.string().min(1),
  /** How many memories. */
  count: z.number().int().min(0),
  /** How many chunks, and the sha256 of each chunk's plaintext. */
  chunks: z.number().int().min(0),
  chunkHashes: z.array(z.string()),
  /** The bytes of JSONL in all. */
  bytes: z.number().int().min(0),
  /** sha256 of the memories' content hashes, sorted, one a line. */
  digest: z.string(),
  /** Milliseconds since the epoch. */
  createdAt: z.number().int(),
});

export type BackupManifest = z.infer<typeof manifestSchema>;

export class MemoryBackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryBackupError';
  }
}

export interface BackupProgress {
  done: number;
  total: number;
}

export interface BackupOptions {
  memories: Memories;
  agent: string;
  /** The agent's own key: signs every event; the content is encrypted to its own pubkey. */
  signer: Signer;
  publish: Publish;
  /** Reads the previous manifest, so the new one is newer even within the same second. */
  subscribe: Subscribe;
  clock?: Clock;
  /** Plaintext bytes per chunk (default DEFAULT_CHUNK_BYTES, at most MAX_CHUNK_BYTES). */
  chunkBytes?: number;
  onProgress?: (p: BackupProgress) => void;
}

export interface BackupReport {
  agent: string;
  pubkey: string;
  memories: number;
  chunks: number;
  bytes: number;
  manifestId: string;
  createdAt: number;
}

export async function backupMemories(o: BackupOptions): Promise<BackupReport> {
  const chunkBytes = o.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 16 || chunkBytes > MAX_CHUNK_BYTES)
    throw new MemoryBackupError(`a chunk is 16 to ${MAX_CHUNK_BYTES} bytes (NIP-44), not ${chunkBytes}`);
  const pubkey = await o.signer.getPublicKey();
  const lines = backupLines(o.memories, o.agent);
  const text = lines.map((l) => `${l}\n`).join('');
  const chunks = splitUtf8(Buffer.from(text, 'utf8'), chunkBytes);
  const createdAt = (o.clock ?? systemClock).now();
  const manifest: BackupManifest = {
    v: 1,
    agent: o.agent,
    count: lines.length,
    chunks: chunks.length,
    chunkHashes: chunks.map(sha256),
    bytes: Buffer.byteLength(text),
    digest: digestOf(lines.map((l) => (JSON.parse(l) as MemoryLine).contentHash)),
    createdAt,
  };
  const previous = await queryD(o.subscribe, pubkey, [backupDTag(o.agent, 'manifest')]);
  const seconds = Math.max(Math.floor(createdAt / 1000), ...previous.map((e) => e.created_at + 1));
  const publishOne = async (part: number | 'manifest', plaintext: string): Promise<NostrEvent> => {
    const event = await o.signer.signEvent({
      kind: MEMORY_BACKUP_KIND,
      created_at: seconds,
      tags: [['d', backupDTag(o.agent, part)]],
      content: await o.signer.nip44.encrypt(pubkey, plaintext),
    });
    try {
      await o.publish.publish(event);
    } catch (err) {
      const what = part === 'manifest' ? 'the manifest' : `chunk ${part} of ${chunks.length}`;
      throw new MemoryBackupError(
        `the relay refused ${what} (${event.content.length} bytes of content): ${errorMessage(err)}`,
      );
    }
    return event;
  };
  for (const [i, chunk] of chunks.entries()) {
    await publishOne(i, chunk);
    o.onProgress?.({ done: i + 1, total: chunks.length });
  }
  const published = await publishOne('manifest', JSON.stringify(manifest));
  return {
    agent: o.agent,
    pubkey,
    memories: manifest.count,
    chunks: manifest.chunks,
    bytes: manifest.bytes,
    manifestId: published.id,
    createdAt,
  };
}

export interface RestoreOptions {
  memories: Memories;
  agent: string;
  /** The agent's own key: the backup is its events, encrypted to itself. */
  signer: Signer;
  subscribe: Subscribe;
  onProgress?: (p: BackupProgress) => void;
}

export interface RestoreReport extends ImportReport {
  agent: string;
  pubkey: string;
  memories: number;
  chunks: number;
  /** When the backup was made (ms). */
  backupCreatedAt: number;
}

/** Fetches, decrypts and checks the agent's backup, then imports it as `timmy memory import` does (idempotent). */
export async function restoreMemories(o: RestoreOptions): Promise<RestoreReport> {
  const pubkey = await o.signer.getPublicKey();
  const manifestD = backupDTag(o.agent, 'manifest');
  const [manifestEvent] = newestByD(await queryD(o.subscribe, pubkey, [manifestD])).values();
  if (!manifestEvent)
    throw new MemoryBackupError(`no memory backup of ${o.agent} by ${pubkey} (no ${manifestD})`);
  const manifest = parseManifest(await decrypt(o.signer, pubkey, manifestEvent, 'the manifest'), o.agent);

  const wanted = Array.from({ length: manifest.chunks }, (_, i) => backupDTag(o.agent, i));
  const found = new Map<string, NostrEvent>();
  for (let i = 0; i < wanted.length; i += 500) {
    const batch = await queryD(o.subscribe, pubkey, wanted.slice(i, i + 500));
    for (const [d, e] of newestByD(batch)) found.set(d, e);
    o.onProgress?.({ done: Math.min(i + 500, wanted.length), total: wanted.length });
  }
  const missing = wanted.flatMap((d, i) => (found.has(d) ? [] : [i]));
  if (missing.length > 0)
    throw new MemoryBackupError(
      `the backup of ${o.agent} lacks chunk${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${manifest.chunks} (d tags ${missing.map((i) => backupDTag(o.agent, i)).join(', ')})`,
    );
  const parts: Buffer[] = [];
  const mismatched: number[] = [];
  for (const [i, d] of wanted.entries()) {
    const plaintext = await decrypt(o.signer, pubkey, found.get(d) as NostrEvent, `chunk ${i}`);
    if (sha256(plaintext) !== manifest.chunkHashes[i]) mismatched.push(i);
    parts.push(Buffer.from(plaintext, 'utf8'));
  }
  if (mismatched.length > 0)
    throw new MemoryBackupError(
      `the backup of ${o.agent}: chunk${mismatched.length > 1 ? 's' : ''} ${mismatched.join(', ')} of ${manifest.chunks} do not match the manifest (left from another backup?)`,
    );
  const lines = Buffer.concat(parts)
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '');
  const records = lines.map((l, i) => parseLine(l, i + 1));
  if (records.length !== manifest.count || digestOf(records.map((r) => r.contentHash)) !== manifest.digest)
    throw new MemoryBackupError(
      `the backup of ${o.agent} holds ${records.length} memories whose digest does not match its manifest (${manifest.count})`,
    );
  const stranger = records.find((r) => r.agent !== o.agent);
  if (stranger) throw new MemoryBackupError(`the backup of ${o.agent} holds a memory of ${stranger.agent}`);
  const report = await importLines(o.memories, lines);
  return {
    ...report,
    agent: o.agent,
    pubkey,
    memories: manifest.count,
    chunks: manifest.chunks,
    backupCreatedAt: manifest.createdAt,
  };
}

/** The agent's memories as JSONL records without vectors. */
function backupLines(memories: Memories, agent: string): string[] {
  return [...exportLines(memories.store, { agent }, { vectors: false })];
}

/** Cuts UTF-8 bytes into strings of at most `max` bytes, never inside a character. */
export function splitUtf8(bytes: Buffer, max: number): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + max, bytes.length);
    // A continuation byte (10xxxxxx) starts no character: back off to the character's first byte.
    const continues = (i: number) => i < bytes.length && ((bytes[i] as number) & 0xc0) === 0x80;
    while (end > start && continues(end)) end--;
    // One character longer than `max`: the whole character.
    if (end === start) for (end = start + 1; continues(end); ) end++;
    out.push(bytes.subarray(start, end).toString('utf8'));
    start = end;
  }
  return out;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function digestOf(contentHashes: string[]): string {
  return sha256([...contentHashes].sort().join('\n'));
}

async function queryD(subscribe: Subscribe, pubkey: string, ds: string[]): Promise<NostrEvent[]> {
  const events = await subscribe.query([
    { authors: [pubkey], kinds: [MEMORY_BACKUP_KIND], '#d': ds, limit: ds.length },
  ]);
  return events.filter((e) => e.pubkey === pubkey && e.kind === MEMORY_BACKUP_KIND);
}

/** The newest event per `d` tag (on equal time the lowest id, as relays keep addressable events). */
function newestByD(events: NostrEvent[]): Map<string, NostrEvent> {
  const byD = new Map<string, NostrEvent>();
  for (const e of events) {
    const d = e.tags.find((t) => t[0] === 'd')?.[1];
    if (d === undefined) continue;
    const had = byD.get(d);
    if (!had || e.created_at > had.created_at || (e.created_at === had.created_at && e.id < had.id))
      byD.set(d, e);
  }
  return byD;
}

async function decrypt(signer: Signer, pubkey: string, event: NostrEvent, what: string): Promise<string> {
  try {
    return await signer.nip44.decrypt(pubkey, event.content);
  } catch (err) {
    throw new MemoryBackupError(`${what} (${event.id}) does not decrypt with this key: ${errorMessage(err)}`);
  }
}

function parseManifest(text: string, agent: string): BackupManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new MemoryBackupError(`the manifest of ${agent}'s backup is not JSON`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success)
    throw new MemoryBackupError(
      `the manifest of ${agent}'s backup: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const m = parsed.data;
  if (m.agent !== agent) throw new MemoryBackupError(`the manifest names agent ${m.agent}, not ${agent}`);
  if (m.chunkHashes.length !== m.chunks)
    throw new MemoryBackupError(
      `the manifest of ${agent}'s backup names ${m.chunkHashes.length} hashes for ${m.chunks} chunks`,
    );
  return m;
}
