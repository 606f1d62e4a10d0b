import type { Command } from 'commander';
import { formatMsats } from '../../../payments/wallet.ts';
import { type CliIo, printJson, println } from '../../io.ts';
import { openTreasury } from './open.ts';

/** `timmy wallet balance`: every account of the treasury and the wallet it sits in (Treasury.summary). */
export function registerWalletBalance(wallet: Command, program: Command, io: CliIo): void {
  wallet
    .command('balance')
    .description('every account of the treasury (instance, agents, escrow, withdrawals) and the wallet')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const db = await openTreasury(program, io, false);
      if (!db) {
        if (opts.json) printJson(io.stdout, { accounts: [], wallet: null });
        else println(io.stdout, 'no treasury yet: start the instance once (timmy start)');
        return;
      }
      try {
        const summary = db.treasury.summary();
        const check = db.treasury.check();
        if (opts.json) {
          printJson(io.stdout, { ...summary, ledgerBalanced: check.ok });
          return;
        }
        if (summary.testSats)
          println(io.stdout, 'TEST SATS: not real bitcoin (the embedded wallet on regtest)');
        if (summary.wallet?.alias)
          println(
            io.stdout,
            `wallet: ${summary.wallet.alias} (${summary.wallet.network ?? 'unknown network'})`,
          );
        for (const a of summary.accounts)
          println(io.stdout, `${a.account.padEnd(28)} ${formatMsats(a.balanceMsats)}`);
        println(io.stdout, `${'total held'.padEnd(28)} ${formatMsats(summary.holdingsMsats)}`);
        if (!check.ok) println(io.stdout, `LEDGER CHECK FAILED: ${JSON.stringify(check)}`);
      } finally {
        db.close();
      }
    });
}
