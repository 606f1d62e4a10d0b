import type { Command } from 'commander';
import type { CliIo } from '../../io.ts';
import { registerAuctionList } from './list.ts';
import { registerAuctionShow } from './show.ts';
import { registerAuctionVerify } from './verify.ts';

/** `timmy auction list|show|verify`: the auctions on the relay, read like any client would. */
export function registerAuction(program: Command, io: CliIo, result: { code: number }): void {
  const auction = program
    .command('auction')
    .description('sealed-bid auctions: list, inspect, verify from relay events');
  registerAuctionList(auction, program, io);
  registerAuctionShow(auction, program, io);
  registerAuctionVerify(auction, program, io, result);
}
