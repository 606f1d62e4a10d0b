import { mkdir } from 'node:fs/promises';
import type { DeskDatabase } from '../agents/desk/desk-db.ts';
import { loadPersonaFile, type Persona, PersonaFileError } from '../agents/persona.ts';
import { ProfilePublisher } from '../agents/profile-publisher.ts';
import type { Config } from '../core/config.ts';
import { dataFile, secureDataDir } from '../core/data-dir.ts';
import type { Logger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';
import { noTracing, type Tracing } from '../core/tracing.ts';
import { ensurePassphrase, KeyStore } from '../identity/keystore.ts';
import { answerNip05Query, buildNostrJson } from '../identity/nip05.ts';
import { verifyAuthEvent } from '../identity/nip42.ts';
import { buildProfileEvent, ProfileError, type ProfileInput, profileTemplate } from '../identity/profile.ts';
import type { CallSample } from '../llm/router.ts';
import type { TimmyMetrics } from '../observability/metrics.ts';
import { tracingFromConfig } from '../observability/tracing.ts';
import { RelayClient } from '../relay/client.ts';
import { standardPolicies, standardPolicyOptions } from '../relay/policies.ts';
import type { Policy } from '../relay/policy.ts';
import { reputationPolicy } from '../relay/reputation-policy.ts';
import { RelayServer, type RelayStats } from '../relay/server.ts';
import { SqliteEventStore, writerThreadFor } from '../relay/sqlite-store.ts';
import { AssetBundle } from '../web/assets.ts';
import { DashboardApi } from '../web/dashboard-api.ts';
import { DashboardSessions } from '../web/dashboard-session.ts';
import { HttpServer, type HttpServerOptions, type InstanceView } from '../web/http-server.ts';
import { L402Gate, loadOrCreateRootKey } from '../web/l402.ts';
import { MediaStore } from '../web/media-store.ts';
import { RelayBridge } from '../web/relay-bridge.ts';
import { openDeskStore } from './compose-desk.ts';
import { instanceMetrics, networkSources, readinessChecks, watchJobs } from './compose-metrics.ts';
import { type RunningNetwork, startNetwork } from './compose-network.ts';
import { paymentsView, type RunningPayments, startPayments } from './compose-payments.ts';
import { dashboardVoice } from './compose-talk.ts';
import { composeVoice } from './compose-voice.ts';
import { VERSION } from './context.ts';
import { CliError } from './io.ts';

/**
 * The composition root: the one place that wires real implementations together. `timmy start` calls
 * `startInstance`, `timmy relay` calls `startRelay`; everything below receives its collaborators.
 */

export interface RunningRelay {
  /** Where this process connects. */
  url: string;
  /** The URL others use (relay.publicUrl when set), for printing, NIP-05 and status. */
  publicUrl: string;
  embedded: boolean;
  /** The embedded relay's counters (throws once it is closed); absent with an external relay. */
  stats?: () => RelayStats;
  close(): Promise<void>;
}

export interface AgentInfo {
  persona: Persona;
  pubkey: string;
  npub: string;
  signer: Signer;
  profile: NostrEvent;
}

export interface RunningInstance {
  /** Public URLs (relay.publicUrl / http.publicUrl when set) and the ones this machine connects to. */
  relayUrl: string;
  localRelayUrl: string;
  httpUrl: string;
  localHttpUrl: string;
  embeddedRelay: boolean;
  agents: AgentInfo[];
  /** The DVM network: job log, coordinator, workers, model router. */
  network: RunningNetwork;
  /** Wallet, treasury and (embedded) wallet service; undefined when payments.enabled is false. */
  payments: RunningPayments | undefined;
  /** The dashboard's browser code (built on first request; `warm()` builds it now). */
  assets: AssetBundle;
  /** No dashboard.owners: nobody can act from the dashboard. */
  dashboardReadOnly: boolean;
  /** Its Prometheus metrics (served at /metrics); undefined when metrics.enabled is false. */
  metrics: TimmyMetrics | undefined;
  startedAt: number;
  close(): Promise<void>;
}

export async function startRelay(
  config: Config,
  dataDir: string,
  logger: Logger,
  /** Policies after the standard chain (the reputation gate of a running instance). */
  extraPolicies: readonly Policy[] = [],
  /** Spans of job requests' ingest (docs/observability.md, "Traces"). */
  tracing: Tracing = noTracing,
  /** Keys not rate-limited once authenticated (NIP-42): the instance's own (RelayServerOptions.unlimited). */
  unlimited?: (pubkey: string) => boolean,
): Promise<RunningRelay> {
  if (config.relay.url) {
    logger.info(
      { url: config.relay.url },
      'using an external relay (relay.url is set); the embedded relay stays off',
    );
    return {
      url: config.relay.url,
      publicUrl: config.relay.publicUrl || config.relay.url,
      embedded: false,
      close: async () => {},
    };
  }
  await secureDataDir(dataDir, logger);
  const store = new SqliteEventStore({
    path: dataFile(dataDir, 'relay'),
    logger,
    writerThread: writerThreadFor(config.relay.writerThread),
  });
  const server = new RelayServer({
    store,
    logger,
    policies: [...standardPolicies(standardPolicyOptions(config.relay)), ...extraPolicies],
    info: {
      name: config.relay.name,
      description: config.relay.description,
      contact: config.relay.contact,
      software: 'timmy-time',
      version: VERSION,
    },
    limits: config.relay.limits,
    auth: config.relay.auth,
    restrictedReadKinds: config.relay.restrictedReadKinds,
    restrictedWrites: config.relay.acceptKinds.length > 0 || config.relay.rejectKinds.length > 0,
    publicUrl: config.relay.publicUrl || undefined,
    verifyAuth: verifyAuthEvent,
    unlimited,
    tracing,
  });
  let url: string;
  let closed = false;
  try {
    url = await server.listen(config.relay.port, config.relay.host);
  } catch (err) {
    await server.close();
    await store.close();
    throw listenError(err, 'relay', config.relay.host, config.relay.port, 'TIMMY_RELAY_PORT');
  }
  return {
    url,
    publicUrl: config.relay.publicUrl || url,
    embedded: true,
    stats: () => {
      if (closed) throw new Error('the relay is closed');
      return server.stats();
    },
    close: async () => {
      closed = true;
      await server.close();
      await store.close();
    },
  };
}

export interface StartOptions {
  /** What the start is doing now, for a person ("deriving keys 3/14 (seer)"); the long part is the keys. */
  onProgress?: (text: string) => void;
}

export async function startInstance(
  config: Config,
  dataDir: string,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningInstance> {
  const startedAt = Date.now();
  const progress = options.onProgress ?? (() => {});
  const { personas, file } = await loadPersonaFile(config.agents.personaFile);
  await secureDataDir(dataDir, logger);
  let starting = true;
  let runs = 0;
  const expected = expectedScryptRuns(config, personas.length);
  const keystore = await openKeyStore(config, dataDir, logger, (name) => {
    if (!starting) return;
    runs += 1;
    progress(`deriving keys ${runs}/${Math.max(runs, expected)} (${name})`);
  });

  const domain = config.identity.domain;
  const inputs: ProfileInput[] = personas.map((persona) => ({
    name: persona.name,
    displayName: persona.displayName,
    about: persona.about,
    picture: persona.picture,
    website: persona.website,
    lud16: persona.lud16,
    nip05: `${persona.name}@${domain}`,
    identities: persona.identities,
  }));
  // Check every profile before any key is created, so a bad persona file changes nothing on disk.
  inputs.forEach((input) => {
    try {
      profileTemplate(input);
    } catch (err) {
      if (err instanceof ProfileError)
        throw new PersonaFileError(file, `agent "${input.name}": ${err.message}`);
      throw err;
    }
  });
  const agents: AgentInfo[] = [];
  for (const [i, persona] of personas.entries()) {
    const key = (await keystore.has(persona.name))
      ? await keystore.get(persona.name)
      : await keystore.create(persona.name);
    const profile = await buildProfileEvent(key.signer, inputs[i] as ProfileInput);
    agents.push({ persona, pubkey: key.pubkey, npub: key.npub, signer: key.signer, profile });
  }
  logger.debug({ personaFile: file, agents: agents.map((a) => a.persona.name) }, 'agents loaded');

  // The reputation gate (reputation.relayMinScore) scores with the desk's book once the network is up.
  let scoreOf: ((pubkey: string) => number) | undefined;
  const ownKeys = new Set(agents.map((a) => a.pubkey));
  progress('starting the relay');
  // Traces of the jobs (tracing.enabled; docs/observability.md): the relay, the desk and the agents here.
  const tracing = tracingFromConfig(config.tracing, logger);
  const relay = await startRelay(
    config,
    dataDir,
    logger,
    [
      reputationPolicy({
        minScore: config.reputation.relayMinScore,
        scoreOf: (pubkey) => scoreOf?.(pubkey),
        exempt: (pubkey) => ownKeys.has(pubkey),
      }),
    ],
    tracing,
    (pubkey) => ownKeys.has(pubkey),
  );
  let desk: DeskDatabase;
  try {
    desk = openDeskStore(dataDir, logger);
  } catch (err) {
    await relay.close();
    await tracing.close();
    throw err;
  }
  const metrics = instanceMetrics(config);
  if (metrics) watchJobs(metrics, desk.log, new Map(agents.map((a) => [a.pubkey, a.persona.name])));
  const clients: RelayClient[] = [];
  let network: RunningNetwork | undefined;
  let payments: RunningPayments | undefined;
  const httpOptions: HttpServerOptions = {
    logger,
    limits: config.http.limits,
    view: (): InstanceView => ({
      name: 'Timmy Time',
      version: VERSION,
      startedAt,
      relayUrl: relay.publicUrl,
      httpUrl: config.http.publicUrl || http.url,
      domain,
      agents: agents.map((a) => {
        const live = network?.agents().find((s) => s.pubkey === a.pubkey);
        return {
          name: a.persona.name,
          displayName: a.persona.displayName,
          role: a.persona.role,
          about: a.persona.about,
          pubkey: a.pubkey,
          npub: a.npub,
          kinds: live?.kinds ?? a.persona.serves.map((s) => s.kind),
          local: live?.local ?? true,
          alive: live?.alive ?? false,
          load: live?.load ?? 0,
          lastBeatAt: live?.lastBeatAt,
          score: live?.score ?? network?.reputation.score(a.pubkey).score ?? 50,
          scores: live?.scores ?? {},
        };
      }),
      peers: network?.peerAgents() ?? [],
      llm: network?.router.stats() ?? [],
      payments: payments ? paymentsView(payments) : { enabled: false },
    }),
    nostrJson: (name) => answerNip05Query(nostrJson, name),
    ready: readinessChecks({
      relayStats: relay.stats,
      network: () => network,
      wallet: () => payments?.wallet,
      paymentsEnabled: config.payments.enabled,
    }),
  };
  const http = new HttpServer(httpOptions);
  const assets = new AssetBundle({ logger });
  const nostrJson = buildNostrJson(
    agents.map((a) => ({ name: a.persona.name, pubkey: a.pubkey })),
    [relay.publicUrl],
  );

  const publisher = new ProfilePublisher({ logger });
  try {
    for (const agent of agents) {
      // The embedded relay verified every event on the way in; its own clients on loopback need not again.
      clients.push(
        new RelayClient({ url: relay.url, logger, authSigner: agent.signer, ownRelay: relay.embedded }),
      );
    }
    const published = await publisher.publishAll(
      agents.map((a, i) => ({ name: a.persona.name, event: a.profile, via: clients[i] as RelayClient })),
    );
    logger.debug({ relay: relay.url, published }, 'agent profiles (kind 0) published');
    if (config.payments.enabled)
      payments = await startPayments({
        config,
        dataDir,
        treasury: desk.treasury,
        keystore,
        relayUrl: relay.url,
        ownRelay: relay.embedded,
        publicRelayUrl: relay.publicUrl,
        logger,
      });
    // The embedded wallet service answers every wallet request of the instance over one connection: its key
    // is the instance's own too (never rate-limited once authenticated, docs/relay.md).
    if (payments?.serviceKey) ownKeys.add(payments.serviceKey);
    if (payments && config.payments.l402.routes.length > 0) {
      httpOptions.l402 = new L402Gate({
        wallet: payments.wallet,
        rootKey: await loadOrCreateRootKey(dataFile(dataDir, 'l402RootKey')),
        routes: config.payments.l402.routes,
        tokenTtlSeconds: config.payments.l402.tokenTtlSeconds,
        challengesPerMinute: config.payments.l402.challengesPerMinute,
        maxOpenChallenges: config.payments.l402.maxOpenChallenges,
        income: payments.income,
        logger,
        location: config.http.publicUrl || undefined,
      });
      const gate = httpOptions.l402;
      // A paid invoice leaves the pool of open challenges at once (not only when its token comes back).
      payments.income?.onBooked((paymentHash) => gate.invoicePaid(paymentHash));
    }
    progress('starting the agents and the desk');
    // Voice jobs (docs/voice.md): their speech is served by the HTTP server from <dataDir>/media.
    const media = new MediaStore({ dir: dataFile(dataDir, 'media'), logger });
    httpOptions.media = media;
    const voice = await composeVoice({
      config,
      logger,
      media,
      baseUrl: () => config.http.publicUrl || http.url,
    });
    network = await startNetwork({
      voice,
      db: desk,
      relayUrl: relay.publicUrl,
      // Never a peer of itself: its local relay URL and the dashboard's bridge (once the server listens).
      ownRelayUrls: () => [
        relay.url,
        ...[http.url, config.http.publicUrl]
          .filter((u) => u !== '')
          .map((u) => `${u.replace(/^http/, 'ws').replace(/\/+$/, '')}/relay`),
      ],
      wallet: payments?.wallet,
      tracing,
      ...(metrics ? { onLlmCall: (sample: CallSample) => metrics.llmCall(sample) } : {}),
      config,
      dataDir,
      logger,
      personaFile: file,
      publisher,
      agents: agents.map((a, i) => ({
        persona: a.persona,
        pubkey: a.pubkey,
        signer: a.signer,
        client: clients[i] as RelayClient,
      })),
    });
    const net = network;
    scoreOf = (pubkey) => net.reputation.score(pubkey).score;
    const sessions = new DashboardSessions({
      owners: config.dashboard.owners,
      sessionSeconds: Math.round(config.dashboard.sessionHours * 3600),
      maxSessions: config.dashboard.maxSessions,
      challengesPerMinute: config.dashboard.loginsPerMinute,
      logger,
    });
    const pay = payments;
    httpOptions.dashboard = {
      api: new DashboardApi({
        sessions,
        logger,
        sources: {
          log: net.log,
          coordinator: agents.find((a) => a.persona.role === 'coordinator')?.pubkey ?? '',
          agents: () =>
            httpOptions.view().agents.map((a) => {
              const persona = agents.find((x) => x.pubkey === a.pubkey)?.persona;
              return {
                pubkey: a.pubkey,
                name: a.name,
                displayName: a.displayName,
                about: a.about,
                role: a.role,
                nip05: `${a.name}@${domain}`,
                kinds: (persona?.serves ?? []).map((s) => ({ kind: s.kind, priceMsats: s.priceMsats })),
                local: a.local,
                alive: a.alive,
                load: a.load,
                ...(a.lastBeatAt !== undefined ? { lastBeatAt: a.lastBeatAt } : {}),
                score: a.score,
                scores: a.scores,
              };
            }),
          peerAgents: () => net.peerAgents(),
          peers: net.peers,
          peerAdmin: net.peerAdmin,
          reputation: net.reputation,
          llm: () => net.router.stats(),
          ...(pay ? { treasury: pay.treasury } : {}),
          testSats: pay?.testSats ?? false,
          ...(pay?.customerUrl ? { demoCustomerUrl: pay.customerUrl } : {}),
        },
      }),
      assets,
      bridge: new RelayBridge({
        relayUrl: relay.url,
        logger,
        maxMessageBytes: config.relay.limits.maxMessageBytes,
      }),
      // The chat page's talk button (cli/compose-talk.ts): the engines found here, or what to install.
      voice: dashboardVoice({
        sources: {
          view: () => httpOptions.view(),
          log: net.log,
          ...(pay ? { treasury: pay.treasury } : {}),
          ...(net.router.stats().length > 0 ? { llm: net.router } : {}),
        },
        reader: (cookie) => sessions.reader(cookie, false),
        logger,
      }),
      ...(config.http.publicUrl ? { publicUrl: config.http.publicUrl } : {}),
    };
    if (metrics) {
      networkSources(metrics, relay.stats, net);
      httpOptions.metrics = {
        text: () => metrics.text(),
        contentType: metrics.contentType,
        access: config.metrics.access,
        owners: () => sessions.owners,
      };
    }
    const publicHttp = config.http.publicUrl;
    progress('starting the HTTP server');
    const httpUrl = await http.listen(config.http.port, config.http.host).catch((err: unknown) => {
      throw listenError(err, 'HTTP', config.http.host, config.http.port, 'TIMMY_HTTP_PORT');
    });
    starting = false;
    return {
      relayUrl: relay.publicUrl,
      localRelayUrl: relay.url,
      httpUrl: publicHttp || httpUrl,
      localHttpUrl: httpUrl,
      embeddedRelay: relay.embedded,
      agents,
      network: net,
      payments,
      assets,
      dashboardReadOnly: sessions.readOnly,
      metrics,
      startedAt,
      close: async () => {
        publisher.stop();
        await net.close();
        await payments?.close();
        desk.close();
        for (const c of clients) c.close();
        await http.close();
        await relay.close();
        await tracing.close();
      },
    };
  } catch (err) {
    starting = false;
    publisher.stop();
    await network?.close();
    await payments?.close();
    desk.close();
    for (const c of clients) c.close();
    await http.close();
    await relay.close();
    await tracing.close();
    throw err;
  }
}

/** The agents' key store under `<dataDir>/keys`, unlocked with the configured (or generated) passphrase. */
export async function openKeyStore(
  config: Config,
  dataDir: string,
  logger: Logger,
  onScrypt?: (name: string) => void,
): Promise<KeyStore> {
  return new KeyStore({
    dir: dataFile(dataDir, 'keys'),
    passphrase: await resolvePassphrase(config, dataDir, logger),
    logger,
    logN: config.identity.scryptLogN,
    ...(onScrypt ? { onScrypt } : {}),
  });
}

/**
 * The scrypt runs of a start, for its progress line: one per agent key (written or unlocked); with the
 * embedded wallet, its four keys each written or unlocked, then the treasury's and the customer's read once
 * more and the invoice node's twice (compose-payments.ts); with a stored NWC connection, its key once.
 */
function expectedScryptRuns(config: Config, agents: number): number {
  if (!config.payments.enabled) return agents;
  if (config.payments.wallet === 'embedded') return agents + 8;
  return agents + (config.payments.nwcUrl ? 0 : 1);
}

async function resolvePassphrase(config: Config, dataDir: string, logger: Logger): Promise<string> {
  if (config.identity.passphrase) return config.identity.passphrase;
  const file = config.identity.passphraseFile || dataFile(dataDir, 'passphrase');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { passphrase, created } = await ensurePassphrase(file);
  if (created) {
    logger.warn(
      { file },
      "generated a random passphrase for the agents' keys; back this file up, or set identity.passphrase (or identity.passphraseFile) to keep it elsewhere",
    );
  }
  return passphrase;
}

function listenError(err: unknown, what: string, host: string, port: number, env: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new CliError(
      `the ${what} port ${port} on ${host} is already in use: set ${env} (0 picks a free port)`,
    );
  }
  if (code === 'EACCES')
    return new CliError(`no permission to listen on ${host}:${port} for the ${what} server (${env})`);
  if (code === 'EADDRNOTAVAIL') return new CliError(`cannot listen on ${host}: no such local address`);
  return err instanceof Error ? err : new Error(String(err));
}
