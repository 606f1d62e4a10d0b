import { z } from 'zod';
import { vectorBytes, vectorFromBytes } from './embedder.ts';
import type { Memories } from './memories.ts';
import { MEMORY_KINDS, type MemoryFilter } from './types.ts';
import { contentHash, type NewMemory, type VectorStore } from './vector-store.ts';

/**
 * The JSONL form of memories (`timmy memory export`/`import`): one memory a line, with its vector in
 * base64 float32 and the model that made it. An import keeps the vectors of the store's own model and
 * re-embeds the others; a memory already there (same agent, kind, content and creation time) is skipped, so
 * importing the same file twice adds nothing.
 */
const lineSchema = z.strictObject({
  v: z.literal(1),
  agent: z.string().min(1),
  kind: z.enum(MEMORY_KINDS),
  content: z.string().min(1),
  contentHash: z.string(),
  importance: z.number().min(0).max(1),
  createdAt: z.number().int(),
  accessedAt: z.number().int(),
  accessCount: z.number().int().min(0),
  meta: z.record(z.string(), z.unknown()),
  model: z.string().nullable(),
  dimension: z.number().int().nullable(),
  embedding: z.string().nullable(),
});

export type MemoryLine = z.infer<typeof lineSchema>;

export class MemoryImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryImportError';
  }
}

/**
 * The memories as JSONL records; `vectors: false` leaves the embeddings out (a backup: the restoring side
 * embeds again with its own model).
 */
export function* exportLines(
  store: VectorStore,
  filter: MemoryFilter = {},
  options: { vectors?: boolean } = {},
): Generator<string> {
  const vectors = options.vectors ?? true;
  for (const m of store.iterate(filter)) {
    const embedding = vectors ? m.embedding : undefined;
    const line: MemoryLine = {
      v: 1,
      agent: m.agent,
      kind: m.kind,
      content: m.content,
      contentHash: m.contentHash,
      importance: m.importance,
      createdAt: m.createdAt,
      accessedAt: m.accessedAt,
      accessCount: m.accessCount,
      meta: m.meta,
      model: embedding ? m.model : null,
      dimension: embedding ? m.dimension : null,
      embedding: embedding ? vectorBytes(embedding).toString('base64') : null,
    };
    yield JSON.stringify(line);
  }
}

export function parseLine(text: string, lineNo: number): MemoryLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MemoryImportError(`line ${lineNo}: not JSON (${(err as Error).message})`);
  }
  const parsed = lineSchema.safeParse(json);
  if (!parsed.success)
    throw new MemoryImportError(
      `line ${lineNo}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ')}`,
    );
  if (contentHash(parsed.data.content) !== parsed.data.contentHash)
    throw new MemoryImportError(`line ${lineNo}: contentHash does not match the content`);
  return parsed.data;
}

export interface ImportReport {
  imported: number;
  skipped: number;
  /** Imported with their own vector (same model) rather than embedded again. */
  keptVectors: number;
}

/** Imports JSONL lines (every line checked before any is written), then embeds those without a usable vector. */
export async function importLines(
  memories: Memories,
  lines: Iterable<string> | AsyncIterable<string>,
): Promise<ImportReport> {
  await memories.ready;
  const parsed: MemoryLine[] = [];
  let n = 0;
  for await (const text of lines) {
    n++;
    if (text.trim() === '') continue;
    parsed.push(parseLine(text, n));
  }
  const store = memories.store;
  const active = store.activeModel();
  const exists = store.db.prepare(
    'SELECT 1 FROM memories WHERE agent = ? AND kind = ? AND content_hash = ? AND created_at = ?',
  );
  const fresh: NewMemory[] = [];
  let keptVectors = 0;
  for (const l of parsed) {
    if (exists.get(l.agent, l.kind, l.contentHash, l.createdAt)) continue;
    const same = active && l.embedding && l.model === active.model && l.dimension === active.dimension;
    const embedding = same ? vectorFromBytes(Buffer.from(l.embedding as string, 'base64')) : undefined;
    if (embedding && embedding.length !== active?.dimension)
      throw new MemoryImportError(`a vector of ${embedding.length} dimensions for ${l.model}`);
    if (embedding) keptVectors++;
    fresh.push({
      agent: l.agent,
      kind: l.kind,
      content: l.content,
      importance: l.importance,
      createdAt: l.createdAt,
      accessedAt: l.accessedAt,
      accessCount: l.accessCount,
      meta: l.meta,
      ...(embedding ? { embedding } : {}),
    });
  }
  for (let i = 0; i < fresh.length; i += 1000) store.insert(fresh.slice(i, i + 1000));
  await memories.indexPending();
  return { imported: fresh.length, skipped: parsed.length - fresh.length, keptVectors };
}
