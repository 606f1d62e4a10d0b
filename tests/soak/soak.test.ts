/**
 * The soak's 30-second version (the 10-minute one is `BENCH_ONLY=soak npm run bench`, bench/soak.bench.ts):
 * paid and trusted customers' auctioned jobs and relay clients publishing and subscribing against one
 * instance in a process of its own; no job lost, ledgers balanced, RSS and descriptors flat. Bounds are
 * generous so that it holds on a machine at load 10; the benchmark states the tighter ones.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSoak } from '../../bench/soak.bench.ts';

describe('soak (30 s)', () => {
  it('loses no job, keeps the ledgers balanced, and holds memory and descriptors flat', async () => {
    const lines: string[] = [];
    const r = await runSoak({
      seconds: 30,
      log: (l) => lines.push(l),
      thinkMs: 250,
      rssBoundMiB: 64,
      fdBound: 12,
      jobTimeoutMs: 40_000,
    });
    const detail = JSON.stringify(r, null, 1);
    assert.deepEqual(r.failures, [], detail);
    assert.equal(r.paid.lost + r.unpaid.lost, 0, detail);
    assert.ok(r.paid.results > 0 && r.unpaid.results > 0, detail);
    assert.equal(r.paid.results + r.paid.errors, r.paid.sent, detail);
    assert.equal(r.unpaid.results + r.unpaid.errors, r.unpaid.sent, detail);
    assert.ok(r.auctionRecords > 0, detail);
    assert.equal(r.instance.activeJobs, 0, detail);
    assert.equal(r.instance.ledgerOk, true, detail);
    assert.equal(r.instance.walletOk, true, detail);
    assert.equal(r.notes.received, r.notes.expected, detail);
  });
});
