import { type Persona, PersonaFileError } from '../agents/persona.ts';
import type { ProfilePublisher } from '../agents/profile-publisher.ts';
import { AgentRuntime } from '../agents/runtime/agent.ts';
import type { AgentMemory } from '../agents/runtime/agent-memory.ts';
import { type AwayRuntime, AwayWork, type TrustedDesk } from '../agents/runtime/away.ts';
import { VOICE_HANDLER_NAMES } from '../agents/runtime/handlers/index.ts';
import { InputResolver } from '../agents/runtime/inputs.ts';
import type { Invoicer } from '../agents/runtime/invoicing.ts';
import { ResultCopies } from '../agents/runtime/result-copies.ts';
import { resolveServes } from '../agents/runtime/roster.ts';
import { type AgentWork, WorkLog } from '../agents/runtime/work-log.ts';
import type { WorkerServe } from '../agents/runtime/worker.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { dataFile } from '../core/data-dir.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';
import type { Tracing } from '../core/tracing.ts';
import type { Publish, Subscribe } from '../core/transport.ts';
import { buildHandlerInfo, sameHandlerInfo } from '../dvm/announcement.ts';
import type { JobHandler } from '../dvm/handler.ts';
import { HANDLER_INFO_KIND } from '../dvm/kinds.ts';
import type { LlmProvider } from '../llm/provider.ts';
import { openMemories } from '../memory/from-config.ts';
import type { Memories } from '../memory/memories.ts';
import { isMemoryKind } from '../memory/types.ts';
import type { Wallet } from '../payments/wallet.ts';
import { RelayClient } from '../relay/client.ts';
import type { VoiceServing } from './compose-voice.ts';

export interface NetworkAgent {
  persona: Persona;
  pubkey: string;
  signer: Signer;
  /** This agent's own connection to the relay (NIP-42 AUTH is per pubkey). */
  client: Publish & Subscribe;
}

export interface AgentsOptions {
  config: Config;
  dataDir: string;
  logger: Logger;
  /** The agents to run here (those that serve no kind are skipped). */
  agents: readonly NetworkAgent[];
  /** The desk they work for. */
  desk: string;
  /** Publishes (with retry) the NIP-89 announcements that changed. */
  publisher: ProfilePublisher;
  llm: LlmProvider;
  personaFile: string;
  clock?: Clock;
  /** The home relay's URL: results are not copied there. Default: the agents' clients' `url`, when they have one. */
  relayUrl?: string;
  /** Seconds between kind 11998 heartbeats on the home relay; default `federation.heartbeatSeconds` (300); 0: none. */
  heartbeatSeconds?: number;
  /** Results are also published on the relays their request names (public ones, or `dvm.urlInputs.allow`); default true. */
  copyResults?: boolean;
  /** The agents also work for the desks of peer relays (docs/federation.md). */
  federation?: AgentsFederation;
  /** The agents' memory; default `<dataDir>/memory.sqlite` when `memory.enabled` (tests pass one with a fake embedder). */
  memories?: Memories;
  /** The desk's namespace (the coordinator's name): its memories of a job's customer are recalled too. */
  deskMemory?: string;
  /** The agents' bids and executions as spans of the jobs' traces (docs/observability.md); none by default. */
  tracing?: Tracing;
  /**
   * The voice handlers (cli/compose-voice.ts). An agent serving one is started only with them; without
   * (engines missing, or `timmy agents run`, which has no media route) it is skipped with one log line.
   */
  voice?: VoiceServing;
}

/** A connection of one agent to one peer relay (NIP-42 AUTH as that agent). */
export type PeerConnection = Publish & Subscribe & { close(): void };

export interface AgentsFederation {
  /** The peer relays (`federation.peers`): on each, every agent works for the desks announced there. */
  peers: readonly { url: string }[];
  /** Which desks announced on a peer relay the agents may work for (`federation.trustedDesks`); default: every one. */
  trustedDesk?: TrustedDesk;
  /** Makes the invoice a peer desk pays for a job (`invoicerFrom(wallet)`); without it, no invoice is asked. */
  invoicer?: Invoicer;
  /** Opens an agent's connection to a peer relay; default a RelayClient with the agent's key (tests wrap it). */
  connect?: (url: string, agent: NetworkAgent) => PeerConnection;
}

export interface RunningAgents {
  runtimes: AgentRuntime[];
  /** The agents' work for the peers' desks: one per agent and peer relay. */
  away: AwayWork[];
  /** The agents' work log (`<dataDir>/work.sqlite`). */
  work: WorkLog;
  /** Their memory (docs/memory.md), when `memory.enabled`. */
  memories: Memories | undefined;
  /** The trusted desks changed: starts and stops the work for the peers' desks accordingly. */
  refreshPeers(): void;
  /** A peer relay added at run time (docs/federation.md): each agent connects and works there too (with `federation`). */
  addPeer(url: string): void;
  /** A peer relay removed at run time: the agents' work there stops and their connections close. */
  removePeer(url: string): Promise<void>;
  close(): Promise<void>;
}

