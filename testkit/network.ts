import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePersonaFile } from '../agents/persona.ts';
import { ProfilePublisher } from '../agents/profile-publisher.ts';
import { type RunningNetwork, startNetwork } from '../cli/compose-network.ts';
import type { VoiceServing } from '../cli/compose-voice.ts';
import { systemClock } from '../core/clock.ts';
import { type Config, configSchema } from '../core/config.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import type { Tracing } from '../core/tracing.ts';
import type { Publish, Subscribe } from '../core/transport.ts';
import { generateLocalSigner, type LocalSigner } from '../identity/signer.ts';
import { CircuitBreaker } from '../llm/circuit-breaker.ts';
import type { LlmProvider } from '../llm/provider.ts';
import { CascadeRouter } from '../llm/router.ts';
import type { Wallet } from '../payments/wallet.ts';
import { RelayClient } from '../relay/client.ts';

/** Persona files for tests: Timmy plus the given workers. */
export function personas(
  workers: {
    name: string;
    serves: { kind: number; handler: string; priceMsats?: number }[];
    systemPrompt?: string;
  }[],
) {
  return parsePersonaFile({
    agents: [
      { name: 'timmy', displayName: 'Timmy', role: 'coordinator' },
      ...workers.map((w) => ({ displayName: w.name, ...w })),
    ],
  }).agents;
}

export interface TestNetworkOptions {
  relayUrl: string;
  /** The relay is one this process runs (on loopback): its events are not verified again, as `timmy start` does. */
  ownRelay?: boolean;
  agents: ReturnType<typeof personas>;
  /** Fixed keys per agent name (to restart "the same" instance); fresh ones otherwise. */
  keys?: Map<string, LocalSigner>;
  dataDir?: string;
  dvm?: Partial<Config['dvm']>;
  /** Auctions are off unless asked for (the DVM tests assign directly; tests/auction/ turns them on). */
  auction?: Partial<Config['auction']>;
  providers?: { provider: LlmProvider; timeoutMs?: number }[];
  logger?: Logger;
  /** Crash simulation: publishes for which this returns true never reach the relay (they hang until stop). */
  swallow?: (agent: string, event: NostrEvent) => boolean;
  /** Payments are off unless a wallet is given (the treasury is the desk's: `network.treasury`). */
  payments?: { wallet: Wallet; config?: Partial<Config['payments']> };
  /** Agents of the persona file that run elsewhere (`timmy agents run`): on the roster, not started here. */
  elsewhere?: string[];
  /** Peers (docs/federation.md): off unless `peers` names some. */
  federation?: Partial<Config['federation']>;
  reputation?: Partial<Config['reputation']>;
  /** The agents' memory (docs/memory.md): off unless asked for (tests/memory/agents-remember.test.ts). */
  memory?: Partial<Config['memory']>;
  /** Traces of the desk and the agents (tests/observability/traces.test.ts); none unless given. */
  tracing?: Tracing;
  /** The voice handlers (cli/compose-voice.ts): voice agents run only with them (tests/dvm/voice-jobs.test.ts). */
  voice?: VoiceServing;
}

export interface TestNetwork {
  network: RunningNetwork;
  keys: Map<string, LocalSigner>;
  dataDir: string;
  clients: RelayClient[];
  pubkeyOf(name: string): string;
  /** Stops the network and its connections (the data directory stays). */
  stop(): Promise<void>;
}

/** A DVM network like `timmy start` wires it, over a relay the test started, with scripted models. */
export async function startTestNetwork(o: TestNetworkOptions): Promise<TestNetwork> {
  const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'timmy-dvm-')));
  const config = configSchema.parse({
    dvm: { heartbeatIntervalMs: 200, agentTimeoutMs: 1500, ...o.dvm },
    auction: { enabled: false, ...o.auction },
    payments: { enabled: o.payments !== undefined, walletRetryMs: 200, ...o.payments?.config },
    federation: { heartbeatSeconds: 60, ...o.federation },
    agents: { elsewhere: o.elsewhere ?? [] },
    reputation: { ...o.reputation },
    memory: { enabled: false, ...o.memory },
  });
  const logger = o.logger ?? silentLogger;
  const keys = o.keys ?? new Map(o.agents.map((p) => [p.name, generateLocalSigner()]));
  const clients: RelayClient[] = [];
  const agents = o.agents.map((persona) => {
    const signer = keys.get(persona.name) as LocalSigner;
    const client = new RelayClient({
      url: o.relayUrl,
      logger,
      authSigner: signer,
      ownRelay: o.ownRelay === true,
    });
    clients.push(client);
    const swallow = o.swallow;
    const via: Publish & Subscribe = swallow
      ? {
          publish: (e) => (swallow(persona.name, e) ? new Promise<void>(() => {}) : client.publish(e)),
          subscribe: (f, h) => client.subscribe(f, h),
          query: (f, q) => client.query(f, q),
        }
      : client;
    return { persona, pubkey: signer.pubkey, signer, client: via };
  });
  const router = new CascadeRouter({
    entries: (o.providers ?? []).map((p) => ({
      provider: p.provider,
      timeoutMs: p.timeoutMs ?? 5000,
      breaker: new CircuitBreaker({
        failureThreshold: 3,
        cooldownMs: 30_000,
        halfOpenSuccesses: 1,
        clock: systemClock,
      }),
    })),
    logger,
  });
  const publisher = new ProfilePublisher({ logger, retryMs: 100 });
  const network = await startNetwork({
    config,
    dataDir,
    logger,
    agents,
    publisher,
    personaFile: '(test)',
    llm: router,
    wallet: o.payments?.wallet,
    relayUrl: o.relayUrl,
    ...(o.tracing ? { tracing: o.tracing } : {}),
    ...(o.voice ? { voice: o.voice } : {}),
  });
  return {
    network,
    keys,
    dataDir,
    clients,
    pubkeyOf: (name) => (keys.get(name) as LocalSigner).pubkey,
    stop: async () => {
      publisher.stop();
      await network.close();
      for (const c of clients) c.close();
    },
  };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
