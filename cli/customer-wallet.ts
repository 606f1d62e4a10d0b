import { errorMessage } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { nativeNwcCrypto } from '../payments/nwc-native.ts';
import { NwcWallet } from '../payments/nwc-wallet.ts';
import type { Wallet } from '../payments/wallet.ts';
import { openKeyStore } from './compose.ts';
import { KEY_WALLET_CUSTOMER, KEY_WALLET_SERVICE } from './compose-payments.ts';
import type { Context } from './context.ts';
import { CliError } from './io.ts';

/**
 * The wallet `timmy job submit` pays with: `--nwc <url>` when given; otherwise, when the instance runs the
 * embedded wallet, its demo customer connection (funded with payments.embedded.customerBalanceMsats of
 * test sats at first start; its secret is in the key store, encrypted at rest). Undefined when neither.
 */
export async function customerWallet(
  ctx: Context,
  nwcUrl: string | undefined,
  relayUrl: string,
): Promise<{ wallet: Wallet; testSats: boolean } | undefined> {
  const timeoutMs = ctx.config.payments.walletTimeoutMs;
  if (nwcUrl) {
    try {
      return {
        wallet: new NwcWallet({ url: nwcUrl, logger: silentLogger, timeoutMs, crypto: nativeNwcCrypto() }),
        testSats: false,
      };
    } catch (err) {
      throw new CliError(`--nwc: ${errorMessage(err)}`, 2);
    }
  }
  if (!ctx.config.payments.enabled || ctx.config.payments.wallet !== 'embedded') return undefined;
  const keystore = await openKeyStore(ctx.config, ctx.dataDir, silentLogger);
  if (!(await keystore.has(KEY_WALLET_CUSTOMER)) || !(await keystore.has(KEY_WALLET_SERVICE)))
    return undefined;
  const service = await keystore.info(KEY_WALLET_SERVICE);
  const secret = await keystore.secretHex(KEY_WALLET_CUSTOMER);
  const url = `nostr+walletconnect://${service.pubkey}?relay=${encodeURIComponent(relayUrl)}&secret=${secret}`;
  return {
    wallet: new NwcWallet({ url, logger: silentLogger, timeoutMs, crypto: nativeNwcCrypto() }),
    testSats: true,
  };
}
