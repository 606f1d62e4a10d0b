import type { Command } from 'commander';
import { loadPersonaFile } from '../../agents/persona.ts';
import { AUCTION_OPEN_KIND, AUCTION_RECORD_KIND, BID_COMMITMENT_KIND } from '../../auction/kinds.ts';
import { parseAuctionRecord } from '../../auction/record.ts';
import { verifyAuction } from '../../auction/verify.ts';
import { errorMessage } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { HANDLER_INFO_KIND } from '../../dvm/kinds.ts';
import { parsePubkey } from '../../identity/nip19.ts';
import { RelayClient } from '../../relay/client.ts';
import { agentNames, nameOf } from '../agent-names.ts';
import { makeContext } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';
import { relayUrlFor } from '../running-instance.ts';

interface RelayOpts {
  relay?: string;
  coordinator?: string;
  json?: boolean;
}

/** `timmy auction list|show|verify`: the auctions on the relay, read like any client would. */
export function registerAuction(program: Command, io: CliIo, result: { code: number }): void {
  const auction = program
    .command('auction')
    .description('sealed-bid auctions: list, inspect, verify from relay events');

  auction
    .command('list')
    .description("the coordinator's auction records on the relay, newest first")
    .option('--limit <n>', 'how many (default 20)', '20')
    .option('--relay <url>', "relay to read (default: the running instance's)")
    .option('--coordinator <pubkey>', "the auctioneer's npub or hex (default: this instance's coordinator)")
    .option('--json', 'print JSON')
    .action(async (opts: RelayOpts & { limit: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500)
        throw new CliError(`--limit must be an integer from 1 to 500, got "${opts.limit}"`, 2);
      await withRelay(program, io, opts, async (client, ctx) => {
        const records = (
          await client.query([{ kinds: [AUCTION_RECORD_KIND], authors: [ctx.coordinator], limit }])
        )
          .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
          .slice(0, limit);
        const rows = records.flatMap((e) => {
          try {
            const r = parseAuctionRecord(e);
            return [
              {
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
              },
            ];
          } catch {
            return [];
          }
        });
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

  auction
    .command('show')
    .description(
      'one auction: terms, every commitment and opening, invalid bids with reasons, winner and price',
    )
    .argument('<id>', 'the job id, the auction (kind 7610) id or the record (kind 7613) id')
    .option('--relay <url>', "relay to read (default: the running instance's)")
    .option('--coordinator <pubkey>', "the auctioneer's npub or hex (default: this instance's coordinator)")
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
        println(
          io.stdout,
          `winner   ${record.winner ? `${nameOf(ctx.names, record.winner.bidder)} (bid ${record.winner.amountMsats} msats), paid ${record.priceMsats ?? '?'} msats (the second-lowest valid bid, or the reserve)` : 'none'}`,
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

  auction
    .command('verify')
    .description('recompute an auction from relay events alone: PASS, or what is wrong')
    .argument('<id>', 'the job id, the auction (kind 7610) id or the record (kind 7613) id')
    .option('--relay <url>', "relay to read (default: the running instance's)")
    .option('--coordinator <pubkey>', "the auctioneer's npub or hex (default: this instance's coordinator)")
    .option('--json', 'print {ok, problems, winner, priceMsats}')
    .action(async (id: string, opts: RelayOpts) => {
      await withRelay(program, io, opts, async (client, ctx) => {
        const found = await findAuction(client, ctx.coordinator, id);
        const relayCommitments = await client.query([
          { kinds: [BID_COMMITMENT_KIND], '#e': [found.open.id] },
        ]);
        const bidders = [...new Set(relayCommitments.map((c) => c.pubkey))];
        const announcements =
          bidders.length > 0 ? await client.query([{ kinds: [HANDLER_INFO_KIND], authors: bidders }]) : [];
        const report = verifyAuction({
          open: found.open,
          record: found.record,
          relayCommitments,
          announcements,
        });
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
            `PASS: ${relayCommitments.length} commitments, winner ${w ? nameOf(ctx.names, w.bidder) : 'none'}${report.settlement?.priceMsats !== undefined ? ` at ${report.settlement.priceMsats} msats` : ''}, recomputed from relay events`,
          );
        } else {
          println(io.stdout, 'FAIL:');
          for (const p of report.problems) println(io.stdout, `  - ${p}`);
        }
        if (!report.ok) result.code = 1;
      });
    });
}

interface RelayContext {
  coordinator: string;
  names: Map<string, string>;
}

async function withRelay(
  program: Command,
  io: CliIo,
  opts: RelayOpts,
  fn: (client: RelayClient, ctx: RelayContext) => Promise<void>,
): Promise<void> {
  const ctx = await makeContext(io, program.opts());
  const url = await relayUrlFor(ctx.dataDir, opts.relay);
  const names = await agentNames(ctx.dataDir);
  let coordinator: string | undefined;
  if (opts.coordinator) {
    try {
      coordinator = parsePubkey(opts.coordinator);
    } catch {
      throw new CliError(`--coordinator ${opts.coordinator} is not an npub or hex pubkey`, 2);
    }
  } else {
    const { personas } = await loadPersonaFile(ctx.config.agents.personaFile);
    const bossName = personas.find((p) => p.role === 'coordinator')?.name;
    coordinator = [...names].find(([, n]) => n === bossName)?.[0];
    if (!coordinator)
      throw new CliError(
        `no key for the coordinator "${bossName}" in ${ctx.dataDir}/keys: pass --coordinator`,
        1,
      );
  }
  const client = new RelayClient({ url, logger: silentLogger });
  try {
    await client.connect().catch((err: unknown) => {
      throw new CliError(`cannot reach the relay ${url}: ${errorMessage(err)}`, 1);
    });
    await fn(client, { coordinator, names });
  } finally {
    client.close();
  }
}

/** The open and the record for a job id, an auction id or a record id (the newest auction of a job). */
async function findAuction(
  client: RelayClient,
  coordinator: string,
  id: string,
): Promise<{ open: NostrEvent; record: NostrEvent }> {
  if (!/^[0-9a-f]{64}$/.test(id)) throw new CliError(`"${id}" is not an event id (64 hex characters)`, 2);
  const direct = await client.query([{ ids: [id] }]);
  let open: NostrEvent | undefined;
  const first = direct[0];
  if (first?.kind === AUCTION_OPEN_KIND) open = first;
  else if (first?.kind === AUCTION_RECORD_KIND) {
    const auctionId = first.tags.find((t) => t[0] === 'e')?.[1];
    open = auctionId ? (await client.query([{ ids: [auctionId] }]))[0] : undefined;
  } else {
    const opens = await client.query([{ kinds: [AUCTION_OPEN_KIND], authors: [coordinator], '#e': [id] }]);
    open = opens.sort((a, b) => b.created_at - a.created_at)[0];
  }
  if (!open) throw new CliError(`no auction found for ${id} on this relay`, 1);
  const records = await client.query([{ kinds: [AUCTION_RECORD_KIND], '#e': [open.id] }]);
  const record = records.find((r) => r.pubkey === open.pubkey) ?? records[0];
  if (!record) throw new CliError(`auction ${open.id.slice(0, 12)} has no record yet (not settled)`, 1);
  return { open, record };
}
