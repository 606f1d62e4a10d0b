import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PAYER_FUNDS, walletContract } from '../tests/contracts/wallet.contract.ts';
import { MemoryLightning, MemoryWallet } from './memory-wallet.ts';
import { WalletError } from './wallet.ts';

walletContract('MemoryWallet (the fake)', async () => {
  const network = new MemoryLightning();
  const payer = new MemoryWallet({ network, balanceMsats: PAYER_FUNDS });
  const payee = new MemoryWallet({ network });
  return {
    payer,
    payee,
    total: async () => payer.balanceMsats + payee.balanceMsats,
    close: async () => {
      payer.close();
      payee.close();
    },
  };
});

describe('MemoryWallet scripting', () => {
  it('queues failures per method, records calls, and can be unreachable', async () => {
    const w = new MemoryWallet({ balanceMsats: 10 });
    w.failNext('get_balance', new WalletError('RATE_LIMITED', 'slow down'));
    await assert.rejects(w.getBalance(), /RATE_LIMITED/);
    assert.deepEqual(await w.getBalance(), { balanceMsats: 10 });
    w.unreachable = true;
    await assert.rejects(w.getInfo(), (e: unknown) => e instanceof WalletError && e.transient);
    assert.deepEqual(
      w.calls.map((c) => c.method),
      ['get_balance', 'get_balance', 'get_info'],
    );
  });

  it('reports NOT_IMPLEMENTED for hold invoices when configured without them', async () => {
    const w = new MemoryWallet({ holdInvoices: false });
    await assert.rejects(
      w.makeHoldInvoice({ amountMsats: 1000, paymentHash: 'a'.repeat(64) }),
      /NOT_IMPLEMENTED/,
    );
    assert.ok(!(await w.getInfo()).methods.includes('make_hold_invoice'));
  });
});
