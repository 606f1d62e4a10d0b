import type { Command } from 'commander';
import { tracingFromConfig } from '../../observability/tracing.ts';
import { startRelay } from '../compose.ts';
import { makeContext, parsePort, VERSION } from '../context.ts';
import { removeInstanceRecord, writeInstanceRecord } from '../instance-record.ts';
import { type CliIo, printJson, println } from '../io.ts';
import { refuseIfRunning } from './guard.ts';

export function registerRelay(program: Command, io: CliIo, result: { code: number }): void {
  program
    .command('relay')
    .description('run the embedded relay alone (no agents, no HTTP server)')
    .option('-p, --port <port>', 'relay port (0 picks a free one; TIMMY_RELAY_PORT)')
    .option('--json', 'print one JSON document with the URL once running')
    .action(async (opts: { port?: string; json?: boolean }) => {
      const overrides: Record<string, number | string> = { 'relay.url': '' };
      if (opts.port !== undefined) overrides['relay.port'] = parsePort(opts.port, '--port');
      const ctx = await makeContext(io, program.opts(), overrides);
      await refuseIfRunning(ctx.dataDir);
      const tracing = tracingFromConfig(ctx.config.tracing, ctx.logger);
      const relay = await startRelay(ctx.config, ctx.dataDir, ctx.logger, [], tracing);
      const stopped = io.waitForStop();
      try {
        await writeInstanceRecord(ctx.dataDir, {
          pid: process.pid,
          startedAt: Date.now(),
          version: VERSION,
          mode: 'relay',
          relayUrl: relay.publicUrl,
          localRelayUrl: relay.url,
          embeddedRelay: true,
          httpUrl: '',
          localHttpUrl: '',
          agents: [],
        });
        if (opts.json)
          printJson(io.stdout, {
            relayUrl: relay.publicUrl,
            localRelayUrl: relay.url,
            dataDir: ctx.dataDir,
            pid: process.pid,
          });
        else {
          println(
            io.stdout,
            `Timmy Time relay ${VERSION} listening on ${relay.publicUrl} (data in ${ctx.dataDir})`,
          );
          println(io.stdout, 'Press Ctrl+C to stop.');
        }
        const signal = await stopped;
        ctx.logger.info({ signal }, 'stopping relay');
      } finally {
        await relay.close();
        await tracing.close();
        await removeInstanceRecord(ctx.dataDir);
      }
      result.code = 0;
    });
}
