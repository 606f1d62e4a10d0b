/** The three kinds of memory (docs/memory.md). */
export const MEMORY_KINDS = ['episodic', 'semantic', 'procedural'] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];

export function isMemoryKind(s: string): s is MemoryKind {
  return (MEMORY_KINDS as readonly string[]).includes(s);
}

/** One stored memory (its vector is read separately). */
export interface MemoryRecord {
  id: number;
  /** The namespace: an agent's name (or "timmy" for the desk). */
  agent: string;
  kind: MemoryKind;
  content: string;
  /** sha256 of the content, hex. */
  contentHash: string;
  /** 0 to 1. */
  importance: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** When it was last recalled (or created). */
  accessedAt: number;
  accessCount: number;
  meta: Record<string, unknown>;
  /** The model and dimension of its vector; null while it waits to be embedded. */
  model: string | null;
  dimension: number | null;
}

/** What a search may be limited to. */
export interface MemoryFilter {
  agent?: string;
  kinds?: readonly MemoryKind[];
  /** Created at or after (ms). */
  since?: number;
  /** Created before (ms). */
  until?: number;
  /**
   * Only memories whose metadata has these values (e.g. `{ customer: <hex pubkey> }`): read from the
   * memories table, so a search with it ranks the matching memories exactly instead of through the KNN.
   */
  meta?: Readonly<Record<string, string | number>>;
}
