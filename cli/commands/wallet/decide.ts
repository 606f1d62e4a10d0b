import type { Command } from 'commander';
import { CliError, type CliIo, printJson, println } from '../../io.ts';
import { openTreasury, treasuryError } from './open.ts';

/** `timmy wallet approve|reject <id>`: the operator's decision on a pending withdrawal (Withdrawals.decide). */
export function registerWalletDecide(wallet: Command, program: Command, io: CliIo): void {
  for (const verb of ['approve', 'reject'] as const) {
    wallet
      .command(verb)
      .description(
        verb === 'approve'
          ? 'approve a pending withdrawal (the running instance pays it)'
          : 'reject a pending withdrawal; its sats go back to the account',
      )
      .argument('<id>', 'withdrawal id (timmy wallet withdrawals)')
      .option('--reason <text>', 'why (recorded)', '')
      .option('--by <name>', 'who decides (recorded)', io.env.USER ?? 'operator')
      .option('--json', 'print the withdrawal as JSON')
      .action(async (id: string, opts: { reason: string; by: string; json?: boolean }) => {
        const n = Number(id);
        if (!Number.isInteger(n) || n < 1) throw new CliError(`not a withdrawal id: "${id}"`, 2);
        const db = await openTreasury(program, io, true);
        if (!db) return;
        try {
          const w = db.treasury.withdrawals.decide(
            n,
            verb === 'approve' ? 'approved' : 'rejected',
            opts.by,
            opts.reason,
          );
          if (opts.json) printJson(io.stdout, w);
          else println(io.stdout, `withdrawal ${w.id} ${w.state}`);
        } catch (err) {
          throw treasuryError(err);
        } finally {
          db.close();
        }
      });
  }
}
