import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import { normalize } from './embedder.ts';
import { FakeEmbedder } from './fake-embedder.ts';
import { fusedRanks, RRF_K, textQuery } from './search-sql.ts';
import { sqliteVecPath, VectorStore, VectorStoreError } from './vector-store.ts';

const open = (): VectorStore => VectorStore.open({ path: ':memory:', logger: silentLogger });

function seeded(seed: number, dim: number): Float32Array {
  let s = seed >>> 0;
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2 ** 32 - 0.5;
  }
  return normalize(v);
}

describe('VectorStore', () => {
  test('a missing sqlite-vec extension: a clear error at open', () => {
    assert.throws(
      () =>
        VectorStore.open({ path: ':memory:', logger: silentLogger, extensionPath: '/nonexistent/vec0.so' }),
      (err: Error) =>
        err instanceof VectorStoreError &&
        /sqlite-vec extension is missing/.test(err.message) &&
        /npm install sqlite-vec/.test(err.message),
    );
  });

  test('a corrupt sqlite-vec extension: a clear error at open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'timmy-mem-'));
    const bad = join(dir, 'vec0.so');
    writeFileSync(bad, 'this is not a shared library');
    assert.throws(
      () => VectorStore.open({ path: join(dir, 'm.sqlite'), logger: silentLogger, extensionPath: bad }),
      (err: Error) =>
        err instanceof VectorStoreError && /cannot be loaded/.test(err.message) && err.message.includes(bad),
    );
  });

  test('binary KNN then float rerank finds the exact nearest; filters by agent, kind and time', () => {
    const store = open();
    store.useModel({ model: 'seeded', dimension: 64 });
    const items = Array.from({ length: 300 }, (_, i) => ({
      agent: i % 2 ? 'quill' : 'seer',
      kind: (i % 3 === 0 ? 'semantic' : 'episodic') as 'semantic' | 'episodic',
      content: `memory ${i}`,
      importance: 0.5,
      createdAt: 1000 + i,
      embedding: seeded(i + 1, 64),
    }));
    const ids = store.insert(items);
    assert.equal(store.count(), 300);
    assert.equal(store.indexedCount(), 300);
    const q = seeded(42, 64);
    const exact = store.exactKnn(q, 10);
    const full = store.knn(q, 10, {}, 300);
    assert.deepEqual(
      full.map((h) => h.id),
      exact.map((h) => h.id),
      'with every row a candidate, the rerank is exact',
    );
    const approx = store.knn(q, 10).map((h) => h.id);
    const found = exact.filter((h) => approx.includes(h.id)).length;
    assert.ok(found >= 7, `recall@10 of 64-bit codes over 300 random vectors: ${found}/10`);
    const [self] = store.knn(seeded(7, 64), 1);
    assert.equal(self?.id, ids[6]);
    assert.ok(Math.abs((self?.score ?? 0) - 1) < 1e-5);
    const filtered = store.knn(q, 20, { agent: 'quill', kinds: ['semantic'], since: 1100, until: 1200 });
    assert.ok(filtered.length > 0);
    for (const h of filtered) {
      const m = store.get(h.id);
      assert.equal(m?.agent, 'quill');
      assert.equal(m?.kind, 'semantic');
      assert.ok((m?.createdAt ?? 0) >= 1100 && (m?.createdAt ?? 0) < 1200);
    }
    assert.deepEqual(
      filtered.map((h) => h.id),
      store
        .exactKnn(q, 20, { agent: 'quill', kinds: ['semantic'], since: 1100, until: 1200 })
        .map((h) => h.id),
    );
    store.delete([ids[6] as number]);
    assert.notEqual(store.knn(seeded(7, 64), 1)[0]?.id, ids[6]);
    assert.equal(store.indexedCount(), 299);
    store.close();
  });

  test('hybrid search: BM25 and vector ranks fused by reciprocal rank', async () => {
    const store = open();
    const e = new FakeEmbedder({ dimension: 32 });
    store.useModel({ model: e.model, dimension: e.dimension });
    const texts = ['lightning invoice paid', 'the weather is sunny', 'zebra crossing near the school'];
    const vs = await e.embed(texts);
    store.insert(
      texts.map((content, i) => ({
        agent: 'a',
        kind: 'episodic' as const,
        content,
        importance: 0.5,
        createdAt: i,
        embedding: vs[i] as Float32Array,
      })),
    );
    const [q] = await e.embed(['zebra']);
    const hits = store.hybrid(q as Float32Array, 'zebra', 3);
    assert.equal(store.get(hits[0]?.id ?? 0)?.content, 'zebra crossing near the school');
    assert.equal(hits[0]?.textRank, 1);
    assert.equal(store.textSearch('"weather" OR (', 5).length, 1, 'FTS syntax in the text is quoted away');
    assert.equal(textQuery('Hello, "world"!'), '"hello" OR "world"');
    const fused = fusedRanks(
      [
        { id: 1, score: 0.9 },
        { id: 2, score: 0.8 },
      ],
      [{ id: 2, score: 3 }],
    );
    assert.deepEqual(
      fused.map((h) => h.id),
      [2, 1],
    );
    assert.equal(fused[0]?.score, 1 / (RRF_K + 2) + 1 / (RRF_K + 1));
    store.close();
  });

  test('a store of one model refuses another without a migration', () => {
    const store = open();
    store.useModel({ model: 'a', dimension: 16 });
    store.useModel({ model: 'a', dimension: 16 });
    assert.throws(() => store.useModel({ model: 'b', dimension: 16 }), /migrate/);
    assert.throws(
      () =>
        store.insert([
          {
            agent: 'x',
            kind: 'semantic',
            content: 'c',
            importance: 1,
            createdAt: 0,
            embedding: new Float32Array(8),
          },
        ]),
      /8 dimensions/,
    );
    store.close();
  });

  test('a file of schema 1 migrates to 2 (the customer index) without losing a row', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'timmy-mem-')), 'memory.sqlite');
    // Schema 1, written as the previous release wrote it.
    const Database = (await import('better-sqlite3')).default;
    const { MEMORY_MIGRATIONS } = await import('./store-schema.ts');
    const old = new Database(path);
    old.exec(MEMORY_MIGRATIONS[0] as string);
    old.pragma('user_version = 1');
    const insert = old.prepare(
      'INSERT INTO memories (agent, kind, content, content_hash, importance, created_at, accessed_at, meta) VALUES (?, ?, ?, ?, 0.5, ?, ?, ?)',
    );
    for (let i = 0; i < 50; i++)
      insert.run('timmy', 'episodic', `job ${i}`, `h${i}`, i, i, JSON.stringify({ customer: `c${i % 3}` }));
    const before = old.prepare('SELECT * FROM memories ORDER BY id').all();
    old.close();
    const store = VectorStore.open({ path, logger: silentLogger });
    assert.equal(store.db.pragma('user_version', { simple: true }), MEMORY_MIGRATIONS.length);
    assert.deepEqual(store.db.prepare('SELECT * FROM memories ORDER BY id').all(), before);
    const plan = store.db
      .prepare(
        "EXPLAIN QUERY PLAN SELECT id FROM memories WHERE agent = ? AND json_extract(meta, '$.customer') = ?",
      )
      .all('timmy', 'c1') as { detail: string }[];
    assert.match(plan.map((p) => p.detail).join(' '), /memories_by_customer/);
    assert.equal(store.find({ agent: 'timmy', meta: { customer: 'c1' } }, 100).length, 17);
    store.close();
  });

  test("a file of schema 2 migrates to 3 (agent as the search table's partition key) without losing a row or a result", async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'timmy-mem-')), 'memory.sqlite');
    const dim = 64;
    const fresh = VectorStore.open({ path, logger: silentLogger });
    fresh.useModel({ model: 'seeded/64', dimension: dim });
    fresh.insert(
      Array.from({ length: 300 }, (_, i) => ({
        agent: `agent-${i % 3}`,
        kind: 'episodic' as const,
        content: `memory ${i}`,
        importance: 0.5,
        createdAt: 1_700_000_000_000 + i,
        embedding: seeded(i + 1, dim),
      })),
    );
    const query = seeded(7777, dim);
    const expected = fresh.knn(query, 10, {}, 300);
    const expectedAgent = fresh.knn(query, 10, { agent: 'agent-1' }, 300);
    fresh.close();
    // Schema 2 as the previous release wrote it: agent a metadata column of the search table.
    const Database = (await import('better-sqlite3')).default;
    const old = new Database(path);
    old.loadExtension(sqliteVecPath());
    old.exec('DROP TABLE memory_vec');
    old.exec(
      `CREATE VIRTUAL TABLE memory_vec USING vec0 (embedding bit[${dim}], agent text, kind text, created_at integer)`,
    );
    old.exec(
      'INSERT INTO memory_vec (rowid, embedding, agent, kind, created_at) SELECT id, vec_quantize_binary(vec_f32(embedding)), agent, kind, created_at FROM memories',
    );
    old.pragma('user_version = 2');
    const before = old.prepare('SELECT * FROM memories ORDER BY id').all();
    old.close();

    const store = VectorStore.open({ path, logger: silentLogger });
    assert.equal(store.db.pragma('user_version', { simple: true }), 3);
    assert.deepEqual(store.db.prepare('SELECT * FROM memories ORDER BY id').all(), before);
    assert.equal(store.indexedCount(), 300);
    const sql = store.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'memory_vec'").get() as {
      sql: string;
    };
    assert.match(sql.sql, /agent text partition key/);
    assert.deepEqual(store.knn(query, 10, {}, 300), expected);
    assert.deepEqual(store.knn(query, 10, { agent: 'agent-1' }, 300), expectedAgent);
    assert.ok(
      expectedAgent.every((h) => (h.id - 1) % 3 === 1),
      "one agent's memories only",
    );
    store.close();
  });
});
