import type { Command } from 'commander';
import { INSTANCE, withdrawalInvoice } from '../../../payments/treasury.ts';
import { formatMsats } from '../../../payments/wallet.ts';
import { makeContext } from '../../context.ts';
import { type CliIo, printJson, println } from '../../io.ts';
import { openTreasury, treasuryError } from './open.ts';

/** `timmy wallet withdraw <bolt11>`: queues a payment out of an account (Withdrawals.requestInvoice). */
export function registerWalletWithdraw(wallet: Command, program: Command, io: CliIo): void {
  wallet
    .command('withdraw')
    .description('queue a payment of a BOLT11 invoice out of an account (approved by the operator)')
    .argument('<invoice>', 'a BOLT11 invoice with an amount')
    .option('--from <account>', 'the account to pay from (instance, agent:<name>)', INSTANCE)
    .option('--json', 'print the withdrawal as JSON')
    .action(async (invoice: string, opts: { from: string; json?: boolean }) => {
      // The invoice is checked before anything is opened: a bad one says so whatever the data directory holds.
      try {
        withdrawalInvoice(invoice);
      } catch (err) {
        throw treasuryError(err);
      }
      const ctx = await makeContext(io, program.opts());
      const db = await openTreasury(program, io, true);
      if (!db) return;
      try {
        const w = db.treasury.withdrawals.requestInvoice(invoice, {
          account: opts.from,
          requestedBy: io.env.USER ?? 'cli',
          autoApproveMsats: ctx.config.payments.withdrawals.autoApproveMsats,
        });
        if (opts.json) printJson(io.stdout, w);
        else
          println(
            io.stdout,
            `withdrawal ${w.id}: ${formatMsats(w.amountMsats)} from ${w.account}, ${w.state === 'approved' ? 'approved (below payments.withdrawals.autoApproveMsats); the instance pays it' : `waiting for approval: timmy wallet approve ${String(w.id)}`}`,
          );
      } catch (err) {
        throw treasuryError(err);
      } finally {
        db.close();
      }
    });
}
