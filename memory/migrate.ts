import type { Embedder } from './embedder.ts';
import { vectorBytes } from './embedder.ts';
import type { VectorStore } from './vector-store.ts';

export interface MigrationProgress {
  done: number;
  total: number;
}

export interface MigrateOptions {
  /** Texts embedded per step (default 64). */
  batch?: number;
  onProgress?: (p: MigrationProgress) => void;
  signal?: AbortSignal;
}

/**
 * Re-embeds every memory with another model (or dimension). The new vectors are written beside the old ones
 * (`memory_migration`), a batch per transaction, so the old index keeps answering meanwhile and a stopped
 * migration resumes where it was; then one transaction swaps them in: the search table is rebuilt at the new
 * dimension, every row gets its new vector, the new model becomes the active one. Rows, their content and
 * their metadata are never touched, only the vectors. Memories added during the migration are embedded in
 * the last pass. Returns how many memories were re-embedded.
 */
export async function migrateVectors(
  store: VectorStore,
  embedder: Embedder,
  options: MigrateOptions = {},
): Promise<number> {
  await embedder.ready();
  const target = JSON.stringify({ model: embedder.model, dimension: embedder.dimension });
  const { db } = store;
  db.transaction(() => {
    if (store.setting('migration') !== target) db.exec('DROP TABLE IF EXISTS memory_migration');
    db.exec(
      'CREATE TABLE IF NOT EXISTS memory_migration (id INTEGER PRIMARY KEY, embedding BLOB NOT NULL) STRICT',
    );
    store.setSetting('migration', target);
  }).immediate();
  const batch = options.batch ?? 64;
  const missing = db.prepare(
    'SELECT id, content FROM memories WHERE id NOT IN (SELECT id FROM memory_migration) ORDER BY id LIMIT ?',
  );
  const stage = db.prepare('INSERT OR REPLACE INTO memory_migration (id, embedding) VALUES (?, ?)');
  const staged = (): number =>
    (
      db
        .prepare('SELECT count(*) AS n FROM memory_migration WHERE id IN (SELECT id FROM memories)')
        .get() as { n: number }
    ).n;
  let embedded = 0;
  for (;;) {
    for (;;) {
      options.signal?.throwIfAborted();
      const rows = missing.all(batch) as { id: number; content: string }[];
      if (rows.length === 0) break;
      const vectors = await embedder.embed(rows.map((r) => r.content));
      db.transaction(() => {
        rows.forEach((r, i) => {
          stage.run(r.id, vectorBytes(vectors[i] as Float32Array));
        });
      }).immediate();
      embedded += rows.length;
      options.onProgress?.({ done: staged(), total: store.count() });
    }
    const swapped = db
      .transaction((): boolean => {
        if ((missing.all(1) as unknown[]).length > 0) return false;
        store.createVectorTable({ model: embedder.model, dimension: embedder.dimension });
        db.prepare(
          `UPDATE memories SET model = ?, dimension = ?,
             embedding = (SELECT embedding FROM memory_migration m WHERE m.id = memories.id)`,
        ).run(embedder.model, embedder.dimension);
        db.exec(
          `INSERT INTO memory_vec (rowid, embedding, agent, kind, created_at)
           SELECT id, vec_quantize_binary(vec_f32(embedding)), agent, kind, created_at FROM memories`,
        );
        db.exec('DROP TABLE memory_migration');
        store.setSetting('migration', undefined);
        return true;
      })
      .immediate();
    if (swapped) return embedded;
  }
}
