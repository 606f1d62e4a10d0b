import type { Command } from 'commander';
import { findAuction } from '../../../auction/on-relay.ts';
import { parseAuctionRecord } from '../../../auction/record.ts';
import { nameOf } from '../../agent-names.ts';
import { type CliIo, printJson, println } from '../../io.ts';
import { type RelayOpts, relayOptions, withRelay } from './relay-context.ts';

/** `timmy auction show <id>`: one auction's terms, bids, invalid bids, winner and price. */
export function registerAuctionShow(auction: Command, program: Command, io: CliIo): void {
  relayOptions(
    auction
      .command('show')
      .description(
        'one auction: terms, every commitment and opening, invalid bids with reasons, winner and price',
      )
      .argument('<id>', 'the job id, the auction (kind 7610) id or the record (kind 7613) id'),
  )
    .option('--json', 'print JSON')
    .action(async (id: string, opts: RelayOpts) => {
      await withRelay(program, io, opts, async (client, ctx) => {
        const found = await findAuction(client, ctx.coordinator, id);
        const record = parseAuctionRecord(found.record);
        if (opts.json) {
          printJson(io.stdout, { open: found.open, record });
          return;
        }
        const deadline = found.open.tags.find((t) => t[0] === 'deadline')?.[1];
        const reserve = found.open.tags.find((t) => t[0] === 'reserve')?.[1];
        println(io.stdout, `job      ${record.jobId}`);
        println(
          io.stdout,
          `auction  ${record.auctionId}  (deadline ${deadline ? new Date(Number(deadline) * 1000).toISOString() : '?'}${reserve ? `, reserve ${reserve} msats` : ''})`,
        );
        println(io.stdout, `record   ${record.id}  head ${record.head.slice(0, 16)}…`);
        const how =
          record.ranked.length > 1
            ? 'the second-lowest valid bid'
            : 'the only valid bid: its listed price, at most the reserve';
        println(
          io.stdout,
          `winner   ${record.winner ? `${nameOf(ctx.names, record.winner.bidder)} (bid ${record.winner.amountMsats} msats), paid ${record.priceMsats ?? '?'} msats (${how})` : 'none'}`,
        );
        println(io.stdout, '');
        println(io.stdout, 'ranked valid bids:');
        for (const b of record.ranked)
          println(
            io.stdout,
            `  ${nameOf(ctx.names, b.bidder).padEnd(10)} ${String(b.amountMsats).padStart(10)} msats  committed ${new Date(b.createdAt * 1000).toISOString().slice(11, 19)}`,
          );
        if (record.invalid.length > 0) {
          println(io.stdout, 'invalid bids:');
          for (const b of record.invalid)
            println(io.stdout, `  ${nameOf(ctx.names, b.bidder).padEnd(10)} ${b.reason}: ${b.detail}`);
        }
      });
    });
}
