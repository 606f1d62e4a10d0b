import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type Wallet,
  WalletError,
  type WalletErrorCode,
  type WalletNotification,
} from '../../payments/wallet.ts';

/**
 * The `Wallet` contract: one suite, run against every implementation (the in-memory fake and NWC over the
 * embedded wallet service on a real relay). `setup` gives two wallets that can pay each other, the payer
 * funded with at least `PAYER_FUNDS`, and a way to read every balance (for the "no sats lost" check).
 */
export const PAYER_FUNDS = 200_000;

export interface WalletPair {
  payer: Wallet;
  payee: Wallet;
  /** Sum of all balances the implementation keeps, which payments must never change. */
  total(): Promise<number>;
  close(): Promise<void>;
}

const sha256 = (hex: string): string => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

async function rejectsWith(p: Promise<unknown>, code: WalletErrorCode | WalletErrorCode[], what: string) {
  const codes = Array.isArray(code) ? code : [code];
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof WalletError, `${what}: expected a WalletError, got ${String(err)}`);
    assert.ok(
      codes.includes(err.code),
      `${what}: expected ${codes.join('|')}, got ${err.code}: ${err.message}`,
    );
    return true;
  });
}

function waitFor<T>(list: T[], pred: (t: T) => boolean, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      const hit = list.find(pred);
      if (hit) resolve(hit);
      else if (Date.now() - started > ms) reject(new Error('timed out waiting for a notification'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

export function walletContract(name: string, setup: () => Promise<WalletPair>): void {
  describe(`Wallet contract: ${name}`, () => {
    let pair: WalletPair;
    let total0 = 0;
    const received: WalletNotification[] = [];
    let unsubscribe: (() => void) | undefined;

    before(async () => {
      pair = await setup();
      total0 = await pair.total();
      unsubscribe = await pair.payee.subscribe((n) => received.push(n));
    });
    after(async () => {
      unsubscribe?.();
      await pair.close();
    });

    const balances = async () => ({
      payer: (await pair.payer.getBalance()).balanceMsats,
      payee: (await pair.payee.getBalance()).balanceMsats,
    });
    const invariant = async () => assert.equal(await pair.total(), total0, 'the sum of all balances changed');

    it('describes itself', async () => {
      const info = await pair.payer.getInfo();
      for (const m of ['make_invoice', 'pay_invoice', 'lookup_invoice', 'get_balance'])
        assert.ok(info.methods.includes(m), `methods lack ${m}`);
      assert.equal(typeof info.testSats, 'boolean');
    });

    it('pays a plain invoice: preimage matches the hash, balances move, the payee is notified', async () => {
      const b0 = await balances();
      const inv = await pair.payee.makeInvoice({ amountMsats: 21_000, description: 'contract: plain' });
      assert.match(inv.invoice, /^lnbcrt/);
      assert.equal(inv.state, 'pending');
      assert.equal((await pair.payee.lookupInvoice({ paymentHash: inv.paymentHash })).state, 'pending');
      const paid = await pair.payer.payInvoice({ invoice: inv.invoice });
      assert.equal(sha256(paid.preimage), inv.paymentHash);
      const b1 = await balances();
      assert.equal(b1.payer, b0.payer - 21_000 - paid.feesPaidMsats);
      assert.equal(b1.payee, b0.payee + 21_000);
      const t = await pair.payee.lookupInvoice({ paymentHash: inv.paymentHash });
      assert.equal(t.state, 'settled');
      assert.equal(t.amountMsats, 21_000);
      await waitFor(
        received,
        (n) => n.type === 'payment_received' && n.transaction.paymentHash === inv.paymentHash,
      );
      const listed = await pair.payee.listTransactions({ type: 'incoming' });
      assert.ok(listed.some((x) => x.paymentHash === inv.paymentHash && x.state === 'settled'));
      await invariant();
    });

    it('never pays an invoice twice', async () => {
      const inv = await pair.payee.makeInvoice({ amountMsats: 5_000 });
      await pair.payer.payInvoice({ invoice: inv.invoice });
      const b = await balances();
      await rejectsWith(pair.payer.payInvoice({ invoice: inv.invoice }), 'PAYMENT_FAILED', 'second payment');
      assert.deepEqual(await balances(), b);
      await invariant();
    });

    it('refuses a malformed invoice, an amount mismatch and more than the balance', async () => {
      const b = await balances();
      await rejectsWith(
        pair.payer.payInvoice({ invoice: 'lnbcrt1notaninvoice' }),
        ['OTHER', 'INVALID_INPUT'],
        'garbage',
      );
      const inv = await pair.payee.makeInvoice({ amountMsats: 3_000 });
      await rejectsWith(
        pair.payer.payInvoice({ invoice: inv.invoice, amountMsats: 2_000 }),
        ['OTHER', 'INVALID_INPUT'],
        'amount mismatch',
      );
      const big = await pair.payee.makeInvoice({ amountMsats: 1_000_000_000 });
      await rejectsWith(pair.payer.payInvoice({ invoice: big.invoice }), 'INSUFFICIENT_BALANCE', 'too big');
      assert.deepEqual(await balances(), b);
      await invariant();
    });

    it('refuses an expired invoice', async () => {
      const inv = await pair.payee.makeInvoice({ amountMsats: 1_000, expirySeconds: 1 });
      await new Promise((r) => setTimeout(r, 2100));
      const b = await balances();
      await rejectsWith(pair.payer.payInvoice({ invoice: inv.invoice }), 'PAYMENT_FAILED', 'expired');
      assert.equal((await pair.payee.lookupInvoice({ paymentHash: inv.paymentHash })).state, 'failed');
      assert.deepEqual(await balances(), b);
      await invariant();
    });

    it('holds a hold-invoice payment until settled; refuses a preimage that does not match; a replayed preimage moves nothing', async () => {
      const preimage = randomBytes(32).toString('hex');
      const hash = sha256(preimage);
      const b0 = await balances();
      const inv = await pair.payee.makeHoldInvoice({
        amountMsats: 8_000,
        paymentHash: hash,
        description: 'escrow',
      });
      const paying = pair.payer.payInvoice({ invoice: inv.invoice });
      await waitFor(
        received,
        (n) => n.type === 'hold_invoice_accepted' && n.transaction.paymentHash === hash,
      );
      assert.equal((await pair.payee.lookupInvoice({ paymentHash: hash })).state, 'accepted');
      assert.equal((await balances()).payee, b0.payee, 'held sats are not the payee’s yet');
      await rejectsWith(
        pair.payee.settleHoldInvoice(randomBytes(32).toString('hex')),
        ['NOT_FOUND', 'OTHER'],
        'wrong preimage',
      );
      await pair.payee.settleHoldInvoice(preimage);
      const paid = await paying;
      assert.equal(paid.preimage, preimage);
      const b1 = await balances();
      assert.equal(b1.payee, b0.payee + 8_000);
      assert.equal(b1.payer, b0.payer - 8_000);
      // A replayed preimage: settling again either changes nothing or is refused; it never pays twice.
      await pair.payee.settleHoldInvoice(preimage).catch(() => {});
      assert.deepEqual(await balances(), b1);
      await invariant();
    });

    it('refunds a cancelled hold invoice', async () => {
      const hash = sha256(randomBytes(32).toString('hex'));
      const b0 = await balances();
      const inv = await pair.payee.makeHoldInvoice({ amountMsats: 4_000, paymentHash: hash });
      const paying = pair.payer.payInvoice({ invoice: inv.invoice });
      paying.catch(() => {}); // it rejects when cancelled, possibly before cancelHoldInvoice returns
      await waitFor(
        received,
        (n) => n.type === 'hold_invoice_accepted' && n.transaction.paymentHash === hash,
      );
      await pair.payee.cancelHoldInvoice(hash);
      await rejectsWith(paying, 'PAYMENT_FAILED', 'cancelled hold');
      assert.deepEqual(await balances(), b0);
      await invariant();
    });
  });
}