/** Invoices made by the instance's wallet, valid for an hour: what a peer desk pays an agent's result with. */
export function invoicerFrom(wallet: Wallet, expirySeconds = 3600): Invoicer {
  return async (msats, memo) =>
    (await wallet.makeInvoice({ amountMsats: msats, description: memo, expirySeconds })).invoice;
}

/** Each agent's handlers, checked against the persona file (PersonaFileError names the problem). */
export function servesOf(
  persona: Persona,
  personaFile: string,
  built?: ReadonlyMap<string, JobHandler>,
): WorkerServe[] {
  try {
    return resolveServes(persona, built);
  } catch (err) {
    throw new PersonaFileError(personaFile, errorMessage(err));
  }
}

/**
 * Runs agents: one AgentRuntime each over its own relay connection and its own part of the work log, after
 * announcing what each serves (NIP-89, kind 31990, only when it changed). Used by `timmy start` for the agents
 * that run in the instance's process and by `timmy agents run` for the others. With `federation`, each agent
 * also connects to every peer relay and runs one more AgentRuntime per desk announced there (AwayWork).
 */
export async function startAgents(options: AgentsOptions): Promise<RunningAgents> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const voice = options.voice;
  const voiceHandlers = voice && 'handlers' in voice ? voice.handlers : undefined;
  const serving = options.agents
    .map((a) => ({ agent: a, serves: servesOf(a.persona, options.personaFile, voiceHandlers) }))
    .filter((a) => a.serves.length > 0)
    .filter(({ agent }) => {
      const needsVoice = agent.persona.serves.some((s) =>
        (VOICE_HANDLER_NAMES as readonly string[]).includes(s.handler),
      );
      if (!needsVoice || voiceHandlers) return true;
      const why =
        voice && 'unavailable' in voice
          ? `${voice.unavailable} (docs/voice.md)`
          : 'voice agents run in `timmy start`, which serves their audio (docs/voice.md)';
      logger.warn({ agent: agent.persona.name }, `voice agent "${agent.persona.name}" not started: ${why}`);
      return false;
    });
  const work = WorkLog.open({ path: dataFile(options.dataDir, 'work'), logger, clock });
  let memories: Memories | undefined;
  try {
    memories =
      options.memories ??
      (config.memory.enabled ? openMemories({ config, dataDir: options.dataDir, logger, clock }) : undefined);
    if (memories) {
      const pruned = memories.prune(config.memory.budgetPerAgent);
      if (pruned.merged + pruned.removed > 0) logger.info({ ...pruned }, 'memory pruned to its budget');
    }
  } catch (err) {
    work.close();
    throw err;
  }
  const memory = memories ? agentMemory(memories, config.memory, options.deskMemory) : undefined;
  const heartbeatSeconds = options.heartbeatSeconds ?? config.federation.heartbeatSeconds;
  const runtimeOf = (
    agent: NetworkAgent,
    serves: WorkerServe[],
    at: { desk: string; relay: Publish & Subscribe; relayUrl: string | undefined; work: AgentWork },
    extra: { invoicer?: Invoicer; home: boolean },
  ): AgentRuntime =>
    new AgentRuntime({
      persona: agent.persona,
      signer: agent.signer,
      pubkey: agent.pubkey,
      desk: at.desk,
      serves,
      relay: at.relay,
      work: at.work,
      inputs: new InputResolver({
        relay: at.relay,
        maxInputBytes: config.dvm.maxInputBytes,
        timeoutMs: config.dvm.inputTimeoutMs,
        urlInputs: { allow: config.dvm.urlInputs.allow },
        restrictedKinds: config.relay.restrictedReadKinds,
        logger,
      }),
      llm: options.llm,
      config,
      clock,
      logger,
      invoicer: extra.invoicer,
      copies: options.copyResults === false ? undefined : copiesFor(options, agent, at.relayUrl),
      memory,
      ...(options.tracing ? { tracing: options.tracing } : {}),
      dvmHeartbeat:
        extra.home && heartbeatSeconds > 0
          ? { d: handlerD(agent), intervalSeconds: heartbeatSeconds }
          : undefined,
    });
  const runtimes = serving.map(({ agent, serves }) =>
    runtimeOf(
      agent,
      serves,
      {
        desk: options.desk,
        relay: agent.client,
        relayUrl: options.relayUrl ?? urlOf(agent.client),
        work: work.forAgent(agent.pubkey),
      },
      { home: true },
    ),
  );
  /** Per peer relay: each agent's connection there and its work for the desks announced there. */
  const onPeers = new Map<string, { client: PeerConnection; away: AwayWork }[]>();
  const away: AwayWork[] = [];
  const federation = options.federation;
  const workOn = (peerUrl: string): { client: PeerConnection; away: AwayWork }[] =>
    serving.map(({ agent, serves }) => {
      const client =
        federation?.connect?.(peerUrl, agent) ??
        new RelayClient({ url: peerUrl, logger, authSigner: agent.signer });
      const w = new AwayWork({
        agent: agent.persona.name,
        pubkey: agent.pubkey,
        homeDesk: options.desk,
        relay: client,
        relayUrl: peerUrl,
        trusted: federation?.trustedDesk,
        logger,
        runtimeFor: (desk): AwayRuntime => {
          const runtime = runtimeOf(
            agent,
            serves,
            { desk, relay: client, relayUrl: peerUrl, work: work.forAway(agent.pubkey, desk) },
            { invoicer: federation?.invoicer, home: false },
          );
          return {
            // Its announcement on the peer relay: the desk there checks bidders' announcements on its relay.
            start: async () => {
              await announceOn(client, agent, handlerInfo(options, agent, serves), logger);
              await runtime.start();
            },
            stop: () => runtime.stop(),
          };
        },
      });
      away.push(w);
      return { client, away: w };
    });
  const stopOn = async (items: readonly { client: PeerConnection; away: AwayWork }[]): Promise<void> => {
    await Promise.all(items.map((i) => i.away.stop()));
    for (const i of items) {
      i.client.close();
      const at = away.indexOf(i.away);
      if (at >= 0) away.splice(at, 1);
    }
  };
  for (const peer of federation?.peers ?? [])
    if (!onPeers.has(peer.url)) onPeers.set(peer.url, workOn(peer.url));
  const started: AgentRuntime[] = [];
  const closePeers = async (): Promise<void> => {
    const all = [...onPeers.values()].flat();
    onPeers.clear();
    await stopOn(all);
  };
  try {
    await announce(options, serving);
    for (const r of runtimes) {
      await r.start();
      started.push(r);
    }
    for (const a of away) a.start();
  } catch (err) {
    await closePeers();
    await Promise.all(started.map((r) => r.stop()));
    work.close();
    await memories?.close();
    throw err;
  }
  let closed = false;
  return {
    runtimes,
    away,
    work,
    memories,
    refreshPeers: () => {
      for (const a of away) a.refresh();
    },
    addPeer: (url) => {
      if (closed || !federation || onPeers.has(url)) return;
      const items = workOn(url);
      onPeers.set(url, items);
      for (const i of items) i.away.start();
    },
    removePeer: async (url) => {
      const items = onPeers.get(url);
      if (!items) return;
      onPeers.delete(url);
      await stopOn(items);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await closePeers();
      await Promise.all(runtimes.map((r) => r.stop()));
      work.close();
      await memories?.close();
    },
  };
}

