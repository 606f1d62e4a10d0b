import type { Command } from 'commander';
import type { Withdrawal } from '../../../payments/treasury.ts';
import { formatMsats } from '../../../payments/wallet.ts';
import { type CliIo, printJson, println } from '../../io.ts';
import { openTreasury } from './open.ts';

/** `timmy wallet withdrawals`: the withdrawal queue, newest first (Withdrawals.list). */
export function registerWalletWithdrawals(wallet: Command, program: Command, io: CliIo): void {
  wallet
    .command('withdrawals')
    .description('the withdrawal queue, newest first')
    .option(
      '--state <states>',
      'only these states, comma-separated (pending, approved, rejected, paid, failed)',
    )
    .option('--json', 'print JSON')
    .action(async (opts: { state?: string; json?: boolean }) => {
      const db = await openTreasury(program, io, false);
      const states = opts.state?.split(',').map((s) => s.trim()) as Withdrawal['state'][] | undefined;
      const rows = db ? db.treasury.withdrawals.list(states) : [];
      db?.close();
      if (opts.json) {
        printJson(io.stdout, rows);
        return;
      }
      if (rows.length === 0) println(io.stdout, 'no withdrawals');
      for (const w of rows)
        println(
          io.stdout,
          `${String(w.id).padStart(4)}  ${w.state.padEnd(9)} ${formatMsats(w.amountMsats).padStart(14)}  from ${w.account}  by ${w.requestedBy}${w.reason ? `  (${w.reason})` : ''}`,
        );
    });
}
