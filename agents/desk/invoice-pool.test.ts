import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { MemoryLogger } from '../../core/logger.ts';
import { MemoryWallet } from '../../payments/memory-wallet.ts';
import type { MakeHoldInvoiceRequest, Transaction } from '../../payments/wallet.ts';
import { WalletError } from '../../payments/wallet.ts';
import { InvoicePool, type InvoicePoolOptions, poolDescription } from './invoice-pool.ts';

/** A memory wallet whose `make_hold_invoice` waits for `gate` (a wallet slow to answer, or silent). */
class GatedWallet extends MemoryWallet {
  gate: Promise<void> | undefined;
  override async makeHoldInvoice(request: MakeHoldInvoiceRequest): Promise<Transaction> {
    await this.gate;
    return super.makeHoldInvoice(request);
  }
}

const EXPIRY = 600;

function setup(options: Partial<InvoicePoolOptions> = {}) {
  const clock = new ManualClock();
  const wallet = new GatedWallet({ clock });
  const logger = new MemoryLogger();
  const pool = new InvoicePool({ wallet, size: 3, expirySeconds: EXPIRY, clock, logger, ...options });
  const made = () => wallet.calls.filter((c) => c.method === 'make_hold_invoice').length;
  const state = (hash: string) => wallet.network.invoices.get(hash)?.state;
  const warnings = () => logger.records.filter((r) => r.level === 'warn');
  return { clock, wallet, logger, pool, made, state, warnings };
}

/** Asks for `amountMsats` until the pool keeps `size` of it ready (each demand keeps one more). */
async function warm(pool: InvoicePool, amountMsats: number, size: number): Promise<void> {
  for (let i = 0; i <= size && pool.ready(amountMsats) < size; i++) {
    pool.take(amountMsats);
    await pool.settled();
  }
  assert.equal(pool.ready(amountMsats), size);
}

const sha256 = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