/**
 * The agents' view of the memory: recall into prompts (their own namespace; for a customer's job, of its
 * past jobs only that customer's, and the desk's memories of that customer), finished jobs remembered.
 */
function agentMemory(m: Memories, config: Config['memory'], desk: string | undefined): AgentMemory {
  return {
    recall: async (agent, query, customer) =>
      config.recallK === 0
        ? []
        : customer === undefined
          ? (await m.recall(query, { k: config.recallK, filter: { agent } })).map((r) => r.memory.content)
          : recallForCustomer(m, { agent, desk, customer, query, k: config.recallK }),
    remember: async (agent, memory) => {
      if (config.rememberJobs) await m.remember({ agent, ...memory });
    },
    search: async (agent, query, o) => {
      const kinds = o.kinds?.filter(isMemoryKind);
      const hits = await m.search(query, {
        k: o.k,
        hybrid: o.hybrid === true,
        filter: kinds === undefined ? { agent } : { agent, kinds },
      });
      return hits.map(({ memory: r, score }) => ({
        id: r.id,
        agent: r.agent,
        kind: r.kind,
        content: r.content,
        createdAt: r.createdAt,
        score,
        meta: r.meta,
      }));
    },
  };
}

/** At most this many of the desk's memories of a customer go into a prompt: their summary and one past job. */
const DESK_RECALL = 2;

/**
 * A recall for a customer's job: the agent's facts and procedures and its past jobs for this customer (never
 * another customer's), and, from the desk's namespace, what Timmy knows of this customer (their summary and
 * the past job nearest the prompt), first. Only memories whose `meta.customer` is this customer are read there.
 */
