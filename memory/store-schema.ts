import type { Migration } from '../core/sqlite-migrate.ts';

/**
 * The memory file's schema (`<dataDir>/memory.sqlite`). The vectors' own tables are made at run time,
 * because their dimension is the embedder's: `memory_vec` (vec0: the binary-quantized vector of each
 * embedded memory, with agent as its partition key and kind and created_at as metadata columns for filtered
 * KNN: `vectorTableSql`) and, during a
 * change of model, `memory_migration` (the new vectors, until they replace the old ones in one commit).
 */
export const MEMORY_MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE memories (
     id INTEGER PRIMARY KEY,
     agent TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('episodic', 'semantic', 'procedural')),
     content TEXT NOT NULL,
     content_hash TEXT NOT NULL,
     importance REAL NOT NULL,
     created_at INTEGER NOT NULL,
     accessed_at INTEGER NOT NULL,
     access_count INTEGER NOT NULL DEFAULT 0,
     meta TEXT NOT NULL DEFAULT '{}',
     model TEXT,
     dimension INTEGER,
     embedding BLOB
   ) STRICT;
   CREATE INDEX memories_by_agent ON memories (agent, kind, created_at);
   CREATE INDEX memories_unembedded ON memories (id) WHERE embedding IS NULL;
   CREATE TABLE memory_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
   CREATE VIRTUAL TABLE memories_fts USING fts5 (content, content = 'memories', content_rowid = 'id');
   CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
     INSERT INTO memories_fts (rowid, content) VALUES (new.id, new.content);
   END;
   CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
     INSERT INTO memories_fts (memories_fts, rowid, content) VALUES ('delete', old.id, old.content);
   END;
   CREATE TRIGGER memories_fts_update AFTER UPDATE OF content ON memories BEGIN
     INSERT INTO memories_fts (memories_fts, rowid, content) VALUES ('delete', old.id, old.content);
     INSERT INTO memories_fts (rowid, content) VALUES (new.id, new.content);
   END;`,
  // 2: a namespace's memories of one customer (the desk's, an agent's jobs for them) found without a scan.
  `CREATE INDEX memories_by_customer ON memories (agent, json_extract(meta, '$.customer'));`,
  // 3: the search table with `agent` as vec0's partition key (a search within one agent reads only its
  // rows), rebuilt from the float vectors the memories table keeps (the bits are a function of them).
  (db) => {
    const old = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'memory_vec'").get();
    const dimension = db.prepare("SELECT value FROM memory_settings WHERE key = 'dimension'").get() as
      | { value: string }
      | undefined;
    const model = db.prepare("SELECT value FROM memory_settings WHERE key = 'model'").get() as
      | { value: string }
      | undefined;
    if (!old || !dimension || !model) return;
    db.exec('DROP TABLE memory_vec');
    db.exec(vectorTableSql(Number(dimension.value)));
    db.prepare(
      `INSERT INTO memory_vec (rowid, embedding, agent, kind, created_at)
       SELECT id, vec_quantize_binary(vec_f32(embedding)), agent, kind, created_at FROM memories
       WHERE embedding IS NOT NULL AND model = ? AND dimension = ? ORDER BY id`,
    ).run(model.value, Number(dimension.value));
  },
];

/**
 * The search table of a dimension: the binary-quantized vectors, `agent` as the partition key (one agent's
 * search reads its rows only), `kind` and `created_at` as metadata columns for filters inside the KNN.
 */
export function vectorTableSql(dimension: number, name = 'memory_vec'): string {
  return `CREATE VIRTUAL TABLE ${name} USING vec0 (embedding bit[${dimension}], agent text partition key, kind text, created_at integer)`;
}
