import type { Coordinator, LocalAgent } from '../agents/desk/coordinator.ts';
import { publishDeskAnnouncements } from '../agents/desk/desk-announcement.ts';
import type { DeskDatabase } from '../agents/desk/desk-db.ts';
import type { DeskReputation } from '../agents/desk/desk-reputation.ts';
import { type PeerAdmin, PeerSet } from '../agents/desk/peer-set.ts';
import { PeerDirectory } from '../agents/desk/peers.ts';
import { PersonaFileError } from '../agents/persona.ts';
import type { ProfilePublisher } from '../agents/profile-publisher.ts';
import type { AgentRuntime } from '../agents/runtime/agent.ts';
import type { WorkLog } from '../agents/runtime/work-log.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { dataFile } from '../core/data-dir.ts';
import type { Logger } from '../core/logger.ts';
import type { Tracing } from '../core/tracing.ts';
import type { JobLog } from '../dvm/job-log.ts';
import { parsePubkey } from '../identity/nip19.ts';
import { createLlmRouter } from '../llm/from-config.ts';
import type { CallSample, CascadeRouter } from '../llm/router.ts';
import type { Memories } from '../memory/memories.ts';
import type { Treasury } from '../payments/treasury.ts';
import type { Wallet } from '../payments/wallet.ts';
import { RelayClient } from '../relay/client.ts';
import {
  invoicerFrom,
  type NetworkAgent,
  type RunningAgents,
  servesOf,
  startAgents,
} from './compose-agents.ts';
import { type DeskFederation, openDeskStore, type RunningDesk, rosterOf, startDesk } from './compose-desk.ts';
import type { VoiceServing } from './compose-voice.ts';

export type { NetworkAgent } from './compose-agents.ts';

export interface AgentStatus {
  name: string;
  pubkey: string;
  role: string;
  kinds: number[];
  /** Runs in this process (false: `timmy agents run` elsewhere, per agents.elsewhere). */
  local: boolean;
  alive: boolean;
  load: number;
  lastBeatAt: number | undefined;
  /** Its reputation score (0-100) as this instance sees it (docs/reputation.md), and per kind it serves. */
  score: number;
  scores: Record<number, number>;
}

/** A peer instance's agent as this desk knows it (docs/federation.md). */
export interface PeerAgentStatus {
  name: string;
  pubkey: string;
  desk: string;
  relay: string;
  kinds: number[];
  /** Heartbeating on its own relay. */
  alive: boolean;
  /** On this desk's roster now (alive, trusted, working on this relay). */
  onRoster: boolean;
  score: number;
}

export interface RunningNetwork {
  log: JobLog;
  /** The treasury, in the desk's database. */
  treasury: Treasury;
  router: CascadeRouter;
  coordinator: Coordinator;
  /** The agents that run in this process. */
  runtimes: AgentRuntime[];
  /** Their work log. */
  work: WorkLog;
  agents(): AgentStatus[];
  /** The agents work may go to now: this instance's and its peers' (docs/federation.md). */
  roster(): readonly LocalAgent[];
  /** Whether the desk counts the agent alive (its heartbeats on this instance's relay). */
  isAlive(pubkey: string): boolean;
  /**
   * The desks and agents found on the peer relays (federation.peers and those added from the dashboard);
   * always there, empty without peers.
   */
  peers: PeerDirectory;
  /** Adds and removes peer relays at run time, kept in `<dataDir>/peers.json` (docs/federation.md). */
  peerAdmin: PeerAdmin;
  /** The peers' agents with their scores (empty without peers). */
  peerAgents(): PeerAgentStatus[];
  /** The agents' memory (docs/memory.md), when `memory.enabled`. */
  memories: Memories | undefined;
  /** Scores as this instance sees them. */
  reputation: DeskReputation;
  close(): Promise<void>;
}