describe('InvoicePool', () => {
  test('the first demand finds nothing and starts the pool in the background; each demand keeps one more, up to size; a take is replaced', async () => {
    const { pool, made, wallet, clock } = setup();
    assert.equal(pool.take(2200), undefined, 'nothing is ready for the first job: it makes its own');
    await pool.settled();
    assert.equal(pool.ready(2200), 1, 'an amount asked for once: one made ahead');
    assert.equal(made(), 1);
    assert.ok(pool.take(2200));
    await pool.settled();
    assert.equal(pool.ready(2200), 2, 'asked for again: two kept');
    assert.equal(pool.take(9999), undefined, 'another amount');
    assert.ok(pool.take(2200));
    await pool.settled();
    assert.equal(pool.ready(2200), 3);
    assert.equal(made(), 2 + 3 + 1);
    const request = wallet.calls.find((c) => c.method === 'make_hold_invoice')
      ?.params as MakeHoldInvoiceRequest;
    assert.equal(request.expirySeconds, 2 * EXPIRY, 'made to live twice the time to pay');
    assert.equal(request.description, poolDescription(2200));
    assert.equal(request.description, 'Timmy Time job escrow, 2200 msats', 'no job id: made before the job');
    const p = pool.take(2200);
    assert.ok(p);
    assert.equal(p.amountMsats, 2200);
    assert.equal(sha256(p.preimage), p.paymentHash, 'the preimage is the desk’s');
    assert.equal(p.expiresAt, Math.floor(clock.now() / 1000) + 2 * EXPIRY);
    assert.equal(pool.ready(2200), 2, 'handed out');
    await pool.settled();
    assert.equal(pool.ready(2200), 3, 'replaced, never more than size');
    assert.equal(made(), 7);
    assert.equal(poolDescription(21_000), 'Timmy Time job escrow, 21 sats');
  });

  test('an invoice with less than the time to pay left is not handed out; prune cancels it, nothing replaces it', async () => {
    const { pool, made, state, clock, wallet } = setup();
    await warm(pool, 5000, 3);
    const before = made();
    const cancelledBefore = wallet.calls.filter((c) => c.method === 'cancel_hold_invoice').length;
    clock.advance(EXPIRY * 1000); // exactly the time to pay left: still good
    const p = pool.take(5000);
    assert.ok(p, 'handed out with exactly invoiceExpirySeconds left');
    await pool.settled();
    assert.equal(made(), before + 1);
    clock.advance(1000); // the two older ones now have less than EXPIRY left; the newest is fresh
    pool.prune();
    await pool.settled();
    assert.equal(pool.ready(5000), 1, 'only the fresh one stays');
    assert.equal(made(), before + 1, 'stale invoices are not replaced without demand');
    const cancelled = wallet.calls
      .filter((c) => c.method === 'cancel_hold_invoice')
      .map((c) => (c.params as { paymentHash: string }).paymentHash)
      .slice(cancelledBefore);
    assert.equal(cancelled.length, 2);
    for (const h of cancelled) assert.equal(state(h), 'cancelled', 'cancelled at the wallet');
    clock.advance(EXPIRY * 1000);
    const q = pool.take(5000);
    assert.equal(q, undefined, 'all stale: the job makes its own');
    await pool.settled();
    assert.equal(pool.ready(5000), 3, 'the demand refilled it');
  });

  test('at most maxAmounts amounts are kept: the least recently used is evicted and its invoices cancelled', async () => {
    const { pool, state } = setup({ maxAmounts: 2, size: 1 });
    pool.take(1000);
    await pool.settled();
    pool.take(2000);
    await pool.settled();
    const at1000 = pool.readyHashes(1000);
    assert.equal(at1000.length, 1);
    pool.take(1000); // 1000 is now the most recently used
    await pool.settled();
    const kept = pool.readyHashes(1000);
    const at2000 = pool.readyHashes(2000);
    pool.take(3000); // evicts 2000
    await pool.settled();
    assert.deepEqual(pool.amounts(), [1000, 3000]);
    for (const h of at2000) assert.equal(state(h), 'cancelled');
    for (const h of kept) assert.equal(state(h), 'pending', 'the kept amount’s invoices stay open');
  });

  test('a failed refill is logged once and tried again on the next demand; it never throws at the taker', async () => {
    const { pool, wallet, warnings, made } = setup();
    wallet.unreachable = true;
    assert.equal(pool.take(2200), undefined);
    await pool.settled();
    assert.equal(pool.take(2200), undefined);
    await pool.settled();
    assert.equal(made(), 2, 'one try per demand, no retry loop');
    assert.equal(warnings().length, 1, 'logged once');
    assert.match(warnings()[0]?.msg ?? '', /pooled invoice failed/);
    wallet.unreachable = false;
    assert.equal(pool.take(2200), undefined);
    await pool.settled();
    assert.equal(pool.ready(2200), 3, 'the next demand refilled it');
    wallet.failNext('make_hold_invoice', new WalletError('INTERNAL', 'boom'));
    assert.ok(pool.take(2200));
    await pool.settled();
    assert.equal(warnings().length, 2, 'a new failure after a success is logged again');
    assert.equal(pool.ready(2200), 2, 'not retried until the next demand');
  });

  test('stop cancels the invoices nobody took, and one still being made when it lands', async () => {
    const { pool, wallet, state } = setup({ size: 2 });
    await warm(pool, 4000, 2);
    const [oldest, untaken] = pool.readyHashes(4000);
    let open: () => void = () => {};
    wallet.gate = new Promise((r) => {
      open = r;
    });
    pool.take(4000); // one handed out; its replacement waits at the wallet
    const stopping = pool.stop();
    open();
    await stopping;
    const lastMade = wallet.calls.filter((c) => c.method === 'make_hold_invoice').at(-1);
    const landedLate = (lastMade?.params as MakeHoldInvoiceRequest | undefined)?.paymentHash ?? '';
    assert.ok(landedLate !== oldest && landedLate !== untaken);
    assert.equal(state(oldest ?? ''), 'pending', 'the taken invoice (the oldest) is the job’s: left open');
    assert.equal(state(untaken ?? ''), 'cancelled');
    assert.equal(state(landedLate), 'cancelled', 'made during the stop, cancelled when it landed');
    assert.equal(pool.take(4000), undefined, 'nothing after stop');
  });

  test('stop waits for a silent wallet at most stopWaitMs', async () => {
    const { pool, wallet, warnings } = setup({ stopWaitMs: 50 });
    wallet.gate = new Promise(() => {}); // never answers
    pool.take(1000);
    const t0 = Date.now();
    await pool.stop();
    assert.ok(Date.now() - t0 < 10_000);
    assert.match(warnings().at(-1)?.msg ?? '', /did not answer in time/);
  });

  test('size 0: no pool, no wallet calls', async () => {
    const { pool, wallet } = setup({ size: 0 });
    assert.equal(pool.enabled, false);
    assert.equal(pool.take(2200), undefined);
    await pool.settled();
    assert.equal(wallet.calls.length, 0);
  });
});
