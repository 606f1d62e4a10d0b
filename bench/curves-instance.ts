/**
 * One instance for the curves and the soak, in a process of its own so that the resident memory, the file
 * descriptors and the CPU time read from /proc/<pid> are the instance's alone. Started by bench/curves-process.ts
 * with one JSON argument (`InstanceSpec`); prints one JSON line (`InstanceReady`, after `PREFIX`) once it serves, then answers
 * line commands on stdin: `stats` (event-loop utilisation and delay since the last `stats`, job states, the
 * ledgers' own checks) and `stop`.
 *
 * Modes: `relay`, the embedded relay as `timmy start` runs it (cli/compose.ts `startRelay`, SQLite on disk)
 * with its rate limits raised; `dvm`, that relay plus the desk and an echo agent (auctions off, payments off)
 * and the bare responder of the DVM benchmark (bench/responder.ts); `paid`, the same with payments on, the
 * embedded test-sats wallet service in this process (the instance's wallet and the customers' wallets are
 * NWC connections to it) and the echo agent priced; `soak`, the paid instance with auctions on and the
 * customers of `trusted` not charged (so paid and unpaid jobs go through the same desk); `federated`, the dvm
 * instance on a fixed port with `federation.peers`, ready once its desk sees `rosterSize` live agents.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { startRelay } from '../cli/compose.ts';
import { configSchema } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import { JOB_STATES } from '../dvm/job-state.ts';
import { ECHO_KIND } from '../dvm/kinds.ts';
import { startEmbeddedWallet } from '../testkit/embedded-wallet.ts';
import { personas, startTestNetwork } from '../testkit/network.ts';
import { until } from '../testkit/raw-client.ts';
import { type InstanceReady, type InstanceSpec, type InstanceStats, PREFIX } from './curves-protocol.ts';
import { startResponder } from './responder.ts';

const HIGH_LIMITS = {
  eventsPerSecond: 1_000_000,
  eventsBurst: 1_000_000,
  maxConnections: 4096,
  maxConnectionsPerIp: 0,
  maxSubscriptions: 64,
};
const DVM = { heartbeatIntervalMs: 10_000, agentTimeoutMs: 35_000 };

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as InstanceSpec;
  const config = configSchema.parse({ relay: { port: spec.port ?? 0, limits: HIGH_LIMITS } });
  const relay = await startRelay(config, join(spec.dir, 'relay'), silentLogger);
  const stops: (() => Promise<void> | void)[] = [() => relay.close()];
  const ready: InstanceReady = { relayUrl: relay.url };
  let jobStates: (() => Pick<InstanceStats, 'jobs' | 'activeJobs'>) | undefined;
  let ledgers: (() => Pick<InstanceStats, 'ledgerOk' | 'walletOk' | 'ledgerDetail'>) | undefined;

  if (spec.mode !== 'relay') {
    const paid = spec.mode === 'paid' || spec.mode === 'soak';
    const embedded = paid
      ? await startEmbeddedWallet({ relayUrl: relay.url, path: join(spec.dir, 'wallet.sqlite') })
      : undefined;
    if (embedded) stops.unshift(() => embedded.close());
    await mkdir(join(spec.dir, 'network'), { recursive: true });
    const workers: Parameters<typeof personas>[0] = [
      { name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo', ...(paid ? { priceMsats: 1000 } : {}) }] },
    ];
    const net = await startTestNetwork({
      relayUrl: relay.url,
      agents: personas(workers),
      dataDir: join(spec.dir, 'network'),
      // Federated: heartbeats every 2 s so that peers' agents are seen alive soon after the start.
      dvm: spec.mode === 'federated' ? { ...DVM, heartbeatIntervalMs: 2000 } : DVM,
      auction: { enabled: spec.mode === 'soak' },
      ...(spec.peers ? { federation: { peers: spec.peers } } : {}),
      ...(embedded
        ? {
            payments: {
              wallet: embedded.connect('instance').wallet,
              config: {
                walletRetryMs: 2000,
                trustedCustomers: spec.trusted ?? [],
                maxUnpaidInvoices: 100_000,
              },
            },
          }
        : {}),
    });
    stops.unshift(() => net.stop());
    await until(() => net.network.isAlive(net.pubkeyOf('echo')), 30_000, 'the echo agent is alive');
    const roster = spec.rosterSize ?? 1;
    await until(
      () => net.network.roster().filter((a) => net.network.isAlive(a.pubkey)).length >= roster,
      90_000,
      `${roster} live agents on the roster`,
    );
    const responder = startResponder(relay.url);
    stops.unshift(() => responder.close());
    ready.responder = responder.pubkey;
    if (embedded) ready.customerNwc = embedded.connect('customers', 1e15).url;
    const log = net.network.log;
    jobStates = () => {
      const jobs: Record<string, number> = {};
      for (const state of JOB_STATES) {
        const n = log.list({ states: [state], limit: 1000 }).length;
        if (n > 0) jobs[state] = n;
      }
      return { jobs, activeJobs: log.active().length };
    };
    if (embedded) {
      ledgers = () => {
        const ledger = net.network.treasury.check();
        const wallet = embedded.service.checkInvariants();
        return {
          ledgerOk: ledger.ok,
          walletOk: wallet.ok,
          ledgerDetail: JSON.stringify({ ledger, wallet }),
        };
      };
    }
  }

  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let eluMark = performance.eventLoopUtilization();
  process.stdout.write(`${PREFIX}${JSON.stringify(ready)}\n`);

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line === 'stats') {
      const elu = performance.eventLoopUtilization(eluMark);
      eluMark = performance.eventLoopUtilization();
      const stats: InstanceStats = {
        elu: elu.utilization,
        lagP50Ms: lag.percentile(50) / 1e6,
        lagP99Ms: lag.percentile(99) / 1e6,
        memoryMiB: Object.fromEntries(
          Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 1048576)]),
        ) as InstanceStats['memoryMiB'],
        ...(jobStates ? jobStates() : {}),
        ...(ledgers ? ledgers() : {}),
      };
      lag.reset();
      process.stdout.write(`${PREFIX}${JSON.stringify(stats)}\n`);
    } else if (line === 'stop') {
      void (async () => {
        for (const stop of stops) await stop();
        process.exit(0);
      })();
    }
  });
  lines.on('close', () => process.exit(0));
}

await main();
