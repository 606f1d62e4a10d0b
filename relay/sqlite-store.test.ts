/**
 * SQLite-specific behaviour of SqliteEventStore: schema and settings, persistence, raw JSON, stats, plans,
 * and durability under SIGKILL. The EventStore semantics are in tests/contracts/event-store.contract.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { RelayError } from '../core/errors.ts';
import { MemoryLogger } from '../core/logger.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import { fanOut, filterSql, selectSql } from './sqlite-filter-sql.ts';
import { MIGRATIONS } from './sqlite-schema.ts';
import { SqliteEventStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'timmy-sqlite-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `store-${++n}.db`);

const sk = generateSecretKey();
const NOW = Math.floor(Date.now() / 1000);
function sign(kind: number, createdAt: number, tags: string[][] = [], content = ''): NostrEvent {
  const { id, pubkey, created_at, sig } = finalizeEvent({ kind, created_at: createdAt, tags, content }, sk);
  return { id, pubkey, created_at, kind, tags, content, sig };
}

describe('SqliteEventStore', () => {
  test('creates a versioned WAL database with synchronous=FULL, and logs the migration', async () => {
    const path = freshPath();
    const logger = new MemoryLogger();
    const store = new SqliteEventStore({ path, logger });
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
    assert.ok(logger.records.some((r) => r.msg === 'event store schema migrated' && r.fields.to === 1));
    const again = new SqliteEventStore({ path });
    const internal = again as unknown as { db: Database.Database };
    assert.equal(internal.db.pragma('synchronous', { simple: true }), 2, 'FULL');
    assert.ok((internal.db.pragma('busy_timeout', { simple: true }) as number) >= 1000);
    await again.close();
  });

  test('keeps events across close and reopen; refuses a database from a newer schema', async () => {
    const path = freshPath();
    const e = sign(1, NOW, [['t', 'persist']], 'still here');
    const first = new SqliteEventStore({ path });
    assert.deepEqual(await first.save([e]), [{ status: 'saved' }]);
    await first.close();
    const second = new SqliteEventStore({ path });
    assert.deepEqual(await second.query([{ '#t': ['persist'] }]), [e]);
    await second.close();

    const db = new Database(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    assert.throws(() => new SqliteEventStore({ path }), /newer than this code/);
  });

  test('two stores on one file see each other’s writes', async () => {
    const path = freshPath();
    const a = new SqliteEventStore({ path });
    const b = new SqliteEventStore({ path });
    const e = sign(1, NOW - 1);
    await a.save([e]);
    assert.deepEqual(await b.query([{ ids: [e.id] }]), [e]);
    assert.deepEqual(await b.save([e]), [{ status: 'duplicate' }]);
    await a.close();
    await b.close();
  });

  test('queryRaw returns the stored JSON text, in query order', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const events = [
      sign(1, NOW - 3, [], 'a "quoted" ✓'),
      sign(1, NOW - 2),
      sign(7, NOW - 1, [['e', 'x']], '+'),
    ];
    await store.save(events);
    const raw = await store.queryRaw([{ kinds: [1] }, { kinds: [7] }]);
    assert.deepEqual(
      raw,
      [events[2], events[1], events[0]].map((e) => JSON.stringify(e)),
    );
    assert.deepEqual(
      raw.map((r) => JSON.parse(r)),
      await store.query([{ kinds: [1] }, { kinds: [7] }]),
    );
    await store.close();
  });

  test('openCursor streams the answer of queryRaw, reading each event only when asked', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const events = Array.from({ length: 30 }, (_, i) => sign(i % 2 === 0 ? 1 : 7, NOW - i, [], `e${i}`));
    await store.save(events);
    const filters: Filter[] = [
      { kinds: [1], limit: 10 },
      { kinds: [7] },
      { authors: [events[0]!.pubkey], kinds: [1, 7], limit: 4 },
    ];
    const cursor = store.openCursor(filters);
    const got: string[] = [];
    for (let e = cursor.next(); e; e = cursor.next()) {
      assert.equal(e.id, (JSON.parse(e.json) as NostrEvent).id);
      assert.equal(e.kind, (JSON.parse(e.json) as NostrEvent).kind);
      got.push(e.json);
    }
    assert.deepEqual(got, await store.queryRaw(filters));
    assert.equal(cursor.next(), undefined);

    // An event deleted after the cursor opened, and not read yet (events are read a few at a time), is
    // skipped; close ends the cursor.
    const kind1 = events.filter((e) => e.kind === 1).map((e) => e.id);
    const open = store.openCursor([{ kinds: [1] }]);
    assert.equal(open.next()?.id, kind1[0]);
    const last = kind1[kind1.length - 1] as string;
    await store.save([finalizeEvent({ kind: 5, created_at: NOW, tags: [['e', last]], content: '' }, sk)]);
    const rest: string[] = [];
    for (let e = open.next(); e; e = open.next()) rest.push(e.id);
    assert.deepEqual(rest, kind1.slice(1, -1));
    const closing = store.openCursor([{ kinds: [1] }]);
    assert.equal(closing.next()?.id, kind1[0]);
    closing.close();
    assert.equal(closing.next(), undefined);
    await store.close();
  });

  test('stores only the NIP-01 fields of an event', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const e = sign(1, NOW);
    await store.save([{ ...e, extra: 'dropped' } as NostrEvent]);
    assert.deepEqual(await store.queryRaw([{}]), [JSON.stringify(e)]);
    await store.close();
  });

  test('stats count events and bytes; close is idempotent; calls after close fail', async () => {
    const path = freshPath();
    const store = new SqliteEventStore({ path });
    await store.save([sign(1, NOW - 2), sign(1, NOW - 1)]);
    const stats = store.stats();
    assert.equal(stats.events, 2);
    assert.ok(stats.dbBytes > 0);
    assert.ok(stats.walBytes > 0, 'the WAL holds the commits until a checkpoint');
    await store.close();
    await store.close();
    await assert.rejects(store.query([{}]), /closed/);
    await assert.rejects(store.save([sign(1, NOW)]), /closed/);
    assert.throws(() => store.stats(), /closed/);
  });

  test('deleting, replacing and purging leave no tag rows behind', async () => {
    const path = freshPath();
    const store = new SqliteEventStore({ path });
    const note = sign(1, NOW - 10, [['t', 'gone']]);
    const v1 = sign(3, NOW - 10, [['p', 'a'.repeat(64)]]);
    const v2 = sign(3, NOW - 9, [['p', 'b'.repeat(64)]]);
    // An hour ahead of the clock at save time (NOW was taken when the file loaded, maybe seconds ago).
    const soon = Math.floor(Date.now() / 1000) + 3600;
    const expiring = sign(1, NOW - 10, [
      ['expiration', String(soon)],
      ['t', 'soon'],
    ]);
    await store.save([note, v1, expiring]);
    await store.save([v2, sign(5, NOW, [['e', note.id]])]);
    assert.equal(await store.purgeExpired(soon + 1), 1);
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(
        db.prepare('SELECT count(*) FROM tags WHERE event_seq NOT IN (SELECT seq FROM events)').pluck().get(),
        0,
      );
      const values = db.prepare('SELECT DISTINCT value FROM tags ORDER BY value').pluck().all();
      assert.deepEqual(values, ['b'.repeat(64), note.id].sort(), 'the deletion’s e tag and v2’s p tag');
    } finally {
      db.close();
    }
  });

  test('filters of the wrong type are refused with an invalid: RelayError', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    for (const f of [{ authors: 'abc' }, { kinds: ['1'] }, { '#e': [1] }, { since: '1' }, { limit: 'x' }]) {
      await assert.rejects(store.query([f as unknown as Filter]), (err: unknown) => {
        assert.ok(err instanceof RelayError);
        assert.equal(err.prefix, 'invalid');
        return true;
      });
    }
    await store.close();
  });

  test('logs slow queries', async () => {
    const logger = new MemoryLogger();
    const store = new SqliteEventStore({ path: ':memory:', logger, slowQueryMs: -1 });
    await store.query([{ kinds: [1] }]);
    const record = logger.records.find((r) => r.msg === 'slow query');
    assert.ok(record);
    assert.equal(record.level, 'warn');
    assert.deepEqual(record.fields.filters, [{ kinds: [1] }]);
    await store.close();
  });

  test('a batch is one transaction: if a statement fails, nothing of the batch is stored', async () => {
    const store = new SqliteEventStore({ path: ':memory:' });
    const internal = store as unknown as { db: Database.Database };
    // A trigger that fails on one event stands in for a failure mid-batch (disk full, I/O error).
    internal.db.exec(
      "CREATE TEMP TRIGGER fail_on_boom BEFORE INSERT ON events WHEN new.raw LIKE '%boom%' BEGIN SELECT RAISE(ABORT, 'boom'); END",
    );
    const good = sign(1, NOW - 1);
    await assert.rejects(store.save([good, sign(1, NOW, [], 'boom')]), /boom/);
    assert.deepEqual(await store.query([{}]), []);
    assert.deepEqual(await store.save([good]), [{ status: 'saved' }]);
    await store.close();
  });
});

describe('SqliteEventStore query plans (fresh database, no statistics)', () => {
  const db = new Database(':memory:');
  db.exec(MIGRATIONS.join('\n'));
  after(() => db.close());
  const plan = (filter: Filter): string => {
    const sql = filterSql(filter, NOW);
    assert.ok(sql);
    return (
      db.prepare(`EXPLAIN QUERY PLAN ${selectSql(sql)}`).all(...sql.params, 100) as { detail: string }[]
    )
      .map((r) => r.detail)
      .join(' | ');
  };
  const pk = 'a'.repeat(64);

  test('author × kind parts of the hot feed query read (pubkey, kind, created_at)', () => {
    const parts = fanOut({ kinds: [1], authors: [pk, 'b'.repeat(64)], since: NOW - 3600 }, 100);
    assert.equal(parts?.length, 2);
    assert.match(
      plan(parts![0]!),
      /USING INDEX events_pubkey_kind \(pubkey=\? AND kind=\? AND created_at>\?\)/,
    );
  });

  test('the whole of an authors × kinds query reads only the (pubkey, kind, created_at, id, expiration) index', () => {
    const sql = filterSql({ kinds: [1, 7], authors: [pk, 'b'.repeat(64)], since: NOW - 3600 }, NOW);
    assert.ok(sql);
    const detail = (
      db
        .prepare(
          `EXPLAIN QUERY PLAN SELECT e.id, e.created_at, e.seq, e.kind FROM ${sql.from} WHERE ${sql.where} LIMIT ?`,
        )
        .all(...sql.params, 401) as { detail: string }[]
    )
      .map((r) => r.detail)
      .join(' | ');
    assert.match(
      detail,
      /USING COVERING INDEX events_pubkey_kind \(pubkey=\? AND kind=\? AND created_at>\?\)/,
    );
  });

  test('one-value tag filters walk the tags primary key; ids use the id index; kinds their index', () => {
    assert.match(plan({ kinds: [7], '#e': [pk] }), /SEARCH t USING PRIMARY KEY \(name=\? AND value=\?\)/);
    assert.match(
      plan({ '#p': [pk], since: NOW - 60 }),
      /SEARCH t USING PRIMARY KEY \(name=\? AND value=\? AND created_at>\?\)/,
    );
    assert.match(plan({ ids: [pk, 'c'.repeat(64)] }), /USING INDEX sqlite_autoindex_events_1 \(id=\?\)/);
    assert.match(plan({ kinds: [1], limit: 10 }), /USING INDEX events_kind \(kind=\?\)/);
    assert.match(plan({ limit: 10 }), /SCAN e USING INDEX events_created_at/);
    for (const f of [{ '#t': ['a', 'b'] }, { authors: [pk] }, { kinds: [1], authors: [pk] }] as Filter[]) {
      assert.doesNotMatch(plan(f), /SCAN e(?! USING)/, JSON.stringify(f));
    }
  });
});

describe('SqliteEventStore durability', () => {
  test('every acknowledged batch survives SIGKILL; the batch in flight is all or nothing', async () => {
    const path = freshPath();
    const fixture = new URL('../tests/fixtures/sqlite-store-writer.ts', import.meta.url).pathname;
    const acked: string[] = [];
    let inFlight: string[] = [];
    for (let round = 0; round < 2; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, path], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      const batches = new Map<number, string[]>();
      let acks = 0;
      for await (const line of createInterface({ input: child.stdout })) {
        const [word, num, ids] = line.split(' ');
        if (word === 'batch') {
          inFlight = (ids ?? '').split(',');
          batches.set(Number(num), inFlight);
        } else if (word === 'ack') {
          acked.push(...(batches.get(Number(num)) ?? []));
          inFlight = [];
          // Kill at a moment that depends on timing, not on the line: usually inside the next transaction.
          if (++acks === 25) setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 5));
        }
      }
      assert.equal(await exited, 'SIGKILL', stderr);
      assert.ok(acks >= 25, `the writer acknowledged ${acks} batches (stderr: ${stderr})`);

      const store = new SqliteEventStore({ path });
      const stored = new Set((await store.query([{ ids: acked }])).map((e) => e.id));
      const lost = acked.filter((id) => !stored.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged events were lost`);
      const partial = (await store.query([{ ids: inFlight }])).length;
      assert.ok(partial === 0 || partial === inFlight.length, `${partial} of ${inFlight.length} in flight`);
      if (partial > 0) acked.push(...inFlight);
      assert.equal(
        await store.count([{}]),
        acked.length,
        'nothing but acknowledged batches (+ the one in flight)',
      );
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }
  });
});