async function recallForCustomer(
  m: Memories,
  o: { agent: string; desk: string | undefined; customer: string; query: string; k: number },
): Promise<string[]> {
  const own = m.recall(o.query, {
    k: o.k,
    filter: [
      { agent: o.agent, kinds: ['semantic', 'procedural'] },
      { agent: o.agent, kinds: ['episodic'], meta: { customer: o.customer } },
    ],
  });
  const desk = o.desk;
  const ofCustomer =
    desk === undefined || desk === o.agent
      ? Promise.resolve([])
      : m
          .recall(o.query, {
            k: DESK_RECALL - 1,
            filter: { agent: desk, kinds: ['episodic'], meta: { customer: o.customer } },
          })
          .then((jobs) => [
            ...m.find({ agent: desk, kinds: ['semantic'], meta: { customer: o.customer } }, 1),
            ...jobs.map((r) => r.memory),
          ]);
  const [mine, timmy] = await Promise.all([own, ofCustomer]);
  return [...timmy.map((r) => r.content), ...mine.map((r) => r.memory.content)];
}

/** The d of an agent's NIP-89 announcement (and of its kind 11998 heartbeat). */
function handlerD(agent: NetworkAgent): string {
  return `timmy-${agent.persona.name}`;
}

function urlOf(client: unknown): string | undefined {
  const url = (client as { url?: unknown }).url;
  return typeof url === 'string' ? url : undefined;
}

/** Copies of an agent's results to the relays the request names, through short-lived clients with its key. */
function copiesFor(options: AgentsOptions, agent: NetworkAgent, relayUrl: string | undefined): ResultCopies {
  const { logger } = options;
  return new ResultCopies({
    open: (url) =>
      new RelayClient({
        url,
        logger,
        authSigner: agent.signer,
        connectTimeoutMs: 5000,
        publishTimeoutMs: 10_000,
      }),
    skip: relayUrl === undefined ? [] : [relayUrl],
    allow: options.config.dvm.urlInputs.allow,
    logger: logger.child({ agent: agent.persona.name }),
  });
}

/** The agent's NIP-89 template: its kinds, prices and parameter schemas. */
function handlerInfo(options: AgentsOptions, a: NetworkAgent, serves: readonly WorkerServe[]): EventTemplate {
  const schemas = new Map<number, Readonly<Record<string, unknown>>>();
  for (const s of serves)
    if (s.handler.paramSchema && !schemas.has(s.kind)) schemas.set(s.kind, s.handler.paramSchema);
  return buildHandlerInfo({
    d: handlerD(a),
    kinds: serves.map((s) => s.kind),
    metadata: {
      name: a.persona.displayName,
      about: a.persona.about,
      picture: a.persona.picture || undefined,
      nip05: `${a.persona.name}@${options.config.identity.domain}`,
    },
    pricing: serves.map((s) => ({ kind: s.kind, msats: s.priceMsats, unit: 'job' as const })),
    paramSchemas: [...schemas].map(([kind, schema]) => ({ kind, schema })),
  });
}

/** The announcement on one more relay (a peer's), when that relay does not have it yet; failures are logged. */
async function announceOn(
  via: Publish & Subscribe,
  agent: NetworkAgent,
  template: EventTemplate,
  logger: Logger,
): Promise<void> {
  try {
    const event = await changedAnnouncement(via, agent, template);
    if (event) await via.publish(event);
  } catch (err) {
    logger.warn(
      { agent: agent.persona.name, err: errorMessage(err) },
      'NIP-89 announcement not published on a peer relay',
    );
  }
}

/** The signed announcement to publish on `via`, or undefined when the relay has the same already. */
async function changedAnnouncement(
  via: Subscribe,
  a: NetworkAgent,
  template: EventTemplate,
): Promise<NostrEvent | undefined> {
  const d = template.tags.find((t) => t[0] === 'd')?.[1] ?? '';
  const existing = await via
    .query([{ kinds: [HANDLER_INFO_KIND], authors: [a.pubkey], '#d': [d] }], { timeoutMs: 3000 })
    .catch(() => []);
  if (existing.some((e) => sameHandlerInfo(template, e))) return undefined;
  // A change must replace what the relay has, even within the same second.
  const newest = Math.max(0, ...existing.map((e) => e.created_at));
  template.created_at = Math.max(template.created_at, newest + 1);
  return a.signer.signEvent(template);
}

/** NIP-89 (kind 31990) per agent, published only when it differs from what the relay has. */
async function announce(
  options: AgentsOptions,
  serving: readonly { agent: NetworkAgent; serves: WorkerServe[] }[],
): Promise<void> {
  const items = await Promise.all(
    serving.map(async ({ agent: a, serves }) => {
      const signed = await changedAnnouncement(a.client, a, handlerInfo(options, a, serves));
      return signed ? { name: a.persona.name, event: signed, via: a.client } : undefined;
    }),
  );
  const changed = items.filter((i) => i !== undefined);
  if (changed.length === 0) return;
  const published = await options.publisher.publishAll(changed);
  options.logger.debug({ published }, 'NIP-89 handler announcements (kind 31990) published');
}
