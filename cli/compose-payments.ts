import { type Clock, systemClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { dataFile } from '../core/data-dir.ts';
import type { Logger } from '../core/logger.ts';
import type { KeyStore } from '../identity/keystore.ts';
import { nodePublicKey } from '../payments/bolt11.ts';
import { IncomeWatcher } from '../payments/income.ts';
import { lookupSchedule } from '../payments/lookup-schedule.ts';
import { nativeNwcCrypto } from '../payments/nwc-native.ts';
import { NwcWallet } from '../payments/nwc-wallet.ts';
import { Payouts } from '../payments/payouts.ts';
import type { Treasury } from '../payments/treasury.ts';
import type { Wallet } from '../payments/wallet.ts';
import { EmbeddedWalletService } from '../payments/wallet-service.ts';
import { RelayClient } from '../relay/client.ts';
import { CliError } from './io.ts';
import { readNwcConnection } from './nwc-connection.ts';

/**
 * Wires payments for `timmy start`: the wallet (the embedded test-sats NIP-47 service over the instance's
 * relay, or an external NWC wallet), the treasury, the payouts loop, and (with L402 routes) the income
 * watcher. The instance's own wallet is always reached over NWC, the embedded service included, so both
 * paths run the same code.
 */

export const KEY_WALLET_SERVICE = 'wallet-service';
export const KEY_WALLET_NODE = 'wallet-node';
export const KEY_WALLET_TREASURY = 'wallet-treasury';
export const KEY_WALLET_CUSTOMER = 'wallet-customer';
/** A connection stored with `timmy wallet connect` (its secret in the key store, encrypted at rest). */
export const KEY_WALLET_NWC = 'wallet-nwc';

export interface RunningPayments {
  wallet: Wallet;
  treasury: Treasury;
  /** The embedded wallet service, when payments.wallet is "embedded". */
  service: EmbeddedWalletService | undefined;
  /** The embedded wallet service's pubkey (hex), when there is one. */
  serviceKey: string | undefined;
  /** The demo customer's connection string (embedded wallet only), for `timmy job submit`. */
  customerUrl: string | undefined;
  testSats: boolean;
  /** Books L402 income into the treasury; only when payments.l402.routes prices something. */
  income: IncomeWatcher | undefined;
  close(): Promise<void>;
}

export interface PaymentsOptions {
  config: Config;
  dataDir: string;
  /** The treasury, in the desk's database (cli/compose-desk.ts#openDeskStore). */
  treasury: Treasury;
  keystore: KeyStore;
  /** Where this process reaches the instance's relay. */
  relayUrl: string;
  /** `relayUrl` is the embedded relay this process runs: its events are not verified again (relay/client.ts). */
  ownRelay?: boolean;
  /** The relay URL to put in connection strings for others. */
  publicRelayUrl: string;
  logger: Logger;
  clock?: Clock;
}

export async function startPayments(options: PaymentsOptions): Promise<RunningPayments> {
  const { config, dataDir, keystore, logger } = options;
  const clock = options.clock ?? systemClock;
  const p = config.payments;
  const closers: (() => Promise<void> | void)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c();
  };
  try {
    let service: EmbeddedWalletService | undefined;
    let servicePubkey: string | undefined;
    let walletUrl: string;
    let customerUrl: string | undefined;
    if (p.wallet === 'embedded') {
      const serviceKey = await keystore.getOrCreate(KEY_WALLET_SERVICE);
      servicePubkey = serviceKey.pubkey;
      await keystore.getOrCreate(KEY_WALLET_NODE);
      const client = new RelayClient({
        url: options.relayUrl,
        logger,
        authSigner: serviceKey.signer,
        ownRelay: options.ownRelay === true,
      });
      closers.push(() => client.close());
      service = await EmbeddedWalletService.open({
        relay: client,
        signer: serviceKey.signer,
        relayUrl: options.publicRelayUrl,
        path: dataFile(dataDir, 'wallet'),
        nodeSecretKey: await keystore.secretHex(KEY_WALLET_NODE),
        holdTimeoutSeconds: p.embedded.holdTimeoutSeconds,
        requestWindowSeconds: p.embedded.requestWindowSeconds,
        logger,
        clock,
      });
      const svc = service;
      closers.push(() => svc.stop());
      await service.start();
      const treasuryKey = await keystore.getOrCreate(KEY_WALLET_TREASURY);
      const customerKey = await keystore.getOrCreate(KEY_WALLET_CUSTOMER);
      await service.addConnection({ name: 'treasury', clientPubkey: treasuryKey.pubkey });
      await service.addConnection({
        name: 'customer',
        clientPubkey: customerKey.pubkey,
        balanceMsats: p.embedded.customerBalanceMsats,
      });
      walletUrl = service.connectionUri(await keystore.secretHex(KEY_WALLET_TREASURY));
      customerUrl = service.connectionUri(await keystore.secretHex(KEY_WALLET_CUSTOMER));
      logger.debug(
        {
          walletPubkey: service.pubkey,
          invoiceNode: nodePublicKey(await keystore.secretHex(KEY_WALLET_NODE)),
        },
        'embedded wallet service started: TEST SATS, not real bitcoin',
      );
    } else {
      walletUrl = p.nwcUrl || (await storedNwcUrl(keystore, dataDir));
    }
    const wallet = new NwcWallet({
      url: walletUrl,
      logger,
      timeoutMs: p.walletTimeoutMs,
      crypto: nativeNwcCrypto(),
    });
    closers.push(() => wallet.close());
    const treasury = options.treasury;
    const coldWallet = p.sweep.nwcUrl
      ? new NwcWallet({
          url: p.sweep.nwcUrl,
          logger,
          timeoutMs: p.walletTimeoutMs,
          crypto: nativeNwcCrypto(),
        })
      : undefined;
    if (coldWallet) closers.push(() => coldWallet.close());
    const payouts = new Payouts({ treasury, wallet, payments: p, coldWallet, clock, logger });
    payouts.start();
    closers.push(() => payouts.stop());
    let income: IncomeWatcher | undefined;
    if (p.l402.routes.length > 0) {
      const watcher = new IncomeWatcher({
        treasury,
        wallet,
        clock,
        logger,
        retryMs: p.walletRetryMs,
        schedule: lookupSchedule(p, clock),
      });
      closers.push(() => watcher.stop());
      void watcher.start(); // not on start-up's path: a slow wallet only delays the notifications
      income = watcher;
    }
    return {
      wallet,
      treasury,
      service,
      serviceKey: servicePubkey,
      customerUrl,
      testSats: p.wallet === 'embedded',
      income,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The connection stored by `timmy wallet connect`: relay and wallet pubkey in clear, the secret encrypted. */
async function storedNwcUrl(keystore: KeyStore, dataDir: string): Promise<string> {
  const stored = await readNwcConnection(dataDir);
  if (!stored || !(await keystore.has(KEY_WALLET_NWC)))
    throw new CliError(
      'payments.wallet is "nwc" but no connection is configured: set TIMMY_PAYMENTS_NWC_URL or run `timmy wallet connect <nostr+walletconnect://…>`',
      2,
    );
  const secret = await keystore.secretHex(KEY_WALLET_NWC);
  const relays = stored.relays.map((r) => `relay=${encodeURIComponent(r)}`).join('&');
  return `nostr+walletconnect://${stored.walletPubkey}?${relays}&secret=${secret}`;
}

/** What `/api/status` and `timmy status` show about payments. */
export function paymentsView(p: RunningPayments): unknown {
  const { wallet, holdingsMsats, accounts } = p.treasury.summary();
  return {
    enabled: true,
    testSats: p.testSats,
    unit: p.testSats ? 'test sats (not real bitcoin)' : 'sats',
    wallet: wallet ? { alias: wallet.alias, network: wallet.network } : undefined,
    holdingsMsats,
    accounts,
  };
}
