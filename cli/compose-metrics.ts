import type { Config } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { JobLog } from '../dvm/job-log.ts';
import { TimmyMetrics } from '../observability/metrics.ts';
import type { Wallet } from '../payments/wallet.ts';
import type { RelayStats } from '../relay/server.ts';
import type { ReadyCheck } from '../web/ops-routes.ts';
import type { RunningNetwork } from './compose-network.ts';

/**
 * The instance's metrics and readiness (docs/observability.md), wired from the parts `startInstance` runs:
 * one registry per instance, fed by the job log's appends and the router's calls, read from the relay,
 * the desk's roster, the treasury, the memory and the router when Prometheus scrapes.
 */

/** The instance's metrics, or undefined when metrics.enabled is false. */
export function instanceMetrics(config: Config): TimmyMetrics | undefined {
  return config.metrics.enabled ? new TimmyMetrics() : undefined;
}

/** Feeds the job metrics from the desk's job log; an agent is named by its persona, a peer's as `peer`. */
export function watchJobs(
  metrics: TimmyMetrics,
  log: JobLog,
  personas: ReadonlyMap<string, string>,
): () => void {
  const personaOf = (pubkey: string | undefined): string =>
    pubkey === undefined ? 'none' : (personas.get(pubkey) ?? 'peer');
  return log.onAppend((appended) => metrics.jobs.appended(appended, personaOf));
}

/** What the scrape reads once the network is up. */
export function networkSources(
  metrics: TimmyMetrics,
  relayStats: (() => RelayStats) | undefined,
  network: RunningNetwork,
): void {
  metrics.setSources({
    ...(relayStats ? { relay: relayStats } : {}),
    agents: () =>
      network
        .agents()
        .filter((a) => a.role !== 'coordinator')
        .map((a) => ({ persona: a.name, alive: a.alive })),
    balanceSats: () => Math.floor(network.treasury.holdingsMsats() / 1000),
    memoryCount: () => network.memories?.count(),
    providers: () => network.router.stats().map((s) => ({ provider: s.provider, state: s.breaker.state })),
  });
}

export interface ReadinessParts {
  /** The embedded relay's stats (undefined with an external relay). */
  relayStats: (() => RelayStats) | undefined;
  network: () => RunningNetwork | undefined;
  /** The wallet when payments are on. */
  wallet: () => Wallet | undefined;
  paymentsEnabled: boolean;
  /** How long the wallet may take to answer `get_info` (default 3 s). */
  walletTimeoutMs?: number;
}

/** `/readyz`: relay listening, desk started, agents alive, wallet reachable when payments are on. */
export function readinessChecks(parts: ReadinessParts): () => Promise<ReadyCheck[]> {
  return async () => {
    const checks: ReadyCheck[] = [];
    if (parts.relayStats) {
      let listening = true;
      try {
        parts.relayStats();
      } catch {
        listening = false;
      }
      checks.push({ name: 'relay', ok: listening, ...(listening ? {} : { detail: 'not listening' }) });
    } else checks.push({ name: 'relay', ok: true, detail: 'external relay (relay.url)' });
    const net = parts.network();
    checks.push({ name: 'desk', ok: net !== undefined, ...(net ? {} : { detail: 'not started yet' }) });
    const workers = net?.agents().filter((a) => a.role !== 'coordinator') ?? [];
    const alive = workers.filter((a) => a.alive).length;
    checks.push({ name: 'agents', ok: alive > 0, detail: `${alive} of ${workers.length} agents alive` });
    if (parts.paymentsEnabled) checks.push(await walletCheck(parts.wallet(), parts.walletTimeoutMs ?? 3000));
    return checks;
  };
}

async function walletCheck(wallet: Wallet | undefined, timeoutMs: number): Promise<ReadyCheck> {
  if (!wallet) return { name: 'wallet', ok: false, detail: 'not started yet' };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      wallet.getInfo(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { name: 'wallet', ok: true };
  } catch (err) {
    return { name: 'wallet', ok: false, detail: `unreachable: ${errorMessage(err)}` };
  } finally {
    clearTimeout(timer);
  }
}
