import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { DeskDatabase } from '../../agents/desk/desk-db.ts';
import { dataFile } from '../../core/data-dir.ts';
import { errorMessage } from '../../core/errors.ts';
import { decodeInvoice, InvoiceError } from '../../payments/bolt11.ts';
import { describeNwcUrl } from '../../payments/nwc-wallet.ts';
import { INSTANCE, type Treasury, TreasuryError, type Withdrawal } from '../../payments/treasury.ts';
import { formatMsats } from '../../payments/wallet.ts';
import { openKeyStore } from '../compose.ts';
import { openDeskStore } from '../compose-desk.ts';
import { KEY_WALLET_NWC } from '../compose-payments.ts';
import { makeContext } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';
import { readNwcConnection, writeNwcConnection } from '../nwc-connection.ts';

/**
 * `timmy wallet …`: the instance's treasury. Reads and writes `<dataDir>/treasury.sqlite` directly, so it
 * works whether or not the instance runs; the running instance pays approved withdrawals within
 * `payments.walletRetryMs`.
 */
export function registerWallet(program: Command, io: CliIo): void {
  const wallet = program
    .command('wallet')
    .description("the instance's treasury: balances per agent, history, withdrawals");

  registerWalletConnect(wallet, program, io);

  /** The treasury, in the desk's database (`jobs.sqlite`; an earlier `treasury.sqlite` is imported). */
  const open = async (mustExist: boolean): Promise<DeskDatabase | undefined> => {
    const ctx = await makeContext(io, program.opts());
    const present = ['jobs', 'treasury'] as const;
    if (!present.some((f) => existsSync(dataFile(ctx.dataDir, f)))) {
      if (mustExist)
        throw new CliError(`no treasury in ${ctx.dataDir} yet: start the instance once (timmy start)`, 3);
      return undefined;
    }
    return openDeskStore(ctx.dataDir, ctx.logger);
  };

  wallet
    .command('balance')
    .description('every account of the treasury (instance, agents, escrow, withdrawals) and the wallet')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const t = await open(false);
      if (!t) {
        if (opts.json) printJson(io.stdout, { accounts: [], wallet: null });
        else println(io.stdout, 'no treasury yet: start the instance once (timmy start)');
        return;
      }
      try {
        const accounts = t.treasury.balances().filter((b) => b.account !== 'lightning');
        const info = t.treasury.meta('wallet') as
          | { alias?: string; testSats?: boolean; network?: string }
          | undefined;
        const testSats = info?.testSats ?? false;
        const check = t.treasury.check();
        if (opts.json) {
          printJson(io.stdout, {
            testSats,
            wallet: info ?? null,
            holdingsMsats: t.treasury.holdingsMsats(),
            accounts,
            ledgerBalanced: check.ok,
          });
          return;
        }
        if (testSats) println(io.stdout, 'TEST SATS: not real bitcoin (the embedded wallet on regtest)');
        if (info?.alias) println(io.stdout, `wallet: ${info.alias} (${info.network ?? 'unknown network'})`);
        for (const a of accounts)
          println(io.stdout, `${a.account.padEnd(28)} ${formatMsats(a.balanceMsats)}`);
        println(io.stdout, `${'total held'.padEnd(28)} ${formatMsats(t.treasury.holdingsMsats())}`);
        if (!check.ok) println(io.stdout, `LEDGER CHECK FAILED: ${JSON.stringify(check)}`);
      } finally {
        t.close();
      }
    });

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
      const t = await open(false);
      if (!t) {
        if (opts.json) printJson(io.stdout, []);
        else println(io.stdout, 'no treasury yet');
        return;
      }
      try {
        let rows: ReturnType<Treasury['history']>;
        try {
          rows = t.treasury.history(opts.account, limit);
        } catch (err) {
          throw treasuryError(err);
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
      } finally {
        t.close();
      }
    });

  wallet
    .command('withdraw')
    .description('queue a payment of a BOLT11 invoice out of an account (approved by the operator)')
    .argument('<invoice>', 'a BOLT11 invoice with an amount')
    .option('--from <account>', 'the account to pay from (instance, agent:<name>)', INSTANCE)
    .option('--json', 'print the withdrawal as JSON')
    .action(async (invoice: string, opts: { from: string; json?: boolean }) => {
      let decoded: ReturnType<typeof decodeInvoice>;
      try {
        decoded = decodeInvoice(invoice.trim());
      } catch (err) {
        if (err instanceof InvoiceError) throw new CliError(`not a valid BOLT11 invoice: ${err.message}`, 2);
        throw err;
      }
      if (decoded.expired) throw new CliError('the invoice has expired', 2);
      if (decoded.amountMsats === undefined)
        throw new CliError('the invoice has no amount: ask for one with an amount', 2);
      const ctx = await makeContext(io, program.opts());
      const t = await open(true);
      if (!t) return;
      try {
        const w = t.treasury.withdrawals.request({
          account: opts.from,
          invoice: decoded.invoice,
          paymentHash: decoded.paymentHash,
          amountMsats: decoded.amountMsats,
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
        t.close();
      }
    });

  wallet
    .command('withdrawals')
    .description('the withdrawal queue, newest first')
    .option(
      '--state <states>',
      'only these states, comma-separated (pending, approved, rejected, paid, failed)',
    )
    .option('--json', 'print JSON')
    .action(async (opts: { state?: string; json?: boolean }) => {
      const t = await open(false);
      const states = opts.state?.split(',').map((s) => s.trim()) as Withdrawal['state'][] | undefined;
      const rows = t ? t.treasury.withdrawals.list(states) : [];
      t?.close();
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
        const t = await open(true);
        if (!t) return;
        try {
          const w = t.treasury.withdrawals.decide(
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
          t.close();
        }
      });
  }
}

export function registerWalletConnect(wallet: Command, program: Command, io: CliIo): void {
  wallet
    .command('connect')
    .description('use an external NWC wallet (Alby Hub, LNbits…): its secret is stored encrypted at rest')
    .argument('<url>', 'nostr+walletconnect://<wallet pubkey>?relay=…&secret=…')
    .option('--json', 'print the stored connection (without the secret) as JSON')
    .action(async (url: string, opts: { json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      let parsed: { walletPubkey: string; relays: string[] };
      let secret: string | undefined;
      try {
        parsed = describeNwcUrl(url.trim());
        secret =
          new URL(url.trim().replace(/^nostr\+walletconnect:/, 'http:')).searchParams.get('secret') ??
          undefined;
      } catch (err) {
        throw new CliError(errorMessage(err), 2);
      }
      if (!secret || !/^[0-9a-f]{64}$/i.test(secret))
        throw new CliError('the connection string has no 64-hex secret', 2);
      if (parsed.relays.length === 0) throw new CliError('the connection string names no relay', 2);
      const keystore = await openKeyStore(ctx.config, ctx.dataDir, ctx.logger);
      if ((await keystore.has(KEY_WALLET_NWC)) || (await readNwcConnection(ctx.dataDir)))
        throw new CliError(
          `a wallet is already connected: remove ${dataFile(ctx.dataDir, 'nwc')} and keys/${KEY_WALLET_NWC}.json in the data directory first`,
          1,
        );
      await keystore.import(KEY_WALLET_NWC, secret.toLowerCase());
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

function treasuryError(err: unknown): unknown {
  if (err instanceof TreasuryError) return new CliError(err.message, err.code === 'not-found' ? 1 : 2);
  return err;
}
