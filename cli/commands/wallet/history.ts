import type { Command } from 'commander';
import type { Posting } from '../../../payments/ledger.ts';
import { formatMsats } from '../../../payments/wallet.ts';
import { CliError, type CliIo, printJson, println } from '../../io.ts';
import { openTreasury, treasuryError } from './open.ts';

/** `timmy wallet history`: the ledger's postings, newest first (Treasury.history). */
export function registerWalletHistory(wallet: Command, program: Command, io: CliIo): void {
  wallet
    .command('history')
    .description('ledger postings, newest first: payments in, earnings, fees, refunds, withdrawals')
    .option('--account <name>', 'only this account (e.g. instance, agent:echo)')
    .option('--limit <n>', 'how many (default 50, at most 1000)', '50')
    .option('--json', 'print JSON')
    .action(async (opts: { account?: string; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new CliError(`--limit must be an integer from 1 to 1000, got "${opts.limit}"`, 2);
      const db = await openTreasury(program, io, false);
      if (!db) {
        if (opts.json) printJson(io.stdout, []);
        else println(io.stdout, 'no treasury yet');
        return;
      }
      let rows: Posting[];
      try {
        rows = db.treasury.history(opts.account, limit);
      } catch (err) {
        throw treasuryError(err);
      } finally {
        db.close();
      }
      if (opts.json) {
        printJson(io.stdout, rows);
        return;
      }
      if (rows.length === 0) println(io.stdout, 'no postings');
      for (const r of rows) {
        const when = new Date(r.at).toISOString().slice(0, 19).replace('T', ' ');
        println(
          io.stdout,
          `${when}  ${formatMsats(r.amountMsats).padStart(14)}  ${r.from} → ${r.to}  ${r.memo ?? ''}${r.ref ? ` (${r.ref.slice(0, 12)})` : ''}`,
        );
      }
    });
}
