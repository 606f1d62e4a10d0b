import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLogger, silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { type InvoiceOptions, type Invoicer, resultInvoice } from './invoicing.ts';
import type { WorkItem } from './work-log.ts';

const JOB = '1'.repeat(64);
const event = { id: JOB } as NostrEvent;
const item = (priceMsats: number | undefined, attempt = 1): WorkItem => ({
  agent: 'a'.repeat(64),
  jobId: JOB,
  attempt,
  desk: 'd'.repeat(64),
  kind: 5700,
  customer: 'c'.repeat(64),
  assignment: event,
  request: event,
  priceMsats,
  state: 'assigned',
  reason: undefined,
  createdAt: 0,
  updatedAt: 0,
});

/** A work log's recorded effects, in memory. */
function recorder(): { store: Map<string, string>; recorded: InvoiceOptions['recorded'] } {
  const store = new Map<string, string>();
  return {
    store,
    recorded: async (key, make) => {
      const found = store.get(key);
      if (found !== undefined) return found;
      const value = await make();
      store.set(key, value);
      return value;
    },
  };
}

test('the assigned price with an invoice made once per attempt, recorded before it is used', async () => {
  const asked: [number, string][] = [];
  const invoicer: Invoicer = async (msats, memo) => {
    asked.push([msats, memo]);
    return `lnbcrt${asked.length}`;
  };
  const r = recorder();
  const o = { agent: 'seer', invoicer, recorded: r.recorded, logger: silentLogger };
  assert.deepEqual(await resultInvoice({ ...o, item: item(2500) }), { amountMsats: 2500, bolt11: 'lnbcrt1' });
  assert.deepEqual(r.store.get('invoice:1'), 'lnbcrt1');
  // Resumed: the recorded invoice, no second one.
  assert.deepEqual(await resultInvoice({ ...o, item: item(2500) }), { amountMsats: 2500, bolt11: 'lnbcrt1' });
  assert.equal(asked.length, 1);
  assert.match(asked[0]?.[1] ?? '', /^seer: job 1{16} \(kind 5700\)$/);
  // Another attempt is another job for the desk that pays it.
  assert.deepEqual(await resultInvoice({ ...o, item: item(2500, 2) }), {
    amountMsats: 2500,
    bolt11: 'lnbcrt2',
  });
});

test('no invoice without an invoicer, a price, or with a price of 0', async () => {
  const r = recorder();
  let calls = 0;
  const invoicer: Invoicer = async () => {
    calls++;
    return 'lnbcrt';
  };
  const o = { agent: 'seer', recorded: r.recorded, logger: silentLogger };
  assert.deepEqual(await resultInvoice({ ...o, invoicer: undefined, item: item(1000) }), {});
  assert.deepEqual(await resultInvoice({ ...o, invoicer, item: item(undefined) }), {});
  assert.deepEqual(await resultInvoice({ ...o, invoicer, item: item(0) }), {});
  assert.equal(calls, 0);
  assert.equal(r.store.size, 0);
});

test('a wallet that fails or does not answer: no invoice, nothing recorded, a warning', async () => {
  const log = new MemoryLogger();
  const r = recorder();
  const o = { agent: 'seer', recorded: r.recorded, logger: log, item: item(1000) };
  const failing: Invoicer = async () => {
    throw new Error('INTERNAL: wallet down');
  };
  assert.deepEqual(await resultInvoice({ ...o, invoicer: failing }), {});
  const hanging: Invoicer = () => new Promise<string>(() => {});
  assert.deepEqual(await resultInvoice({ ...o, invoicer: hanging, timeoutMs: 50 }), {});
  assert.equal(r.store.size, 0);
  const warnings = log.records.filter((x) => x.level === 'warn').map((x) => String(x.fields.err));
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] ?? '', /wallet down/);
  assert.match(warnings[1] ?? '', /no invoice within 50 ms/);
});

test('stopping while the wallet works: the attempt is interrupted, not sent without its invoice', async () => {
  const r = recorder();
  const stopping = new AbortController();
  const hanging: Invoicer = () => new Promise<string>(() => {});
  const pending = resultInvoice({
    agent: 'seer',
    recorded: r.recorded,
    logger: silentLogger,
    item: item(1000),
    invoicer: hanging,
    signal: stopping.signal,
  });
  stopping.abort(new Error('the agent is stopping'));
  await assert.rejects(pending, /the agent is stopping/);
  assert.equal(r.store.size, 0);
});