export interface NetworkOptions {
  config: Config;
  dataDir: string;
  logger: Logger;
  agents: readonly NetworkAgent[];
  /** Publishes (with retry) the NIP-89 announcements that changed. */
  publisher: ProfilePublisher;
  personaFile: string;
  clock?: Clock;
  /** The model router; default: built from `config.llm` (tests pass one over a scripted provider). */
  llm?: CascadeRouter;
  /** Told every attempt of the router built here (metrics). */
  onLlmCall?: (sample: CallSample) => void;
  /** The instance's wallet; without it (or with payments.enabled false) jobs are free. */
  wallet?: Wallet;
  /** The desk's database when the caller opened it (timmy start does, for payments); default: opened here. */
  db?: DeskDatabase;
  /** The relay's public URL: a forward names it as where the customer listens (docs/federation.md). */
  relayUrl?: string;
  /** This instance's other relay URLs (the local one, the dashboard's /relay): never added as a peer. */
  ownRelayUrls?: () => readonly string[];
  /** Traces of the jobs, desk and agents (docs/observability.md, "Traces"); none by default. */
  tracing?: Tracing;
  /** The voice handlers (cli/compose-voice.ts); without them voice agents are not started. */
  voice?: VoiceServing;
}

/**
 * Wires the DVM network of an instance: Timmy's desk, and the agents that run in this process (all of the
 * persona file's but those in `agents.elsewhere`, which `timmy agents run` runs), talking over the relay.
 */
export async function startNetwork(options: NetworkOptions): Promise<RunningNetwork> {
  const { config, logger, agents } = options;
  const clock = options.clock ?? systemClock;
  const boss = agents.find((a) => a.persona.role === 'coordinator');
  if (!boss) throw new PersonaFileError(options.personaFile, 'needs a coordinator');
  const unknown = config.agents.elsewhere.filter((n) => !agents.some((a) => a.persona.name === n));
  if (unknown.length > 0)
    throw new PersonaFileError(
      options.personaFile,
      `agents.elsewhere names ${unknown.join(', ')}, which the persona file does not declare`,
    );
  // Every agent's handlers are checked, those that run elsewhere too: a bad persona file fails here.
  for (const a of agents) servesOf(a.persona, options.personaFile);
  const here = agents.filter((a) => a !== boss && !config.agents.elsewhere.includes(a.persona.name));

  // The configured peers and those added from the dashboard (read first: a bad peers.json stops the start).
  const peerSet = await PeerSet.open({
    file: dataFile(options.dataDir, 'peers'),
    configured: config.federation.peers,
    ownRelays: () => [...(options.relayUrl ? [options.relayUrl] : []), ...(options.ownRelayUrls?.() ?? [])],
    logger,
  });
  const router = options.llm ?? createLlmRouter(config.llm, { logger, clock, onCall: options.onLlmCall });
  const db = options.db ?? openDeskStore(options.dataDir, logger, clock);
  const ownDb = options.db === undefined;
  let desk: RunningDesk | undefined;
  let running: RunningAgents | undefined;
  const peers = startPeers(config, boss, peerSet.all(), options.relayUrl, clock, logger);
  try {
    running = await startAgents({
      config,
      dataDir: options.dataDir,
      logger,
      agents: here,
      desk: boss.pubkey,
      publisher: options.publisher,
      llm: router,
      personaFile: options.personaFile,
      clock,
      relayUrl: options.relayUrl,
      deskMemory: boss.persona.name,
      ...(options.tracing ? { tracing: options.tracing } : {}),
      ...(options.voice ? { voice: options.voice } : {}),
      federation: {
        peers: peerSet.all().map((url) => ({ url })),
        trustedDesk: peers.trustedDesk,
        invoicer: options.wallet && config.payments.enabled ? invoicerFrom(options.wallet) : undefined,
      },
    });
    desk = await startDesk({
      config,
      logger,
      desk: { signer: boss.signer, pubkey: boss.pubkey, client: boss.client },
      db,
      roster: rosterOf(agents),
      wallet: options.wallet,
      clock,
      federation: peers.desk,
      ...(options.tracing ? { tracing: options.tracing } : {}),
      ...(running.memories ? { memory: { memories: running.memories, agent: boss.persona.name } } : {}),
    });
  } catch (err) {
    await running?.close();
    peers.close();
    if (ownDb) db.close();
    await router.close?.();
    throw err;
  }
  // Peers (and any client) find this desk, its roster and its relays (docs/federation.md).
  await publishDeskAnnouncements({
    signer: boss.signer,
    pubkey: boss.pubkey,
    relay: boss.client,
    publisher: options.publisher,
    roster: rosterOf(agents),
    relays: options.relayUrl ? [options.relayUrl] : [],
    name: boss.persona.displayName,
    about: boss.persona.about,
    logger,
  });
  const { runtimes, work } = running;
  const { log, coordinator, liveness } = desk;
  logger.debug(
    {
      agents: runtimes.map((r) => `${r.name}:${r.kinds.join('/')}`),
      elsewhere: config.agents.elsewhere,
      llm: router.stats().map((s) => s.provider),
    },
    'DVM network started',
  );

  let closed = false;
  const d = desk;
  const r = running;
  // A peer added or removed from the dashboard: the desk's directory (and so the roster and the forwards)
  // and the agents' work there follow at once.
  peerSet.onChange(async (change) => {
    if (closed) return;
    if (change.type === 'added') {
      peers.add(change.url);
      r.addPeer(change.url);
    } else {
      peers.remove(change.url);
      await r.removePeer(change.url);
    }
  });
  return {
    log,
    treasury: db.treasury,
    router,
    coordinator,
    runtimes,
    work,
    agents: () =>
      agents.map((a) => {
        const live = liveness.get(a.pubkey);
        const isBoss = a === boss;
        return {
          name: a.persona.name,
          pubkey: a.pubkey,
          role: a.persona.role,
          kinds: a.persona.serves.map((s) => s.kind),
          local: isBoss || here.includes(a),
          alive: isBoss ? true : live.alive && live.lastBeatAt !== undefined,
          load: live.load,
          lastBeatAt: live.lastBeatAt,
          score: d.reputation.score(a.pubkey).score,
          scores: Object.fromEntries(
            a.persona.serves.map((s) => [s.kind, d.reputation.score(a.pubkey, s.kind).score]),
          ),
        };
      }),
    roster: () => d.roster.all(),
    isAlive: (pubkey) => liveness.isAlive(pubkey),
    peers: peers.desk.directory,
    peerAdmin: peerSet,
    memories: r.memories,
    reputation: d.reputation,
    peerAgents: () => {
      const onRoster = new Set(d.roster.peers().map((x) => x.pubkey));
      return peers.desk.directory.agents().map((x) => ({
        name: x.name,
        pubkey: x.pubkey,
        desk: x.desk,
        relay: x.relay,
        kinds: x.kinds,
        alive: x.alive,
        onRoster: onRoster.has(x.pubkey),
        score: d.reputation.score(x.pubkey).score,
      }));
    },
    close: async () => {
      if (closed) return;
      closed = true;
      // The desk's last memories are written before the agents close the memory file. The job log tells its
      // listeners (the memory among them) a turn's appends once the turn commits: wait for the last one.
      await d.log.committed().catch(() => {});
      await d.customers?.stop();
      await r.close();
      await d.close();
      peers.close();
      if (ownDb) db.close();
      await router.close?.();
    },
  };
}

