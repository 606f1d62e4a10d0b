import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDeskDatabase } from '../agents/desk/desk-db.ts';
import { replayJob } from '../agents/runtime/replay.ts';
import { handlerFor } from '../agents/runtime/roster.ts';
import { WorkLog } from '../agents/runtime/work-log.ts';
import { dataFile } from '../core/data-dir.ts';
import { MemoryLogger, silentLogger } from '../core/logger.ts';
import { SqliteEventStore } from '../relay/sqlite-store.ts';
import { startEmbeddedWallet } from '../testkit/embedded-wallet.ts';
import { startTestRelay } from '../testkit/relay.ts';

/**
 * Every SQLite file of the previous release (tests/fixtures/previous-version/, written by that release's code)
 * opened by this code: migrated through core/sqlite-migrate.ts, and nothing lost.
 */

const FIXTURE = new URL('./fixtures/previous-version/', import.meta.url).pathname;

interface Expected {
  relay: { ids: string[] };
  jobs: { completed: string; bidding: string; entries: number; lastSeq: number };
  treasury: {
    balances: Record<string, number>;
    escrows: Record<string, string>;
    settled: string;
    withdrawals: [number, string, number][];
    pendingWithdrawal: number;
    income: string;
    postings: number;
    meta: unknown;
  };
  wallet: {
    invoices: number;
    connections: number;
    balances: { connections: Record<string, number>; holdMsats: number; mintedMsats: number };
    settled: string;
  };
}

let dir: string;
let expected: Expected;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'timmy-upgrade-'));
  for (const f of ['relay.sqlite', 'jobs.sqlite', 'treasury.sqlite', 'wallet.sqlite'])
    await copyFile(join(FIXTURE, f), join(dir, f));
  expected = JSON.parse(await readFile(join(FIXTURE, 'expected.json'), 'utf8')) as Expected;
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('upgrading a data directory of the previous release', () => {
  test('relay.sqlite: every event is still served', async () => {
    const store = new SqliteEventStore({ path: dataFile(dir, 'relay'), logger: silentLogger });
    try {
      const found = await store.query([{ ids: expected.relay.ids }]);
      assert.deepEqual(found.map((e) => e.id).sort(), [...expected.relay.ids].sort());
    } finally {
      await store.close();
    }
  });

  test('jobs.sqlite and treasury.sqlite become one desk database; every job and every sat is there', async () => {
    const logger = new MemoryLogger();
    const open = () =>
      openDeskDatabase({
        path: dataFile(dir, 'jobs'),
        legacyTreasuryPath: dataFile(dir, 'treasury'),
        logger,
      });
    const db = open();
    try {
      const { log, treasury } = db;
      assert.equal(log.get(expected.jobs.completed)?.state, 'completed');
      assert.equal(log.get(expected.jobs.bidding)?.state, 'bidding');
      assert.equal(log.entries(expected.jobs.completed).length, expected.jobs.entries);
      assert.equal(log.lastSeq(), expected.jobs.lastSeq);
      // A job logged before the agents kept their own records replays from the job log's effects.
      const report = await replayJob(log.entries(expected.jobs.completed), {
        handlerFor,
        maxInputBytes: 65_536,
      });
      assert.equal(report.same, true, JSON.stringify(report));

      const t = expected.treasury;
      assert.deepEqual(
        Object.fromEntries(treasury.balances().map((b) => [b.account, b.balanceMsats])),
        t.balances,
      );
      assert.deepEqual(
        Object.fromEntries(treasury.escrows.pending().map((e) => [e.jobId, e.state])),
        t.escrows,
      );
      assert.equal(treasury.escrows.get(expected.jobs.completed)?.state, t.settled);
      assert.deepEqual(
        treasury.withdrawals.list().map((w) => [w.id, w.state, w.amountMsats]),
        t.withdrawals,
      );
      assert.equal(treasury.withdrawals.get(t.pendingWithdrawal)?.state, 'pending');
      assert.equal(treasury.incomes.get('d'.repeat(64))?.state, t.income);
      assert.equal(treasury.history(undefined, 1000).length, t.postings);
      assert.deepEqual(treasury.meta('wallet'), t.meta);
      assert.ok(treasury.check().ok, JSON.stringify(treasury.check()));
      // A booking made before the upgrade is still made once: settling again changes nothing.
      treasury.escrows.markSettled(expected.jobs.completed);
      assert.equal(treasury.balance('agent:quill'), t.balances['agent:quill']);
      assert.ok(logger.records.some((r) => r.msg === 'treasury imported from its earlier file'));
    } finally {
      db.close();
    }
    assert.ok(!existsSync(dataFile(dir, 'treasury')), 'the earlier file is retired…');
    assert.ok(existsSync(`${dataFile(dir, 'treasury')}.imported`), '…and kept, renamed');
    // Opening again imports nothing twice.
    const again = open();
    try {
      assert.deepEqual(
        Object.fromEntries(again.treasury.balances().map((b) => [b.account, b.balanceMsats])),
        expected.treasury.balances,
      );
    } finally {
      again.close();
    }
  });

  test('wallet.sqlite: the embedded wallet service keeps its connections, invoices and balances', async () => {
    const relay = await startTestRelay();
    const embedded = await startEmbeddedWallet({ relayUrl: relay.url, path: dataFile(dir, 'wallet') });
    try {
      assert.deepEqual(embedded.service.balances(), expected.wallet.balances);
    } finally {
      await embedded.close();
      await relay.close();
    }
  });

  test('work.sqlite is new: an agent creates it on its first start', () => {
    assert.ok(!existsSync(dataFile(dir, 'work')));
    const work = WorkLog.open({ path: dataFile(dir, 'work') });
    try {
      assert.deepEqual(work.forAgent('a'.repeat(64)).open(), []);
    } finally {
      work.close();
    }
  });
});
