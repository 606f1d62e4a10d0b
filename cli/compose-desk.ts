import { Auctioneer } from '../agents/desk/auctioneer.ts';
import { Billing } from '../agents/desk/billing.ts';
import { Coordinator, type LocalAgent } from '../agents/desk/coordinator.ts';
import { CustomerMemory } from '../agents/desk/customer-memory.ts';
import { type DeskDatabase, openDeskDatabase } from '../agents/desk/desk-db.ts';
import { DeskReputation } from '../agents/desk/desk-reputation.ts';
import { Forwarder } from '../agents/desk/forwarder.ts';
import { JobTraces } from '../agents/desk/job-traces.ts';
import { Liveness } from '../agents/desk/liveness.ts';
import { PeerPayouts } from '../agents/desk/peer-payouts.ts';
import { followPeerAgents } from '../agents/desk/peer-roster.ts';
import type { PeerAgent, PeerDirectory } from '../agents/desk/peers.ts';
import { Roster } from '../agents/desk/roster.ts';
import { jobLogStore, Outbox } from '../agents/outbox.ts';
import type { Persona } from '../agents/persona.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { dataFile } from '../core/data-dir.ts';
import type { Logger } from '../core/logger.ts';
import type { Signer } from '../core/signer.ts';
import { noTracing, type Tracing } from '../core/tracing.ts';
import type { Publish, Subscribe } from '../core/transport.ts';
import type { JobLog } from '../dvm/job-log.ts';
import { parsePubkey } from '../identity/nip19.ts';
import { parseProfile } from '../identity/profile.ts';
import type { Memories } from '../memory/memories.ts';
import type { Wallet } from '../payments/wallet.ts';
import { ReputationBook } from '../reputation/book.ts';

/** The desk's own identity and connection (Timmy). */
export interface DeskIdentity {
  signer: Signer;
  pubkey: string;
  client: Publish & Subscribe;
}

export interface DeskOptions {
  config: Config;
  logger: Logger;
  desk: DeskIdentity;
  /** The desk's database: its job log and the treasury, one file (`openDeskStore`). */
  db: DeskDatabase;
  /** The agents this desk assigns work to, wherever they run. */
  roster: readonly LocalAgent[];
  clock?: Clock;
  /** The instance's wallet; without it (or with payments.enabled false) jobs are free. */
  wallet?: Wallet;
  /** Peers (docs/federation.md): their agents join the roster, jobs no agent serves are forwarded. */
  federation?: DeskFederation;
  /** Traces of the jobs (docs/observability.md, "Traces"); none by default. */
  tracing?: Tracing;
  /**
   * Timmy remembers customers and past jobs (docs/memory.md) in this namespace (the coordinator's name), when
   * the memory is on (`memory.enabled`) and `memory.rememberJobs`.
   */
  memory?: { memories: Memories; agent: string };
}

export interface DeskFederation {
  directory: PeerDirectory;
  /** The desk's connection to a peer relay (forwards go there; answers come back from there). */
  peerRelay(url: string): (Publish & Subscribe) | undefined;
  /** The relays this instance's customers use (a forward's `relays`). */
  ownRelays: readonly string[];
  /** Whether a peer's agent is trusted to join the roster (reputation; everyone when absent). */
  trusted?: (agent: PeerAgent) => boolean;
  /** Whose forwards are taken (federation.trustedDesks); every desk's when absent. */
  trustedDesks?: ReadonlySet<string>;
}

/** The desk's database of a data directory (`jobs.sqlite`; an earlier `treasury.sqlite` is imported once). */
export function openDeskStore(dataDir: string, logger: Logger, clock?: Clock): DeskDatabase {
  return openDeskDatabase({
    path: dataFile(dataDir, 'jobs'),
    legacyTreasuryPath: dataFile(dataDir, 'treasury'),
    logger,
    clock,
  });
}

export interface RunningDesk {
  log: JobLog;
  /** The agents work may go to: this instance's and, with peers, theirs. */
  roster: Roster;
  /** Scores as this instance sees them; labels when jobs end. */
  reputation: DeskReputation;
  coordinator: Coordinator;
  liveness: Liveness;
  /** What the desk remembers of its customers, when it has a memory. */
  customers?: CustomerMemory;
  close(): Promise<void>;
}

/** The desk's roster from the persona file: every agent that serves kinds, with its listed prices. */
export function rosterOf(agents: readonly { persona: Persona; pubkey: string }[]): LocalAgent[] {
  return agents
    .filter((a) => a.persona.serves.length > 0)
    .map((a) => ({
      name: a.persona.name,
      pubkey: a.pubkey,
      kinds: a.persona.serves.map((s) => s.kind),
      prices: new Map(a.persona.serves.map((s) => [s.kind, s.priceMsats])),
    }));
}

/**
 * Wires Timmy's desk: the job log and the treasury (one database), the desk's outbox over the log, liveness
 * from the agents' heartbeats, the auctioneer and billing, and the coordinator that takes requests and
 * assigns them. It talks to its agents only through the relay, so they may run in this process or elsewhere.
 */