/**
 * The desk's side of federation (docs/federation.md): one connection per peer relay (NIP-42 as the desk),
 * the directory of the desks and agents announced there, and which desks the agents here may work for.
 * Without peers the directory is empty (a desk still takes forwards when federation.forward); `add` and
 * `remove` change the peer relays at run time.
 */
function startPeers(
  config: Config,
  boss: NetworkAgent,
  urls: readonly string[],
  relayUrl: string | undefined,
  clock: Clock,
  logger: Logger,
): {
  desk: DeskFederation;
  trustedDesk?: (desk: string) => boolean;
  add(url: string): void;
  remove(url: string): void;
  close(): void;
} {
  const connect = (url: string) => new RelayClient({ url, logger, authSigner: boss.signer });
  const clients = new Map(urls.map((url) => [url, connect(url)] as const));
  const trustedDesks = config.federation.trustedDesks.map(parsePubkey);
  const directory = new PeerDirectory({
    peers: urls,
    connect: (url) => clients.get(url) ?? connect(url),
    self: boss.pubkey,
    trustedDesks,
    clock,
    logger,
    agentTimeoutMs: config.dvm.agentTimeoutMs,
  });
  directory.start();
  const trusted = new Set(trustedDesks);
  return {
    desk: {
      directory,
      peerRelay: (url) => clients.get(url),
      ownRelays: relayUrl ? [relayUrl] : [],
      trustedDesks: trusted.size > 0 ? trusted : undefined,
    },
    trustedDesk: trusted.size > 0 ? (desk) => trusted.has(desk) : undefined,
    add: (url) => {
      if (clients.has(url)) return;
      clients.set(url, connect(url));
      directory.add(url);
    },
    remove: (url) => {
      // The directory stops following (its connection is this client, closed with it).
      directory.remove(url);
      clients.get(url)?.close();
      clients.delete(url);
    },
    close: () => {
      directory.stop();
      for (const c of clients.values()) c.close();
    },
  };
}
