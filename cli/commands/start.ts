import type { Command } from 'commander';
import { configFields, withPeers } from '../../core/config.ts';
import { startInstance } from '../compose.ts';
import { makeContext, parsePort, VERSION } from '../context.ts';
import { removeInstanceRecord, writeInstanceRecord } from '../instance-record.ts';
import { type CliIo, printJson, println } from '../io.ts';
import { refuseIfRunning } from './guard.ts';

export function registerStart(program: Command, io: CliIo, result: { code: number }): void {
  program
    .command('start')
    .description('start the relay, the agents and the HTTP server (dashboard, NIP-05); prints their URLs')
    .option('--relay-port <port>', 'relay port (0 picks a free one; TIMMY_RELAY_PORT)')
    .option('--http-port <port>', 'HTTP port (0 picks a free one; TIMMY_HTTP_PORT)')
    .option(
      '--peer <url>',
      "a peer instance's relay, added to federation.peers (repeatable)",
      collectPeer,
      [],
    )
    .option('--json', 'print one JSON document with the URLs once running')
    .action(async (opts: { relayPort?: string; httpPort?: string; peer: string[]; json?: boolean }) => {
      const overrides: Record<string, number> = {};
      if (opts.relayPort !== undefined) overrides['relay.port'] = parsePort(opts.relayPort, '--relay-port');
      if (opts.httpPort !== undefined) overrides['http.port'] = parsePort(opts.httpPort, '--http-port');
      const ctx = await makeContext(io, program.opts(), overrides);
      const { logger, dataDir } = ctx;
      const config = withPeers(ctx.config, opts.peer);
      for (const path of ctx.secretsFromEnv) {
        const env = configFields().find((f) => f.path === path)?.env;
        logger.warn(
          { field: path, env },
          'a secret was given through an environment variable; prefer a config file with mode 0600 or a passphrase file',
        );
      }
      await refuseIfRunning(dataDir);
      const instance = await startInstance(config, dataDir, logger, {
        onProgress: (text) => ctx.progress.update(`${text}…`),
      }).finally(() => ctx.progress.done());
      const stopped = io.waitForStop();
      try {
        await writeInstanceRecord(dataDir, {
          pid: process.pid,
          startedAt: instance.startedAt,
          version: VERSION,
          mode: 'instance',
          relayUrl: instance.relayUrl,
          localRelayUrl: instance.localRelayUrl,
          embeddedRelay: instance.embeddedRelay,
          httpUrl: instance.httpUrl,
          localHttpUrl: instance.localHttpUrl,
          agents: instance.agents.map((a) => ({ name: a.persona.name, pubkey: a.pubkey, npub: a.npub })),
        });
        if (opts.json) {
          printJson(io.stdout, {
            relayUrl: instance.relayUrl,
            httpUrl: instance.httpUrl,
            dashboardUrl: instance.httpUrl,
            dashboardReadOnly: instance.dashboardReadOnly,
            embeddedRelay: instance.embeddedRelay,
            payments: instance.payments
              ? {
                  wallet: config.payments.wallet,
                  testSats: instance.payments.testSats,
                  walletPubkey: instance.payments.service?.pubkey,
                }
              : null,
            dataDir,
            pid: process.pid,
            peers: config.federation.peers,
            agents: instance.agents.map((a) => ({
              name: a.persona.name,
              npub: a.npub,
              nip05: `${a.persona.name}@${config.identity.domain}`,
            })),
          });
        } else {
          println(io.stdout, `Timmy Time ${VERSION} is running (data in ${dataDir})`);
          println(
            io.stdout,
            `  relay      ${instance.relayUrl}${instance.embeddedRelay ? '' : '  (external)'}`,
          );
          println(
            io.stdout,
            `  dashboard  ${instance.httpUrl}${instance.dashboardReadOnly ? '  (read-only: set dashboard.owners to act from it)' : ''}`,
          );
          println(io.stdout, `  agents     ${instance.agents.map((a) => a.persona.name).join(', ')}`);
          if (config.federation.peers.length > 0)
            println(io.stdout, `  peers      ${config.federation.peers.join(', ')}`);
          println(
            io.stdout,
            `  wallet     ${
              !instance.payments
                ? 'off (payments.enabled is false: jobs are free)'
                : instance.payments.testSats
                  ? 'embedded, TEST SATS (not real bitcoin): `timmy job submit` pays from a demo wallet'
                  : 'Nostr Wallet Connect (real sats)'
            }`,
          );
          println(io.stdout, 'Press Ctrl+C to stop.');
        }
        logger.info({ relay: instance.relayUrl, http: instance.httpUrl }, 'instance started');
        // The dashboard's browser code is built now, after the banner, so the first page is fast.
        instance.assets.warm();
        const signal = await stopped;
        logger.info({ signal }, 'stopping');
      } finally {
        await instance.close();
        await removeInstanceRecord(dataDir);
      }
      result.code = 0;
    });
}

function collectPeer(value: string, previous: string[]): string[] {
  return [...previous, value];
}
