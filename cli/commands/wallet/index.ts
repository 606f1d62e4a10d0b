import type { Command } from 'commander';
import type { CliIo } from '../../io.ts';
import { registerWalletBalance } from './balance.ts';
import { registerWalletConnect } from './connect.ts';
import { registerWalletDecide } from './decide.ts';
import { registerWalletHistory } from './history.ts';
import { registerWalletWithdraw } from './withdraw.ts';
import { registerWalletWithdrawals } from './withdrawals.ts';

/**
 * `timmy wallet …`: the instance's treasury, read and written in the desk's database directly, so it works
 * whether or not the instance runs; the running instance pays approved withdrawals within
 * `payments.walletRetryMs`.
 */
export function registerWallet(program: Command, io: CliIo): void {
  const wallet = program
    .command('wallet')
    .description("the instance's treasury: balances per agent, history, withdrawals");
  registerWalletConnect(wallet, program, io);
  registerWalletBalance(wallet, program, io);
  registerWalletHistory(wallet, program, io);
  registerWalletWithdraw(wallet, program, io);
  registerWalletWithdrawals(wallet, program, io);
  registerWalletDecide(wallet, program, io);
}
