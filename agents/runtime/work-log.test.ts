import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { AgentBusyError, RecordExistsError, WorkLog } from './work-log.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const JOB = '1'.repeat(64);

const event = (kind: number, id: string): NostrEvent => ({
  id,
  pubkey: 'd'.repeat(64),
  created_at: 1_700_000_000,
  kind,
  tags: [['e', JOB]],
  content: '',
  sig: 'f'.repeat(128),
});

const assignment = (attempt: number) => ({
  jobId: JOB,
  attempt,
  desk: 'd'.repeat(64),
  kind: 5050,
  customer: 'c'.repeat(64),
  assignment: event(7600, String(attempt).repeat(64)),
  request: event(5050, JOB),
  priceMsats: 4000,
});

let dir: string;
let path: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'timmy-work-'));
  path = join(dir, 'work.sqlite');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('WorkLog', () => {
  test('an assignment is accepted once, is open until finished, and is kept per agent', () => {
    const clock = new ManualClock(1000);
    const log = WorkLog.open({ path, clock });
    try {
      const a = log.forAgent(A);
      const first = a.accept(assignment(1));
      assert.equal(first.state, 'assigned');
      assert.equal(first.priceMsats, 4000);
      clock.advance(5);
      assert.equal(a.accept(assignment(1)).createdAt, 1000, 'accepting again changes nothing');
      assert.deepEqual(
        a.open().map((w) => w.attempt),
        [1],
      );
      assert.deepEqual(log.forAgent(B).open(), [], "another agent's part is its own");
      a.finish(JOB, 1, 'dropped', 'the desk assigned attempt 2');
      a.finish(JOB, 1, 'done'); // a finished attempt stays as it ended
      assert.equal(a.item(JOB, 1)?.state, 'dropped');
      assert.equal(a.item(JOB, 1)?.reason, 'the desk assigned attempt 2');
      a.accept(assignment(2));
      assert.deepEqual(
        a.attempts(JOB).map((w) => [w.attempt, w.state]),
        [
          [1, 'dropped'],
          [2, 'assigned'],
        ],
      );
      assert.deepEqual(a.item(JOB, 2)?.request, event(5050, JOB), 'the request reads back as stored');
    } finally {
      log.close();
    }
  });

  test('an effect is recorded once: a second value is refused and the first one counts', () => {
    const log = WorkLog.open({ path });
    try {
      const a = log.forAgent(A);
      assert.deepEqual(a.effect(JOB, 'llm:1:draft'), { found: false });
      a.recordEffect(JOB, 'llm:1:draft', { text: 'first', tokens: 3 });
      assert.throws(() => a.recordEffect(JOB, 'llm:1:draft', { text: 'second' }), RecordExistsError);
      assert.deepEqual(a.effect(JOB, 'llm:1:draft'), { found: true, value: { text: 'first', tokens: 3 } });
      assert.throws(() => a.recordEffect(JOB, 'x', undefined), /not recordable/);
      a.recordEffect(JOB, 'nothing', null);
      assert.deepEqual(a.effects(JOB), { 'llm:1:draft': { text: 'first', tokens: 3 }, nothing: null });
      assert.deepEqual(log.forAgent(B).effects(JOB), {});
    } finally {
      log.close();
    }
  });

  test('the outbox: recorded before publishing, pending until marked, refusals noted', () => {
    const log = WorkLog.open({ path });
    try {
      const a = log.forAgent(A);
      const result = event(6050, '9'.repeat(64));
      a.recordOutbox(JOB, 'result:2', result);
      assert.throws(() => a.recordOutbox(JOB, 'result:2', event(6050, '8'.repeat(64))), RecordExistsError);
      assert.deepEqual(a.outboxItem(JOB, 'result:2'), { event: result, published: false });
      assert.deepEqual(
        a.pendingOutbox().map((p) => p.key),
        ['result:2'],
      );
      assert.deepEqual(log.forAgent(B).pendingOutbox(), []);
      a.markPublished(JOB, 'result:2');
      assert.deepEqual(a.pendingOutbox(), []);
      assert.equal(a.outboxItem(JOB, 'result:2')?.published, true);
      a.note(JOB, 'relay refused x: blocked: no');
      const types = a.records(JOB).map((r) => r.type);
      assert.deepEqual(types.slice(-2), ['outbox', 'note']);
    } finally {
      log.close();
    }
  });

  test('a reader opens the file read-only while a writer works; a missing file is an error for it', async () => {
    const writer = WorkLog.open({ path });
    const reader = WorkLog.open({ path, readonly: true });
    try {
      writer.forAgent(A).recordEffect(JOB, 'seen-by-reader', 1);
      // Group commit: the write is seen by another connection once its turn committed.
      assert.deepEqual(reader.forAgent(A).effect(JOB, 'seen-by-reader'), { found: false });
      await writer.durable();
      assert.deepEqual(reader.forAgent(A).effect(JOB, 'seen-by-reader'), { found: true, value: 1 });
      assert.throws(() => reader.forAgent(A).recordEffect(JOB, 'y', 1), /readonly/i);
      assert.throws(() => WorkLog.open({ path: join(dir, 'none.sqlite'), readonly: true }));
    } finally {
      reader.close();
      writer.close();
    }
    assert.throws(() => writer.forAgent(A), /closed/);
  });

  test('one live process per agent: a second is refused, a dead one is taken over', () => {
    const log = WorkLog.open({ path });
    try {
      const a = log.forAgent(A);
      a.claim(process.pid);
      a.claim(process.pid); // the holder itself may claim again
      // A live other process: this test's parent (it is running).
      assert.throws(
        () => a.claim(process.ppid),
        (err: unknown) => err instanceof AgentBusyError && err.pid === process.pid,
      );
      log.forAgent(B).claim(process.ppid); // another agent is another lease
      a.release(process.pid);
      a.claim(process.ppid);
      // A process that has exited leaves a stale lease: taken over.
      const dead = spawnSync(process.execPath, [
        '-e',
        'process.stdout.write(String(process.pid))',
      ]).stdout.toString();
      log.forAgent(B).release(process.ppid);
      log.forAgent(B).claim(Number(dead));
      log.forAgent(B).claim(process.pid);
    } finally {
      log.close();
    }
  });

  test("an agent's work for a peer's desk is a part of its own: items, outbox and lease apart", () => {
    const log = WorkLog.open({ path });
    try {
      const PEER = 'e'.repeat(64);
      const C = '9'.repeat(64);
      const home = log.forAgent(C);
      const away = log.forAway(C, PEER);
      home.claim(process.pid);
      away.claim(process.pid); // the same process runs both
      assert.throws(() => away.claim(process.ppid), AgentBusyError, 'a second process is still refused');
      // The same job id under both (a forwarded request keeps its id): two separate records.
      away.accept({ ...assignment(1), desk: PEER });
      away.recordOutbox(JOB, 'result:1', event(6050, '7'.repeat(64)));
      home.recordOutbox(JOB, 'result:1', event(6050, '8'.repeat(64)));
      assert.deepEqual(
        away.open().map((w) => w.desk),
        [PEER],
      );
      assert.deepEqual(
        home.open().map((w) => w.jobId),
        [],
        "the home runtime never resumes the peer desk's job",
      );
      assert.deepEqual(
        away.pendingOutbox().map((p) => p.event.id),
        ['7'.repeat(64)],
      );
      assert.deepEqual(
        home.pendingOutbox().map((p) => p.event.id),
        ['8'.repeat(64)],
      );
      away.release(process.pid);
      home.release(process.pid);
    } finally {
      log.close();
    }
  });
});
