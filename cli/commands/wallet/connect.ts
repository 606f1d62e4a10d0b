import type { Command } from 'commander';
import { dataFile } from '../../../core/data-dir.ts';
import { errorMessage } from '../../../core/errors.ts';
import { parseNwcConnection } from '../../../payments/nwc-wallet.ts';
import { openKeyStore } from '../../compose.ts';
import { KEY_WALLET_NWC } from '../../compose-payments.ts';
import { makeContext } from '../../context.ts';
import { CliError, type CliIo, printJson, println } from '../../io.ts';
import { readNwcConnection, writeNwcConnection } from '../../nwc-connection.ts';

/** `timmy wallet connect <url>`: stores an NWC connection, its secret encrypted in the key store. */
export function registerWalletConnect(wallet: Command, program: Command, io: CliIo): void {
  wallet
    .command('connect')
    .description('use an external NWC wallet (Alby Hub, LNbits…): its secret is stored encrypted at rest')
    .argument('<url>', 'nostr+walletconnect://<wallet pubkey>?relay=…&secret=…')
    .option('--json', 'print the stored connection (without the secret) as JSON')
    .action(async (url: string, opts: { json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      let parsed: ReturnType<typeof parseNwcConnection>;
      try {
        parsed = parseNwcConnection(url);
      } catch (err) {
        throw new CliError(errorMessage(err), 2);
      }
      const keystore = await openKeyStore(ctx.config, ctx.dataDir, ctx.logger);
      if ((await keystore.has(KEY_WALLET_NWC)) || (await readNwcConnection(ctx.dataDir)))
        throw new CliError(
          `a wallet is already connected: remove ${dataFile(ctx.dataDir, 'nwc')} and keys/${KEY_WALLET_NWC}.json in the data directory first`,
          1,
        );
      await keystore.import(KEY_WALLET_NWC, parsed.secret);
      const stored = {
        walletPubkey: parsed.walletPubkey,
        relays: parsed.relays,
        connectedAt: Math.floor(Date.now() / 1000),
      };
      await writeNwcConnection(ctx.dataDir, stored);
      if (opts.json) printJson(io.stdout, stored);
      else
        println(
          io.stdout,
          `connected to wallet ${parsed.walletPubkey.slice(0, 12)}… via ${parsed.relays.join(', ')}; set payments.wallet to "nwc" (TIMMY_PAYMENTS_WALLET=nwc) to use it`,
        );
    });
}
