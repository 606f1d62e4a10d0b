import type { Command } from 'commander';
import { verifyOnRelay } from '../../../auction/on-relay.ts';
import { nameOf } from '../../agent-names.ts';
import { type CliIo, printJson, println } from '../../io.ts';
import { type RelayOpts, relayOptions, withRelay } from './relay-context.ts';

/** `timmy auction verify <id>`: the auction recomputed from relay events alone; exit code 1 on a problem. */
export function registerAuctionVerify(
  auction: Command,
  program: Command,
  io: CliIo,
  result: { code: number },
): void {
  relayOptions(
    auction
      .command('verify')
      .description('recompute an auction from relay events alone: PASS, or what is wrong')
      .argument('<id>', 'the job id, the auction (kind 7610) id or the record (kind 7613) id'),
  )
    .option('--json', 'print {ok, problems, winner, priceMsats}')
    .action(async (id: string, opts: RelayOpts) => {
      await withRelay(program, io, opts, async (client, ctx) => {
        const report = await verifyOnRelay(client, ctx.coordinator, id);
        if (opts.json) {
          printJson(io.stdout, {
            ok: report.ok,
            problems: report.problems,
            winner: report.settlement?.winner?.bidder,
            priceMsats: report.settlement?.priceMsats,
          });
        } else if (report.ok) {
          const w = report.settlement?.winner;
          println(
            io.stdout,
            `PASS: ${report.evidence.relayCommitments.length} commitments, winner ${w ? nameOf(ctx.names, w.bidder) : 'none'}${report.settlement?.priceMsats !== undefined ? ` at ${report.settlement.priceMsats} msats` : ''}, recomputed from relay events`,
          );
        } else {
          println(io.stdout, 'FAIL:');
          for (const p of report.problems) println(io.stdout, `  - ${p}`);
        }
        if (!report.ok) result.code = 1;
      });
    });
}
