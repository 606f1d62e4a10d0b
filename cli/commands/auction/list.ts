import type { Command } from 'commander';
import { listAuctionRecords } from '../../../auction/on-relay.ts';
import { nameOf } from '../../agent-names.ts';
import { CliError, type CliIo, printJson, println } from '../../io.ts';
import { type RelayOpts, relayOptions, withRelay } from './relay-context.ts';

/** `timmy auction list`: the coordinator's auction records on the relay, newest first. */
export function registerAuctionList(auction: Command, program: Command, io: CliIo): void {
  relayOptions(
    auction
      .command('list')
      .description("the coordinator's auction records on the relay, newest first")
      .option('--limit <n>', 'how many (default 20)', '20'),
  )
    .option('--json', 'print JSON')
    .action(async (opts: RelayOpts & { limit: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500)
        throw new CliError(`--limit must be an integer from 1 to 500, got "${opts.limit}"`, 2);
      await withRelay(program, io, opts, async (client, ctx) => {
        const rows = (await listAuctionRecords(client, ctx.coordinator, limit)).map((r) => ({
          record: r.id,
          auction: r.auctionId,
          job: r.jobId,
          at: r.createdAt,
          bids: r.commitments.length,
          valid: r.ranked.length,
          winner: r.winner?.bidder,
          winnerName: r.winner ? ctx.names.get(r.winner.bidder) : undefined,
          winningBidMsats: r.winner?.amountMsats,
          priceMsats: r.priceMsats,
        }));
        if (opts.json) {
          printJson(io.stdout, rows);
          return;
        }
        if (rows.length === 0) {
          println(io.stdout, 'no auctions on this relay yet');
          return;
        }
        println(io.stdout, 'JOB          WHEN                 BIDS  VALID  WINNER    BID msats  PRICE msats');
        for (const r of rows) {
          println(
            io.stdout,
            `${r.job.slice(0, 12)} ${new Date(r.at * 1000).toISOString().slice(0, 19).replace('T', ' ')}  ${String(r.bids).padStart(4)}  ${String(r.valid).padStart(5)}  ${(r.winner ? nameOf(ctx.names, r.winner) : '-').padEnd(8)}  ${String(r.winningBidMsats ?? '-').padStart(9)}  ${String(r.priceMsats ?? '-').padStart(11)}`,
          );
        }
      });
    });
}
