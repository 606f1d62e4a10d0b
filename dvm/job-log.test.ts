import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { ManualClock } from '../core/clock.ts';
import { MemoryLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { DEFAULT_SYNCHRONOUS, DuplicateJobError, JobLog } from './job-log.ts';
import { SCHEMA_VERSION } from './job-log-schema.ts';
import {
  foldJob,
  IllegalTransitionError,
  InvalidEntryError,
  type JobEntry,
  transitions,
} from './job-state.ts';

const dir = mkdtempSync(join(tmpdir(), 'timmy-job-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = (): string => join(dir, `jobs-${++files}.sqlite`);

const hex = (n: number, width = 64): string => n.toString(16).padStart(width, '0');
function event(kind: number, n: number, content = ''): NostrEvent {
  return {
    id: hex(n),
    pubkey: hex(0xc0ffee),
    created_at: 1_700_000_000,
    kind,
    tags: [],
    content,
    sig: hex(5, 128),
  };
}
const AGENT = hex(0xa9e17);
const OTHER = hex(0xb0b);

/** One commit per append (the tests read the file from a second connection within one turn). */
const open = (path: string, clock = new ManualClock()): JobLog =>
  JobLog.open({ path, clock, groupCommit: false });
/** As the instance runs it: appends commit with their event-loop turn. */
const openGrouped = (path: string): JobLog => JobLog.open({ path, clock: new ManualClock() });
/** Posts a request with id `n`; returns the job id. */
function post(log: JobLog, n: number): string {
  const request = event(5001, n);
  log.append(request.id, { type: 'posted', request });
  return request.id;
}

describe('JobLog: storage', () => {
  test('creates a versioned WAL database with the chosen synchronous setting, and logs the migration', () => {
    const path = freshPath();
    const logger = new MemoryLogger();
    JobLog.open({ path, logger }).close();
    const db = new Database(path);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
    assert.ok(logger.records.some((r) => r.msg === 'job log schema migrated' && r.fields.to === 1));
    assert.equal(DEFAULT_SYNCHRONOUS, 'NORMAL');
    const log = open(path);
    const internal = log as unknown as { db: Database.Database };
    assert.equal(internal.db.pragma('synchronous', { simple: true }), 1, 'NORMAL');
    log.close();
    log.close(); // idempotent
    assert.throws(() => log.get('x'), /is closed/);
  });

  test('group commit: the appends of a turn commit together at its end; committed() and durable() say when', async () => {
    const path = freshPath();
    const log = openGrouped(path);
    const group = (log as unknown as { group: { commits: number } }).group;
    const before = group.commits;
    const ids = [1, 2, 3].map((n) => post(log, n));
    // Not committed yet: another connection does not see them.
    const other = new Database(path, { readonly: true });
    try {
      assert.equal(other.prepare('SELECT count(*) FROM entries').pluck().get(), 0);
      await log.committed();
      assert.equal(group.commits, before + 1, 'one commit for the three appends');
      assert.equal(other.prepare('SELECT count(*) FROM entries').pluck().get(), 3);
    } finally {
      other.close();
    }
    assert.deepEqual(
      ids.map((id) => log.get(id)?.state),
      ['posted', 'posted', 'posted'],
    );
    post(log, 4);
    await log.durable();
    assert.equal(group.commits, before + 2);
    log.close();
    await assert.rejects(log.durable(), /is closed/);
    // A refused append inside the turn rolls back alone; the others commit.
    const again = openGrouped(path);
    const id5 = post(again, 5);
    assert.throws(() => again.append(id5, { type: 'started', agent: AGENT }), /illegal|not allowed|cannot/i);
    post(again, 6);
    again.close(); // commits what is open
    const reread = open(path);
    assert.equal(reread.entries(id5).length, 1);
    assert.equal(reread.lastSeq(), 6);
    reread.close();
  });

  test('listeners hear of appends after their turn commits, not of those rolled back', async () => {
    const log = openGrouped(freshPath());
    const heard: string[] = [];
    log.onAppend((a) => heard.push(a.type));
    const id = post(log, 1);
    assert.deepEqual(heard, [], 'not before the commit');
    assert.throws(() =>
      log.transaction(() => {
        log.append(id, { type: 'note', text: 'rolled back' });
        throw new Error('boom');
      }),
    );
    await log.committed();
    assert.deepEqual(heard, ['posted']);
    assert.equal(log.entries(id).length, 1);
    log.close();
  });

  test('refuses a database of a newer schema version, read-write and read-only', () => {
    const path = freshPath();
    open(path).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const newer = new RegExp(
      `job log schema version ${SCHEMA_VERSION + 1} is newer than this code's ${SCHEMA_VERSION}`,
    );
    assert.throws(() => open(path), newer);
    assert.throws(() => JobLog.open({ path, readonly: true }), newer);
  });

  test('read-only: reads work while another instance writes; append is refused; the file must exist', () => {
    const path = freshPath();
    const writer = open(path);
    const id = post(writer, 1);
    const reader = JobLog.open({ path, readonly: true });
    try {
      assert.equal(reader.get(id)?.state, 'posted');
      writer.append(id, { type: 'cancelled', reason: 'stop' });
      assert.equal(reader.get(id)?.state, 'cancelled');
      assert.equal(reader.list()[0]?.state, 'cancelled');
      assert.throws(() => reader.append(id, { type: 'note', text: 'x' }), /is open read-only/);
    } finally {
      reader.close();
      writer.close();
    }
    // With no writer left (its close removed the WAL), a reader still opens the file.
    const later = JobLog.open({ path, readonly: true });
    assert.equal(later.get(id)?.state, 'cancelled');
    later.close();
    assert.throws(() => JobLog.open({ path: join(dir, 'missing.sqlite'), readonly: true }));
  });

  test('a corrupted row gives an error naming its seq', () => {
    const path = freshPath();
    const log = open(path);
    const id = post(log, 1);
    const { seq } = log.append(id, { type: 'assigned', agent: AGENT, attempt: 1 });
    log.close();
    const corrupt = (data: string, type = 'assigned'): void => {
      const db = new Database(path);
      db.prepare('UPDATE entries SET data = ?, type = ? WHERE seq = ?').run(data, type, seq);
      db.close();
    };
    const cases: [string, string, RegExp][] = [
      ['{"type":"assigned","agent":', 'assigned', /not valid JSON/],
      [
        '{"type":"assigned","agent":5,"attempt":1}',
        'assigned',
        /assigned\.agent: expected a non-empty string/,
      ],
      [
        `{"type":"started","agent":"${AGENT}"}`,
        'assigned',
        /type column says assigned but the entry is started/,
      ],
      [
        `{"type":"assigned","agent":"${AGENT}","attempt":7}`,
        'assigned',
        new RegExp(`: job ${id}: illegal 'assigned' entry in state posted: attempt 7, expected 1$`),
      ],
    ];
    for (const [data, type, detail] of cases) {
      corrupt(data, type);
      const reopened = open(path);
      try {
        // entries() reads rows without folding them: it cannot see an illegal sequence of well-formed ones.
        const reads: (() => unknown)[] = [() => reopened.get(id), () => reopened.active()];
        if (!/illegal/.test(detail.source)) reads.push(() => reopened.entries(id));
        for (const read of reads) {
          assert.throws(read, (err: unknown) => {
            assert.ok(err instanceof InvalidEntryError, String(err));
            assert.equal(err.seq, seq);
            assert.match(err.message, new RegExp(`^job log row seq ${seq} is corrupted: `));
            assert.match(err.message, detail);
            return true;
          });
        }
      } finally {
        reopened.close();
      }
    }
    // A posted row filed under another job's id.
    const db = new Database(path);
    db.prepare('UPDATE entries SET job_id = ? WHERE seq = 1').run(hex(77));
    db.close();
    const reopened = open(path);
    try {
      assert.throws(
        () => reopened.get(hex(77)),
        new RegExp(
          `^InvalidEntryError: job log row seq 1 is corrupted: filed under job ${hex(77)} but posts request ${id}$`,
        ),
      );
    } finally {
      reopened.close();
    }
  });
});

describe('JobLog: appends', () => {
  test('a whole job: each append is one row, returns its seq and the new view; get and entries agree', () => {
    const clock = new ManualClock(1_000_000);
    const log = open(freshPath(), clock);
    try {
      const request = event(5001, 1);
      const result = event(6001, 2, 'summary');
      const steps: JobEntry[] = [
        { type: 'posted', request },
        { type: 'assigned', agent: AGENT, attempt: 1 },
        { type: 'started', agent: AGENT },
        { type: 'effect', key: 'llm:1:summary', value: { text: 'summary', tokens: 3 } },
        { type: 'outbox', key: 'result', event: result },
        { type: 'published', key: 'result' },
        { type: 'completed', result, agent: AGENT },
      ];
      let last = 0;
      for (const entry of steps) {
        clock.advance(10);
        const { seq, view } = log.append(request.id, entry);
        assert.equal(seq, last + 1);
        last = seq;
        assert.equal(view.lastSeq, seq);
        assert.equal(view.updatedAt, clock.now());
        assert.deepStrictEqual(log.get(request.id), view);
        assert.equal(log.lastSeq(), seq);
      }
      const view = log.get(request.id)!;
      assert.equal(view.state, 'completed');
      assert.deepEqual(transitions(view), ['posted', 'assigned', 'executing', 'completed']);
      assert.equal(view.createdAt, 1_000_010);
      const entries = log.entries(request.id);
      assert.deepEqual(
        entries.map((e) => e.entry),
        steps,
      );
      assert.deepEqual(
        entries.map((e) => e.at),
        steps.map((_, i) => 1_000_010 + i * 10),
      );
      assert.deepStrictEqual(foldJob(entries), view);
      assert.deepEqual(log.entries('unknown'), []);
      assert.equal(log.get('unknown'), undefined);
    } finally {
      log.close();
    }
  });

  test('refused appends write nothing: illegal transition, unknown job, bad shape, id mismatch', () => {
    const log = open(freshPath());
    try {
      const id = post(log, 1);
      const before = log.lastSeq();
      assert.throws(
        () => log.append(id, { type: 'started', agent: AGENT }),
        (err: unknown) =>
          err instanceof IllegalTransitionError &&
          err.jobId === id &&
          err.from === 'posted' &&
          err.entryType === 'started',
      );
      assert.throws(
        () => log.append(hex(99), { type: 'cancelled', reason: 'x' }),
        (err: unknown) =>
          err instanceof IllegalTransitionError && err.from === undefined && /no such job/.test(err.message),
      );
      assert.throws(
        () => log.append(id, { type: 'assigned', agent: AGENT } as unknown as JobEntry),
        InvalidEntryError,
      );
      assert.throws(
        () => log.append(hex(7), { type: 'posted', request: event(5001, 8) }),
        /the request's id 0+8 is not the job id 0+7/,
      );
      assert.throws(() => log.append('', { type: 'note', text: 'x' }), /job id/);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      assert.throws(
        () => log.append(id, { type: 'effect', key: 'k', value: cyclic }),
        /not JSON-serialisable/,
      );
      assert.equal(log.lastSeq(), before);
      assert.equal(log.entries(id).length, 1);
      assert.equal(log.list()[0]?.lastSeq, before);
      // The job is still usable.
      assert.equal(log.append(id, { type: 'assigned', agent: AGENT, attempt: 1 }).view.state, 'assigned');
    } finally {
      log.close();
    }
  });

  test('a posted entry for a known job throws DuplicateJobError, also when another process posted it', () => {
    const path = freshPath();
    const a = open(path);
    const b = open(path);
    try {
      const id = post(a, 1);
      assert.throws(
        () => post(a, 1),
        (err: unknown) => err instanceof DuplicateJobError && err.jobId === id,
      );
      assert.throws(() => post(b, 1), DuplicateJobError);
      assert.equal(a.entries(id).length, 1);
    } finally {
      a.close();
      b.close();
    }
  });

  test('the view keeps the entry as stored, not the caller’s objects', () => {
    const log = open(freshPath());
    try {
      const id = post(log, 1);
      const value = { text: 'draft', when: new Date(0), missing: undefined as unknown };
      const { view } = log.append(id, { type: 'effect', key: 'k', value });
      value.text = 'changed afterwards';
      assert.deepStrictEqual(view.effects.k, { text: 'draft', when: '1970-01-01T00:00:00.000Z' });
      const fresh = open((log as unknown as { path: string }).path);
      assert.deepStrictEqual(fresh.get(id), view);
      fresh.close();
    } finally {
      log.close();
    }
  });
});

describe('JobLog: two processes on one file', () => {
  test("the instance's next append sees an 'approved' appended by the CLI while it held a cached view", () => {
    const path = freshPath();
    const clock = new ManualClock(5_000);
    const instance = open(path, clock);
    const cli = open(path, clock);
    try {
      const id = post(instance, 1);
      instance.append(id, { type: 'approval-required', reason: 'costs 100 sats' });
      const mark = instance.lastSeq();
      clock.advance(1000);
      cli.append(id, { type: 'approved', by: 'operator' });
      assert.deepEqual(instance.changesSince(mark), [{ seq: mark + 1, jobId: id, type: 'approved' }]);
      assert.equal(instance.lastSeq(), mark + 1);
      clock.advance(1000);
      // Legal only from posted: the instance caught up inside its transaction.
      const { view, seq } = instance.append(id, { type: 'assigned', agent: AGENT, attempt: 1 });
      assert.equal(seq, mark + 2);
      assert.equal(view.approved, true);
      assert.equal(view.approvedBy, 'operator');
      assert.deepEqual(transitions(view), ['posted', 'awaiting-approval', 'posted', 'assigned']);
      assert.deepStrictEqual(cli.get(id), view);
      assert.deepEqual(
        instance.changesSince(0).map((c) => c.type),
        ['posted', 'approval-required', 'approved', 'assigned'],
      );
      assert.deepEqual(
        instance.changesSince(0, 2).map((c) => c.seq),
        [1, 2],
      );
    } finally {
      instance.close();
      cli.close();
    }
  });

  test('a cancel by the CLI makes the instance’s next transition illegal; get is always fresh', () => {
    const path = freshPath();
    const instance = open(path);
    const cli = open(path);
    try {
      const id = post(instance, 1);
      assert.equal(instance.get(id)?.state, 'posted');
      cli.append(id, { type: 'cancelled', reason: 'customer asked' });
      assert.throws(
        () => instance.append(id, { type: 'assigned', agent: AGENT, attempt: 1 }),
        (err: unknown) => err instanceof IllegalTransitionError && err.from === 'cancelled',
      );
      assert.equal(instance.get(id)?.reason, 'customer asked');
      assert.deepEqual(instance.active(), []);
      // Records are still allowed after the terminal state, from either side.
      cli.append(id, { type: 'note', text: 'refund sent' });
      assert.equal(instance.append(id, { type: 'note', text: 'seen' }).seq, 4);
    } finally {
      instance.close();
      cli.close();
    }
  });

  test('an effect recorded by one process is found by the other', () => {
    const path = freshPath();
    const a = open(path);
    const b = open(path);
    try {
      const id = post(a, 1);
      assert.deepEqual(a.effect(id, 'llm:1'), { found: false });
      b.append(id, { type: 'effect', key: 'llm:1', value: { text: 'hello' } });
      assert.deepEqual(a.effect(id, 'llm:1'), { found: true, value: { text: 'hello' } });
      assert.throws(
        () => a.append(id, { type: 'effect', key: 'llm:1', value: 'again' }),
        /effect 'llm:1' is already recorded/,
      );
      assert.deepEqual(a.effect(hex(42), 'llm:1'), { found: false });
      assert.deepEqual(a.effect(id, 'constructor'), { found: false });
      b.append(id, { type: 'effect', key: 'nothing', value: null });
      assert.deepEqual(a.effect(id, 'nothing'), { found: true, value: null });
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('JobLog: queries', () => {
  test('outbox, published and pendingOutbox across jobs (terminal ones included), in log order, across reopen', () => {
    const path = freshPath();
    const log = open(path);
    const one = post(log, 1);
    const two = post(log, 2);
    log.append(one, { type: 'outbox', key: 'processing', event: event(7000, 10) });
    log.append(two, { type: 'outbox', key: 'processing', event: event(7000, 20) });
    log.append(one, { type: 'failed', reason: 'no model' });
    log.append(one, { type: 'outbox', key: 'error', event: event(7000, 11) });
    const pending = (l: JobLog) =>
      l.pendingOutbox().map((p) => `${p.jobId === one ? 'one' : 'two'}:${p.key}:${p.event.id.slice(-2)}`);
    assert.deepEqual(pending(log), ['one:processing:0a', 'two:processing:14', 'one:error:0b']);
    log.append(one, { type: 'published', key: 'processing' });
    assert.deepEqual(pending(log), ['two:processing:14', 'one:error:0b']);
    assert.throws(() => log.append(one, { type: 'published', key: 'processing' }), /already published/);
    assert.throws(() => log.append(two, { type: 'published', key: 'error' }), /no outbox entry 'error'/);
    log.close();
    const again = open(path);
    try {
      assert.deepEqual(pending(again), ['two:processing:14', 'one:error:0b']);
      again.append(one, { type: 'published', key: 'error' });
      again.append(two, { type: 'published', key: 'processing' });
      assert.deepEqual(again.pendingOutbox(), []);
      assert.deepEqual(
        again.get(one)?.outbox.map((o) => [o.key, o.published]),
        [
          ['processing', true],
          ['error', true],
        ],
      );
    } finally {
      again.close();
    }
  });

  test('list: newest first, by state, limit and updated_at cursor', () => {
    const clock = new ManualClock(0);
    const log = open(freshPath(), clock);
    try {
      const ids: string[] = [];
      for (let n = 1; n <= 5; n++) {
        clock.advance(100);
        ids.push(post(log, n));
      }
      clock.advance(100);
      log.append(ids[1]!, { type: 'assigned', agent: AGENT, attempt: 1 });
      clock.advance(100);
      log.append(ids[3]!, { type: 'failed', reason: 'nobody' });
      const short = (xs: { id: string }[]) => xs.map((x) => ids.indexOf(x.id) + 1);
      assert.deepEqual(short(log.list()), [4, 2, 5, 3, 1]);
      assert.deepEqual(short(log.list({ limit: 2 })), [4, 2]);
      assert.deepEqual(short(log.list({ before: 600 })), [5, 3, 1]);
      assert.deepEqual(short(log.list({ states: ['posted'] })), [5, 3, 1]);
      assert.deepEqual(short(log.list({ states: ['assigned', 'failed'] })), [4, 2]);
      assert.deepEqual(log.list({ states: [] }), []);
      assert.deepEqual(log.list({ states: ['failed'] })[0], {
        id: ids[3],
        kind: 5001,
        customer: hex(0xc0ffee),
        state: 'failed',
        agent: undefined,
        attempt: 0,
        createdAt: 400,
        updatedAt: 700,
        reason: 'nobody',
        lastSeq: 7,
      });
      assert.equal(log.list({ states: ['assigned'] })[0]?.agent, AGENT);
      assert.throws(() => log.list({ states: ['done' as 'completed'] }), /unknown job state "done"/);
      assert.throws(() => log.list({ limit: 0 }), /limit/);
    } finally {
      log.close();
    }
  });

  test('active: every non-terminal job, oldest first, the same after a reopen (what a restart resumes)', () => {
    const path = freshPath();
    const clock = new ManualClock(0);
    const log = open(path, clock);
    const ids: string[] = [];
    for (let n = 1; n <= 4; n++) {
      clock.advance(100);
      ids.push(post(log, n));
    }
    log.append(ids[0]!, { type: 'assigned', agent: AGENT, attempt: 1 });
    log.append(ids[0]!, { type: 'started', agent: AGENT });
    log.append(ids[0]!, { type: 'effect', key: 'llm:1', value: 'half done' });
    log.append(ids[1]!, { type: 'cancelled', reason: 'x' });
    log.append(ids[3]!, { type: 'approval-required', reason: 'pricey' });
    const views = log.active();
    assert.deepEqual(
      views.map((v) => [ids.indexOf(v.id) + 1, v.state]),
      [
        [1, 'executing'],
        [3, 'posted'],
        [4, 'awaiting-approval'],
      ],
    );
    log.close();
    const resumed = open(path);
    try {
      assert.deepStrictEqual(resumed.active(), views);
      assert.deepEqual(resumed.effect(ids[0]!, 'llm:1'), { found: true, value: 'half done' });
      // The resumed job carries on where it was.
      assert.equal(
        resumed.append(ids[0]!, { type: 'agent-lost', agent: AGENT, reason: 'restart' }).view.state,
        'posted',
      );
      assert.equal(resumed.append(ids[0]!, { type: 'assigned', agent: OTHER, attempt: 2 }).view.attempt, 2);
    } finally {
      resumed.close();
    }
  });

  test('random interleaved jobs: every view equals the fold of its rows, in this and in a fresh instance', () => {
    const path = freshPath();
    const log = open(path);
    const jobs = Array.from({ length: 30 }, (_, n) => post(log, n + 1));
    let r = 12345;
    const rand = (k: number): number => {
      r = (r * 1103515245 + 12345) % 2147483648;
      return r % k;
    };
    for (let i = 0; i < 600; i++) {
      const id = jobs[rand(jobs.length)]!;
      const view = log.get(id)!;
      const options: JobEntry[] = [{ type: 'note', text: `n${i}` }];
      if (view.state === 'posted') {
        options.push({ type: 'assigned', agent: AGENT, attempt: view.attempt + 1 });
      }
      if (view.state === 'assigned') {
        options.push({ type: 'started', agent: AGENT }, { type: 'agent-lost', agent: AGENT, reason: 'x' });
      }
      if (view.state === 'executing') {
        options.push(
          { type: 'effect', key: `e${i}`, value: i },
          { type: 'completed', agent: AGENT, result: event(6001, i) },
        );
      }
      if (rand(20) === 0) options.push({ type: 'failed', reason: 'unlucky' });
      log.append(id, options[rand(options.length)]!);
    }
    const fresh = JobLog.open({ path, readonly: true });
    try {
      for (const id of jobs) {
        const view = log.get(id)!;
        assert.deepStrictEqual(view, foldJob(log.entries(id)));
        assert.deepStrictEqual(fresh.get(id), view);
      }
      const summaries = fresh.list({ limit: 1000 });
      assert.equal(summaries.length, jobs.length);
      for (const s of summaries) {
        const v = log.get(s.id)!;
        assert.deepEqual(
          [s.state, s.agent, s.attempt, s.lastSeq, s.updatedAt],
          [v.state, v.agent, v.attempt, v.lastSeq, v.updatedAt],
        );
      }
    } finally {
      fresh.close();
      log.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// kill -9

const WRITER = `
import { randomBytes } from 'node:crypto';
import { JobLog } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'job-log.ts')).href)};

const log = JobLog.open({ path: process.argv[2] });
// Group commit: an append is reported once its turn committed.
const hex = (bytes) => randomBytes(bytes).toString('hex');
const ev = (kind, content) => ({ id: hex(32), pubkey: hex(32), created_at: 1700000000, kind, tags: [], content, sig: hex(64) });
const agent = hex(32);
for (let n = 0; ; n++) {
  const request = ev(5001, 'job ' + n);
  const result = ev(6001, 'x'.repeat(1024));
  const steps = [
    { type: 'posted', request },
    { type: 'assigned', agent, attempt: 1 },
    { type: 'started', agent },
    { type: 'effect', key: 'llm:1', value: { text: result.content } },
    { type: 'outbox', key: 'result', event: result },
    { type: 'published', key: 'result' },
    { type: 'completed', result, agent },
  ];
  for (const entry of steps) {
    const { seq } = log.append(request.id, entry);
    await log.committed();
    // Writes to a pipe are synchronous on Linux: the line is out before the next append starts.
    process.stdout.write(request.id + ' ' + seq + ' ' + entry.type + '\\n');
  }
}
`;

test('every append the writer reported before a SIGKILL is found after reopening, and the log is consistent', async () => {
  const script = join(dir, 'writer.mts');
  writeFileSync(script, WRITER);
  const path = freshPath();
  const child = spawn(process.execPath, ['--import', 'tsx', script, path], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const reported: { jobId: string; seq: number; type: string }[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    const [jobId, seq, type] = line.split(' ');
    reported.push({ jobId: jobId!, seq: Number(seq), type: type! });
    if (reported.length === 400) child.kill('SIGKILL');
  }
  assert.equal(await exited, 'SIGKILL', `the writer was killed (stderr: ${stderr})`);
  assert.ok(reported.length >= 400, `${reported.length} appends reported`);

  const log = open(path);
  try {
    const lost = reported.filter(
      ({ jobId, seq, type }) => !log.entries(jobId).some((e) => e.seq === seq && e.entry.type === type),
    );
    assert.deepEqual(lost, [], `${lost.length} of ${reported.length} reported appends were lost`);
    // Nothing half-written: every job folds, its projection row and the pending outbox agree with the fold.
    const summaries = log.list({ limit: 1000 });
    assert.ok(summaries.length >= Math.ceil(reported.length / 7));
    const pending = new Set(log.pendingOutbox().map((p) => p.jobId));
    for (const s of summaries) {
      const view = log.get(s.id)!;
      assert.deepStrictEqual(view, foldJob(log.entries(s.id)));
      assert.equal(s.state, view.state);
      assert.equal(s.lastSeq, view.lastSeq);
      assert.equal(
        pending.has(s.id),
        view.outbox.some((o) => !o.published),
      );
    }
    assert.ok(log.lastSeq() >= reported.at(-1)!.seq);
    // The job in flight resumes from where the log says it was (at most one is not completed).
    const active = log.active();
    assert.ok(active.length <= 1, `${active.length} jobs in flight`);
    for (const view of active) {
      if (view.state === 'posted') continue;
      assert.equal(
        log.append(view.id, { type: 'failed', reason: 'resumed after a crash' }).view.state,
        'failed',
      );
    }
  } finally {
    log.close();
  }
});

describe('JobLog: onAppend', () => {
  test('tells each committed append with the state left; a transaction tells after its commit, a rollback nothing', () => {
    const log = JobLog.open({ path: ':memory:', groupCommit: false });
    const seen: string[] = [];
    const stop = log.onAppend((a) => seen.push(`${a.type}:${a.from ?? '-'}>${a.view.state}`));
    log.onAppend(() => {
      throw new Error('a broken listener is ignored');
    });
    const req = event(5050, 901);
    log.append(req.id, { type: 'posted', request: req });
    log.transaction(() => {
      log.append(req.id, { type: 'assigned', agent: AGENT, attempt: 1 });
      assert.deepEqual(seen, ['posted:->posted'], 'nothing told before the commit');
    });
    assert.throws(() =>
      log.transaction(() => {
        log.append(req.id, { type: 'started', agent: AGENT });
        throw new Error('roll back');
      }),
    );
    log.append(req.id, { type: 'note', text: 'a record' });
    stop();
    log.append(req.id, { type: 'failed', reason: 'unheard' });
    assert.deepEqual(seen, ['posted:->posted', 'assigned:posted>assigned', 'note:assigned>assigned']);
    log.close();
  });
});
