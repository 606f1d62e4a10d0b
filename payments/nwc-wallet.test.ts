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

describe('NwcWallet and a relay that caps the subscriptions of a connection', () => {
  let r: TestRelay;
  before(async () => {
    r = await startTestRelay({ limits: { maxSubscriptions: 4 } });
  });
  after(async () => {
    await r.close();
  });

  it('more requests at once than the cap all get their answers (each waits for a place)', async () => {
    const embedded = await startEmbeddedWallet({ relayUrl: r.url });
    const { url } = embedded.connect('busy', 5000);
    // The SDK subscribes for each request's answer: past 4 at once the relay would refuse the subscription.
    const wallet = new NwcWallet({ url, logger: silentLogger, timeoutMs: 20_000, maxConcurrent: 3 });
    try {
      const answers = await Promise.allSettled(Array.from({ length: 12 }, () => wallet.getBalance()));
      const failed = answers.filter((a) => a.status === 'rejected');
      assert.deepEqual(failed, []);
      for (const a of answers) assert.equal(a.status === 'fulfilled' && a.value.balanceMsats, 5000);
    } finally {
      wallet.close();
      await embedded.close();
    }
  });

  it('refuses a maxConcurrent that is not a positive integer', () => {
    const url = `nostr+walletconnect://${'a'.repeat(64)}?relay=${encodeURIComponent('ws://127.0.0.1:1')}&secret=${'b'.repeat(64)}`;
    for (const maxConcurrent of [0, -1, 1.5]) {
      assert.throws(() => new NwcWallet({ url, logger: silentLogger, maxConcurrent }), /INVALID_INPUT/);
    }
  });
});
