import type { Command } from 'commander';
import { errorMessage } from '../../core/errors.ts';
import type { Signer } from '../../core/signer.ts';
import { backupMemories, MemoryBackupError, restoreMemories } from '../../memory/backup.ts';
import { MemoryImportError } from '../../memory/jsonl.ts';
import type { Memories } from '../../memory/memories.ts';
import { RelayClient } from '../../relay/client.ts';
import { openKeyStore } from '../compose.ts';
import type { Context } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';
import { relayUrlFor } from '../running-instance.ts';

type WithMemories = (run: (m: Memories, ctx: Context) => Promise<void>) => Promise<void>;

interface Opts {
  agent: string;
  relay?: string;
  json?: boolean;
}

/**
 * `timmy memory backup|restore`: an agent's memories as NIP-44 encrypted kind 30078 events signed by its
 * own key (memory/backup.ts), on the running instance's relay or `--relay`.
 */
export function registerMemoryBackup(
  memory: Command,
  io: CliIo,
  result: { code: number },
  withMemories: WithMemories,
): void {
  memory
    .command('backup')
    .description("publish an agent's memories to a relay, encrypted to its own key (kind 30078)")
    .requiredOption('--agent <name>', 'whose memories (its key signs and encrypts)')
    .option('--relay <url>', "the relay (default: the running instance's)")
    .option('--json', 'print JSON')
    .action(async (opts: Opts) => {
      await withRelay(withMemories, opts, async (m, signer, client, url) => {
        const report = await backupMemories({
          memories: m,
          agent: opts.agent,
          signer,
          publish: client,
          subscribe: client,
          onProgress: (p) => println(io.stderr, `published chunk ${p.done}/${p.total}`),
        });
        if (opts.json) printJson(io.stdout, { relay: url, ...report });
        else
          println(
            io.stdout,
            `backed up ${report.memories} memories of ${report.agent} (${report.chunks} chunks, ${report.bytes} bytes) to ${url}`,
          );
      });
      result.code = 0;
    });

  memory
    .command('restore')
    .description("import an agent's memory backup from a relay (re-embedded; memories already here skipped)")
    .requiredOption('--agent <name>', 'whose backup (its key decrypts)')
    .option('--relay <url>', "the relay (default: the running instance's)")
    .option('--json', 'print JSON')
    .action(async (opts: Opts) => {
      await withRelay(withMemories, opts, async (m, signer, client, url) => {
        await m.ready;
        const report = await restoreMemories({
          memories: m,
          agent: opts.agent,
          signer,
          subscribe: client,
          onProgress: (p) => println(io.stderr, `fetched chunks ${p.done}/${p.total}`),
        });
        if (opts.json) printJson(io.stdout, { relay: url, ...report });
        else
          println(
            io.stdout,
            `restored ${report.imported} memories of ${report.agent} from ${url}, ${report.skipped} already here`,
          );
      });
      result.code = 0;
    });
}

async function withRelay(
  withMemories: WithMemories,
  opts: Opts,
  run: (m: Memories, signer: Signer, client: RelayClient, url: string) => Promise<void>,
): Promise<void> {
  await withMemories(async (m, ctx) => {
    const url = await relayUrlFor(ctx.dataDir, opts.relay);
    const keys = await openKeyStore(ctx.config, ctx.dataDir, ctx.logger);
    const signer = await keys.get(opts.agent).then(
      (k) => k.signer,
      (err: unknown) => {
        throw new CliError(`the key of ${opts.agent}: ${errorMessage(err)}`, 2);
      },
    );
    const client = new RelayClient({ url, logger: ctx.logger, authSigner: signer });
    try {
      await client.connect().catch((err: unknown) => {
        throw new CliError(`cannot reach the relay ${url}: ${errorMessage(err)}`, 1);
      });
      await run(m, signer, client, url);
    } catch (err) {
      if (err instanceof MemoryBackupError || err instanceof MemoryImportError)
        throw new CliError(`${url}: ${err.message}`, 1);
      throw err;
    } finally {
      client.close();
    }
  });
}
