import type { Command } from 'commander';
import { loadPersonaFile } from '../../agents/persona.ts';
import { ProfilePublisher } from '../../agents/profile-publisher.ts';
import { AgentBusyError } from '../../agents/runtime/work-log.ts';
import { secureDataDir } from '../../core/data-dir.ts';
import { errorMessage } from '../../core/errors.ts';
import { parsePubkey } from '../../identity/nip19.ts';
import { createLlmRouter } from '../../llm/from-config.ts';
import { tracingFromConfig } from '../../observability/tracing.ts';
import { RelayClient } from '../../relay/client.ts';
import { openKeyStore } from '../compose.ts';
import { type NetworkAgent, type RunningAgents, startAgents } from '../compose-agents.ts';
import { makeContext } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';
import { relayUrlFor } from '../running-instance.ts';

interface RunOptions {
  relay?: string;
  desk?: string;
  json?: boolean;
}

/**
 * `timmy agents run <name…>`: runs agents of the persona file in this process, against a relay, for a desk:
 * they bid in its auctions and execute what it assigns, with their own work log. The desk (`timmy start`,
 * with the agents in `agents.elsewhere`) and these agents share nothing but the relay.
 */
export function registerAgentsRun(
  agents: Command,
  program: Command,
  io: CliIo,
  result: { code: number },
): void {
  agents
    .command('run')
    .description(
      'run agents in this process against a relay, for a desk (the rest of the instance runs elsewhere)',
    )
    .argument('<name...>', 'agents of the persona file (timmy agents lists them)')
    .option('--relay <url>', "the relay to work on (default: the running instance's)")
    .option('--desk <pubkey>', "the desk's npub or hex pubkey (default: this data directory's coordinator)")
    .option('--json', 'print one JSON document once the agents run')
    .action(async (names: string[], opts: RunOptions) => {
      // `timmy agents` has a --json of its own, which commander gives the flag to.
      const json = opts.json === true || (agents.opts() as { json?: boolean }).json === true;
      const ctx = await makeContext(io, program.opts());
      const { config, dataDir, logger } = ctx;
      const { personas, file } = await loadPersonaFile(config.agents.personaFile);
      const wanted = [...new Set(names)];
      for (const name of wanted) {
        const p = personas.find((x) => x.name === name);
        if (!p)
          throw new CliError(
            `no agent "${name}" in the persona file (agents: ${personas.map((x) => x.name).join(', ')})`,
            2,
          );
        if (p.serves.length === 0)
          throw new CliError(`agent "${name}" serves no job kind; there is nothing for it to run`, 2);
      }
      const relayUrl = await relayUrlFor(dataDir, opts.relay);
      await secureDataDir(dataDir, logger);
      let runs = 0;
      const keystore = await openKeyStore(config, dataDir, logger, (name) => {
        runs += 1;
        ctx.progress.update(`deriving keys ${runs}/${Math.max(runs, wanted.length)} (${name})…`);
      });
      const desk = await deskPubkey(opts.desk, async () => {
        const boss = personas.find((p) => p.role === 'coordinator');
        if (!boss || !(await keystore.has(boss.name)))
          throw new CliError(
            `no desk key in ${dataDir}: pass --desk <npub>, or start the instance once with this data directory`,
            2,
          );
        return (await keystore.info(boss.name)).pubkey;
      });
      const clients: RelayClient[] = [];
      const selected: NetworkAgent[] = [];
      for (const name of wanted) {
        const persona = personas.find((x) => x.name === name);
        if (!persona) continue;
        const key = (await keystore.has(name)) ? await keystore.get(name) : await keystore.create(name);
        const client = new RelayClient({ url: relayUrl, logger, authSigner: key.signer });
        clients.push(client);
        selected.push({ persona, pubkey: key.pubkey, signer: key.signer, client });
      }
      ctx.progress.done();
      const router = createLlmRouter(config.llm, { logger });
      const publisher = new ProfilePublisher({ logger });
      const tracing = tracingFromConfig(config.tracing, logger);
      let running: RunningAgents | undefined;
      const stopped = io.waitForStop();
      try {
        running = await startAgents({
          config,
          dataDir,
          logger,
          agents: selected,
          desk,
          publisher,
          llm: router,
          personaFile: file,
          deskMemory: personas.find((p) => p.role === 'coordinator')?.name,
          tracing,
        }).catch((err: unknown) => {
          if (err instanceof AgentBusyError) {
            const name = selected.find((a) => a.pubkey === err.agent)?.persona.name ?? err.agent;
            throw new CliError(
              `agent "${name}" already runs in process ${err.pid} with this data directory: stop it there first, or list it in agents.elsewhere (TIMMY_AGENTS_ELSEWHERE) so \`timmy start\` leaves it to \`timmy agents run\``,
              1,
            );
          }
          throw err;
        });
        const info = {
          relayUrl,
          desk,
          pid: process.pid,
          agents: running.runtimes.map((r) => ({ name: r.name, pubkey: r.pubkey, kinds: r.kinds })),
        };
        if (json) printJson(io.stdout, info);
        else {
          println(io.stdout, `agents ${info.agents.map((a) => a.name).join(', ')} at work on ${relayUrl}`);
          println(io.stdout, `  desk   ${desk}`);
          println(io.stdout, 'Press Ctrl+C to stop.');
        }
        logger.info(info, 'agents running');
        const signal = await stopped;
        logger.info({ signal }, 'stopping');
      } finally {
        publisher.stop();
        await running?.close();
        await router.close?.();
        for (const c of clients) c.close();
        await tracing.close();
      }
      result.code = 0;
    });
}

async function deskPubkey(given: string | undefined, fromKeys: () => Promise<string>): Promise<string> {
  if (!given) return fromKeys();
  try {
    return parsePubkey(given);
  } catch (err) {
    throw new CliError(`--desk ${given}: ${errorMessage(err)}`, 2);
  }
}
