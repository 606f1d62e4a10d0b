import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { AgentStatsBook, type EscrowFacts } from './agent-stats.ts';

const hex = (n: number, width = 64): string => n.toString(16).padStart(width, '0');
const event = (kind: number, n: number, tags: string[][] = []): NostrEvent => ({
  id: hex(n),
  pubkey: hex(0xc0ffee),
  created_at: 1_700_000_000,
  kind,
  tags,
  content: '',
  sig: hex(5, 128),
});
const A = hex(0xa);
const B = hex(0xb);

/** A job on a real log: posted, then `steps` with the clock moved `ms` before each. */
function job(log: JobLog, clock: ManualClock, n: number, steps: [number, (id: string) => void][]): string {
  const request = event(5050, n);
  log.append(request.id, { type: 'posted', request });
  for (const [ms, step] of steps) {
    clock.advance(ms);
    step(request.id);
  }
  return request.id;
}

test('folds latency, done/failed, earnings and the money mismatches from a real job log, incrementally', () => {
  const clock = new ManualClock(1_000_000);
  const log = JobLog.open({ path: ':memory:', clock });
  const book = new AgentStatsBook(log);
  const assign = (agent: string, attempt: number, priceMsats?: number) => (id: string) => {
    log.append(id, { type: 'assigned', agent, attempt });
    if (priceMsats !== undefined)
      log.append(id, {
        type: 'outbox',
        key: `assign:${attempt}`,
        event: event(7600, 900 + attempt, [['price', String(priceMsats)]]),
      });
  };
  const complete = (agent: string, n: number) => (id: string) =>
    log.append(id, { type: 'completed', agent, result: event(6050, n) });
  const invoice = (id: string) =>
    log.append(id, { type: 'payment-required', amountMsats: 12_000, bolt11: 'lnbc1x' });
  const paid = (id: string) => log.append(id, { type: 'paid', preimage: 'ab' });

  // A: paid before, done in 100 ms at 10 sats; done in 300 ms, free; paid but failed.
  job(log, clock, 1, [
    [0, invoice],
    [0, paid],
    [5, assign(A, 1, 10_000)],
    [100, complete(A, 101)],
  ]);
  job(log, clock, 2, [
    [0, assign(A, 1)],
    [300, complete(A, 102)],
  ]);
  job(log, clock, 3, [
    [0, invoice],
    [0, paid],
    [0, assign(A, 1, 5_000)],
    [50, (id) => log.append(id, { type: 'failed', reason: 'boom' })],
  ]);
  // B loses a job to A (B failed once), then A delivers it unpaid (pay-after-result, invoice open).
  const four = job(log, clock, 4, [
    [0, assign(B, 1)],
    [10, (id) => log.append(id, { type: 'agent-lost', agent: B, reason: 'silent' })],
    [0, assign(A, 2, 7_000)],
    [200, complete(A, 104)],
  ]);
  book.refresh();
  let a = book.stats(A);
  assert.equal(a.jobsDone, 3);
  assert.equal(a.jobsFailed, 1);
  assert.equal(a.successRate, 3 / 4);
  assert.equal(a.satsEarned, 10);
  assert.equal(a.paidUndelivered, 1);
  assert.equal(a.deliveredUnpaid, 0);
  assert.equal(a.latencyP50Ms, 200);
  assert.equal(a.latencyP95Ms, 300);
  const b = book.stats(B);
  assert.equal(b.jobsDone, 0);
  assert.equal(b.jobsFailed, 1);
  assert.equal(b.successRate, 0);
  assert.equal(b.latencyP50Ms, undefined);

  // A trusted customer is billed after the result, in the treasury: unpaid until settled, then earned.
  const escrows = new Map<string, EscrowFacts>();
  const withTreasury = new AgentStatsBook(log, (id) => escrows.get(id));
  escrows.set(four, { state: 'invoiced', priceMsats: 9_000 });
  withTreasury.refresh();
  assert.equal(withTreasury.stats(A).deliveredUnpaid, 1);
  assert.equal(withTreasury.stats(A).satsEarned, 10, 'job 1 (no escrow here) from the log; job 4 not yet');
  escrows.set(four, { state: 'settled', priceMsats: 9_000 });
  withTreasury.refresh(); // no new entry: the open invoice is looked at again
  a = withTreasury.stats(A);
  assert.equal(a.deliveredUnpaid, 0);
  assert.equal(a.satsEarned, 19);
  assert.equal(a.jobsDone, 3, 'a job recomputed is not counted twice');
  assert.equal(book.stats(A).jobsDone, 3);

  const none = book.stats(hex(0xdead));
  assert.deepEqual(none, {
    pubkey: hex(0xdead),
    jobsDone: 0,
    jobsFailed: 0,
    satsEarned: 0,
    paidUndelivered: 0,
    deliveredUnpaid: 0,
  });
  log.close();
});