export async function startDesk(options: DeskOptions): Promise<RunningDesk> {
  const { config, logger, desk } = options;
  const clock = options.clock ?? systemClock;
  const { log, treasury } = options.db;
  const liveness = new Liveness(clock, config.dvm.agentTimeoutMs);
  const names = new Map(options.roster.map((a) => [a.pubkey, a.name]));
  // The desk's side of each job's trace (docs/observability.md); nothing at all when tracing is off.
  const traces = new JobTraces({
    tracing: options.tracing ?? noTracing,
    log,
    personaOf: (pubkey) => (pubkey === undefined ? 'none' : (names.get(pubkey) ?? 'peer')),
  });
  traces.start();
  const outbox = new Outbox({
    store: jobLogStore(log),
    relay: desk.client,
    logger,
    ...(options.tracing?.enabled ? { decorate: traces.decorate } : {}),
  });
  const roster = new Roster(options.roster);
  const federation = options.federation;
  // Reputation as this instance sees it: seeded by the desk's key and the owner's (reputation.seeds).
  const book = new ReputationBook({
    seeds: [desk.pubkey, ...config.reputation.seeds.map(parsePubkey)],
    clock,
    score: { halfLifeDays: config.reputation.halfLifeDays, damping: config.reputation.damping },
    verify: null, // the labels come from this instance's relay, which verified them
  });
  const reputation = new DeskReputation({
    book,
    relay: desk.client,
    signer: desk.signer,
    log,
    outbox,
    escrow: (jobId) => treasury.escrows.get(jobId),
    labels: config.reputation.labels,
    assertionsIntervalSeconds: config.reputation.assertionsIntervalSeconds,
    subjects: () => roster.pubkeys(),
    clock,
    logger,
  });
  const billing =
    options.wallet && config.payments.enabled
      ? new Billing({
          wallet: options.wallet,
          treasury,
          log,
          outbox,
          signer: desk.signer,
          payments: config.payments,
          agentName: (pubkey) => names.get(pubkey) ?? pubkey,
          peerPayouts: new PeerPayouts({
            treasury,
            log,
            logger,
            clock,
            isPeer: (pubkey) => !names.has(pubkey),
          }),
          clock,
          logger,
        })
      : undefined;
  const auctioneer = config.auction.enabled
    ? new Auctioneer({
        signer: desk.signer,
        pubkey: desk.pubkey,
        relay: desk.client,
        log,
        outbox,
        config: config.auction,
        reputation: (pubkey, kind) => reputation.score(pubkey, kind).score,
        clock,
        logger,
      })
    : undefined;
  let taker: Coordinator | undefined;
  const forwarder =
    federation && config.federation.forward
      ? new Forwarder({
          signer: desk.signer,
          pubkey: desk.pubkey,
          log,
          outbox,
          relay: desk.client,
          peerRelay: federation.peerRelay,
          peers: federation.directory,
          maxHops: config.federation.maxHops,
          trustedDesks: federation.trustedDesks,
          ownRelays: federation.ownRelays,
          accept: async (request, origin) => taker?.takeForwarded(request, origin),
          ...(options.tracing?.enabled ? { decorate: traces.decorate } : {}),
          lookbackSeconds: config.dvm.requestLookbackSeconds,
          clock,
          logger,
        })
      : undefined;
  const coordinator = new Coordinator({
    auctioneer,
    billing,
    signer: desk.signer,
    pubkey: desk.pubkey,
    relay: desk.client,
    log,
    outbox,
    liveness,
    roster,
    forwarder,
    labeler: reputation,
    eligible:
      config.reputation.minScore > 0
        ? (agent, kind) => reputation.score(agent.pubkey, kind).score >= config.reputation.minScore
        : undefined,
    dvm: config.dvm,
    clock,
    logger,
  });
  // Events recorded before a crash but never acknowledged go out first (same ids: idempotent).
  await outbox.flush().catch(() => {});
  taker = coordinator;
  const stopPeers = federation
    ? followPeerAgents({
        peers: federation.directory,
        roster,
        trusted:
          federation.trusted ??
          (config.federation.minScore > 0
            ? (agent) => reputation.score(agent.pubkey).score >= config.federation.minScore
            : undefined),
        refreshMs: Math.max(1000, config.dvm.heartbeatIntervalMs),
      })
    : undefined;
  const customers = customerMemory(options, names, clock);
  const stopRemembering = customers ? log.onAppend(customers.appended) : undefined;
  reputation.start();
  coordinator.start();
  forwarder?.start();
  let closed = false;
  return {
    log,
    roster,
    reputation,
    coordinator,
    liveness,
    ...(customers ? { customers } : {}),
    close: async () => {
      if (closed) return;
      closed = true;
      stopRemembering?.();
      await customers?.stop();
      stopPeers?.();
      forwarder?.stop();
      reputation.stop();
      await coordinator.stop();
      outbox.stop();
      traces.stop();
    },
  };
}

/** The desk's memory of its customers (docs/memory.md), fed by the job log; none when memory is off. */
function customerMemory(
  options: DeskOptions,
  names: ReadonlyMap<string, string>,
  clock: Clock,
): CustomerMemory | undefined {
  const m = options.memory;
  if (!m || !options.config.memory.enabled || !options.config.memory.rememberJobs) return undefined;
  const relay = options.desk.client;
  return new CustomerMemory({
    memories: m.memories,
    agent: m.agent,
    agentName: (pubkey) => names.get(pubkey),
    // The customer's name from their newest kind 0 on the relay, when they published one.
    nameOf: async (pubkey) => {
      const events = await relay.query([{ kinds: [0], authors: [pubkey], limit: 1 }], { timeoutMs: 2000 });
      const newest = events.sort((a, b) => b.created_at - a.created_at)[0];
      if (!newest) return undefined;
      const profile = parseProfile(newest);
      return profile.displayName || profile.name || undefined;
    },
    logger: options.logger.child({ module: 'customer-memory' }),
    clock,
  });
}
