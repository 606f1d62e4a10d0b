import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { generateLocalSigner, LocalSigner } from '../identity/signer.ts';
import { nativeNwcCrypto } from '../payments/nwc-native.ts';
import { NwcWallet } from '../payments/nwc-wallet.ts';
import { EmbeddedWalletService } from '../payments/wallet-service.ts';
import { RelayClient } from '../relay/client.ts';

/**
 * The embedded test-sats wallet service on a relay the test started, and NWC wallets (our `NwcWallet` over
 * @getalby/sdk's client) on its connections: the real thing, end to end.
 */
export interface EmbeddedWallet {
  service: EmbeddedWalletService;
  /** A new connection (an account) funded with `balanceMsats`, and an NWC wallet on it. */
  /** `sdkCrypto`: the SDK's pure-JavaScript signing and verification (the benchmark's before). */
  connect(
    name: string,
    balanceMsats?: number,
    options?: { sdkCrypto?: boolean },
  ): { wallet: NwcWallet; url: string };
  /** Sum of every connection's balance and the held sats: constant unless sats are minted. */
  total(): number;
  /** Stops the service (its SQLite file stays); `restart` opens it again on the same file. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startEmbeddedWallet(o: {
  relayUrl: string;
  path?: string;
  logger?: Logger;
  clock?: Clock;
  holdTimeoutSeconds?: number;
  serviceKey?: LocalSigner;
  nodeSecretKey?: string;
  /** The wallet file's synchronous setting (the service's default, NORMAL, when left out). */
  synchronous?: 'FULL' | 'NORMAL';
}): Promise<EmbeddedWallet> {
  const logger = o.logger ?? silentLogger;
  const signer = o.serviceKey ?? generateLocalSigner();
  const nodeSecretKey = o.nodeSecretKey ?? randomBytes(32).toString('hex');
  const wallets: NwcWallet[] = [];
  let client: RelayClient;
  let service: EmbeddedWalletService;
  const open = async () => {
    client = new RelayClient({ url: o.relayUrl, logger, authSigner: signer });
    service = await EmbeddedWalletService.open({
      relay: client,
      signer,
      relayUrl: o.relayUrl,
      path: o.path ?? ':memory:',
      nodeSecretKey,
      logger,
      clock: o.clock,
      holdTimeoutSeconds: o.holdTimeoutSeconds,
      eoseTimeoutMs: 2000,
      synchronous: o.synchronous,
    });
    await service.start();
  };
  await open();
  const stop = async () => {
    await service.stop();
    client.close();
  };
  return {
    get service() {
      return service;
    },
    connect(name, balanceMsats = 0, options: { sdkCrypto?: boolean } = {}) {
      const secret = randomBytes(32);
      const key = new LocalSigner(secret);
      service.addConnection({ name, clientPubkey: key.pubkey, balanceMsats });
      const url = service.connectionUri(secret.toString('hex'));
      const crypto = options.sdkCrypto ? undefined : nativeNwcCrypto();
      const wallet = new NwcWallet({ url, logger, timeoutMs: 10_000, crypto });
      wallets.push(wallet);
      return { wallet, url };
    },
    total() {
      const b = service.balances();
      return Object.values(b.connections).reduce((a, x) => a + x, 0) + b.holdMsats;
    },
    stop,
    restart: open,
    async close() {
      for (const w of wallets) w.close();
      await stop();
    },
  };
}
