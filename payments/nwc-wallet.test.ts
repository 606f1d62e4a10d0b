import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import { startEmbeddedWallet } from '../testkit/embedded-wallet.ts';
import { startTestRelay, type TestRelay } from '../testkit/relay.ts';
import { PAYER_FUNDS, walletContract } from '../tests/contracts/wallet.contract.ts';
import { describeNwcUrl, NwcWallet } from './nwc-wallet.ts';
import { WalletError } from './wallet.ts';

let relay: TestRelay | undefined;

walletContract('NwcWallet over the embedded wallet service (real NIP-47 on a real relay)', async () => {
  relay = await startTestRelay();
  const embedded = await startEmbeddedWallet({ relayUrl: relay.url });
  const payer = embedded.connect('payer', PAYER_FUNDS).wallet;
  const payee = embedded.connect('payee').wallet;
  return {
    payer,
    payee,
    total: async () => embedded.total(),
    close: async () => {
      await embedded.close();
      await relay?.close();
    },
  };
});

describe('NwcWallet', () => {
  let r: TestRelay;
  before(async () => {
    r = await startTestRelay();
  });
  after(async () => {
    await r.close();
  });

  it('refuses a connection string that is not one', () => {
    assert.throws(() => new NwcWallet({ url: 'https://example.com', logger: silentLogger }), /INVALID_INPUT/);
    assert.throws(() => describeNwcUrl('nostr+walletconnect://zz'), WalletError);
  });

  it('a wallet service that does not answer is UNREACHABLE within the timeout', async () => {
    const embedded = await startEmbeddedWallet({ relayUrl: r.url });
    const { url } = embedded.connect('lonely', 1000);
    const wallet = new NwcWallet({ url, logger: silentLogger, timeoutMs: 2000 });
    assert.equal((await wallet.getBalance()).balanceMsats, 1000);
    await embedded.stop();
    const started = Date.now();
    await assert.rejects(
      wallet.getBalance(),
      (e: unknown) => e instanceof WalletError && e.code === 'UNREACHABLE',
    );
    assert.ok(Date.now() - started < 5000);
    wallet.close();
    await embedded.restart();
    await embedded.close();
  });

  it('a relay that is gone is UNREACHABLE', async () => {
    const wallet = new NwcWallet({
      url: `nostr+walletconnect://${'a'.repeat(64)}?relay=${encodeURIComponent('ws://127.0.0.1:1')}&secret=${'b'.repeat(64)}`,
      logger: silentLogger,
      timeoutMs: 2000,
    });
    await assert.rejects(
      wallet.getBalance(),
      (e: unknown) => e instanceof WalletError && e.code === 'UNREACHABLE',
    );
    wallet.close();
  });
});
