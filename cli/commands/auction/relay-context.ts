import type { Command } from 'commander';
import { loadPersonaFile } from '../../../agents/persona.ts';
import { AuctionLookupError } from '../../../auction/on-relay.ts';
import { errorMessage } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { parsePubkey } from '../../../identity/nip19.ts';
import { RelayClient } from '../../../relay/client.ts';
import { agentNames } from '../../agent-names.ts';
import { makeContext } from '../../context.ts';
import { CliError, type CliIo } from '../../io.ts';
import { relayUrlFor } from '../../running-instance.ts';

export interface RelayOpts {
  relay?: string;
  coordinator?: string;
  json?: boolean;
}

export interface RelayContext {
  coordinator: string;
  /** pubkey → agent name, for this data directory's agents. */
  names: Map<string, string>;
}

/** The options every `timmy auction` command takes. */
export function relayOptions(cmd: Command): Command {
  return cmd
    .option('--relay <url>', "relay to read (default: the running instance's)")
    .option('--coordinator <pubkey>', "the auctioneer's npub or hex (default: this instance's coordinator)");
}

/**
 * Runs `fn` with a connection to the relay (`--relay`, else the running instance's) and the coordinator
 * (`--coordinator`, else this data directory's); a lookup that fails becomes the CLI's error.
 */
export async function withRelay(
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
    await fn(client, { coordinator, names }).catch((err: unknown) => {
      if (err instanceof AuctionLookupError) throw new CliError(err.message, err.code === 'bad-id' ? 2 : 1);
      throw err;
    });
  } finally {
    client.close();
  }
}
