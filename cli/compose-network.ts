import { Auctioneer } from '../agents/auctioneer.ts';
import { Bidder } from '../agents/bidder.ts';
import { Billing } from '../agents/billing.ts';
import { Coordinator, type LocalAgent } from '../agents/coordinator.ts';
import { InputResolver } from '../agents/inputs.ts';
import { Liveness } from '../agents/liveness.ts';
import { Outbox } from '../agents/outbox.ts';
import { type Persona, PersonaFileError } from '../agents/persona.ts';
import type { ProfilePublisher } from '../agents/profile-publisher.ts';
import { resolveServes } from '../agents/roster.ts';
import { DvmWorker, type WorkerServe } from '../agents/worker.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { dataFile } from '../core/data-dir.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Signer } from '../core/signer.ts';
import type { Publish, Subscribe } from '../core/transport.ts';
import { buildHandlerInfo, sameHandlerInfo } from '../dvm/announcement.ts';
import { JobLog } from '../dvm/job-log.ts';
import { HANDLER_INFO_KIND } from '../dvm/kinds.ts';
import { createLlmRouter } from '../llm/from-config.ts';
import type { CascadeRouter } from '../llm/router.ts';
import type { Treasury } from '../payments/treasury.ts';
import type { Wallet } from '../payments/wallet.ts';

export interface NetworkAgent {
  persona: Persona;
  pubkey: string;
  signer: Signer;
  /** This agent's own connection to the instance's relay (NIP-42 AUTH is per pubkey). */
  client: Publish & Subscribe;
}

export interface AgentStatus {
  name: string;
  pubkey: string;
  role: string;
  kinds: number[];
  alive: boolean;
  load: number;
  lastBeatAt: number | undefined;
}

export interface RunningNetwork {
  log: JobLog;
  router: CascadeRouter;
  coordinator: Coordinator;
  workers: DvmWorker[];
  agents(): AgentStatus[];
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
  /** The instance's wallet and treasury; without them (or with payments.enabled false) jobs are free. */
  payments?: { wallet: Wallet; treasury: Treasury };
}

/**
 * Wires the DVM network of an instance: the job log, the language-model router, Timmy the coordinator and
 * one worker per agent that serves job kinds, each with its own outbox over its own relay connection.
 */
export async function startNetwork(options: NetworkOptions): Promise<RunningNetwork> {
  const { config, logger, agents } = options;
  const clock = options.clock ?? systemClock;
  const boss = agents.find((a) => a.persona.role === 'coordinator');
  if (!boss) throw new PersonaFileError(options.personaFile, 'needs a coordinator');
  const serves = new Map<string, WorkerServe[]>();
  for (const a of agents) {
    try {
      serves.set(a.pubkey, resolveServes(a.persona));
    } catch (err) {
      throw new PersonaFileError(options.personaFile, errorMessage(err));
    }
  }

  const log = JobLog.open({ path: dataFile(options.dataDir, 'jobs'), logger, clock });
  const router = options.llm ?? createLlmRouter(config.llm, { logger, clock });
  const liveness = new Liveness(clock, config.dvm.agentTimeoutMs);
  const outboxes = new Map(
    agents.map((a) => [a.pubkey, new Outbox({ log, relay: a.client, author: a.pubkey, logger })]),
  );
  const inputs = new InputResolver({
    relay: boss.client,
    maxInputBytes: config.dvm.maxInputBytes,
    timeoutMs: config.dvm.inputTimeoutMs,
    logger,
  });
  const workerAgents = agents.filter((a) => (serves.get(a.pubkey) ?? []).length > 0);
  const workers = workerAgents.map(
    (a) =>
      new DvmWorker({
        name: a.persona.name,
        signer: a.signer,
        pubkey: a.pubkey,
        coordinator: boss.pubkey,
        serves: serves.get(a.pubkey) ?? [],
        relay: a.client,
        log,
        outbox: outboxes.get(a.pubkey) as Outbox,
        inputs,
        llm: router,
        dvm: config.dvm,
        clock,
        logger,
      }),
  );
  const local: LocalAgent[] = workerAgents.map((a) => ({
    name: a.persona.name,
    pubkey: a.pubkey,
    kinds: (serves.get(a.pubkey) ?? []).map((s) => s.kind),
    prices: new Map((serves.get(a.pubkey) ?? []).map((s) => [s.kind, s.priceMsats])),
  }));
  const names = new Map(agents.map((a) => [a.pubkey, a.persona.name]));
  const billing =
    options.payments && config.payments.enabled
      ? new Billing({
          wallet: options.payments.wallet,
          treasury: options.payments.treasury,
          log,
          outbox: outboxes.get(boss.pubkey) as Outbox,
          signer: boss.signer,
          payments: config.payments,
          agentName: (pubkey) => names.get(pubkey) ?? pubkey,
          clock,
          logger,
        })
      : undefined;
  const auctioneer = config.auction.enabled
    ? new Auctioneer({
        signer: boss.signer,
        pubkey: boss.pubkey,
        relay: boss.client,
        log,
        outbox: outboxes.get(boss.pubkey) as Outbox,
        config: config.auction,
        clock,
        logger,
      })
    : undefined;
  const bidders = config.auction.enabled
    ? workerAgents.map((a, i) => {
        const list = serves.get(a.pubkey) ?? [];
        const worker = workers[i] as DvmWorker;
        return new Bidder({
          name: a.persona.name,
          signer: a.signer,
          pubkey: a.pubkey,
          coordinator: boss.pubkey,
          prices: new Map(list.map((s) => [s.kind, s.priceMsats])),
          llmKinds: new Set(list.filter((s) => s.handler.needsLlm).map((s) => s.kind)),
          cost: a.persona.cost,
          relay: a.client,
          log,
          outbox: outboxes.get(a.pubkey) as Outbox,
          load: () => worker.load,
          llm: config.llm,
          lookbackSeconds: config.dvm.requestLookbackSeconds,
          clock,
          logger,
        });
      })
    : [];
  const coordinator = new Coordinator({
    auctioneer,
    billing,
    signer: boss.signer,
    pubkey: boss.pubkey,
    relay: boss.client,
    log,
    outbox: outboxes.get(boss.pubkey) as Outbox,
    liveness,
    agents: local,
    dvm: config.dvm,
    clock,
    logger,
  });

  await announce(options, workerAgents, serves);
  // Events recorded before a crash but never acknowledged go out first (same ids: idempotent).
  await Promise.all([...outboxes.values()].map((o) => o.flush().catch(() => {})));
  coordinator.start();
  for (const w of workers) w.start();
  for (const b of bidders) b.start();
  logger.info(
    {
      workers: local.map((a) => `${a.name}:${a.kinds.join('/')}`),
      llm: router.stats().map((s) => s.provider),
    },
    'DVM network started',
  );

  let closed = false;
  return {
    log,
    router,
    coordinator,
    workers,
    agents: () =>
      agents.map((a) => {
        const live = liveness.get(a.pubkey);
        const isBoss = a === boss;
        return {
          name: a.persona.name,
          pubkey: a.pubkey,
          role: a.persona.role,
          kinds: (serves.get(a.pubkey) ?? []).map((s) => s.kind),
          alive: isBoss ? true : live.alive && live.lastBeatAt !== undefined,
          load: live.load,
          lastBeatAt: live.lastBeatAt,
        };
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      for (const b of bidders) b.stop();
      await Promise.all(workers.map((w) => w.stop()));
      await coordinator.stop();
      for (const o of outboxes.values()) o.stop();
      await router.close?.();
      log.close();
    },
  };
}

/** NIP-89 (kind 31990) per worker, published only when it differs from what the relay has. */
async function announce(
  options: NetworkOptions,
  workers: readonly NetworkAgent[],
  serves: Map<string, WorkerServe[]>,
): Promise<void> {
  const items = await Promise.all(
    workers.map(async (a) => {
      const list = serves.get(a.pubkey) ?? [];
      const d = `timmy-${a.persona.name}`;
      const template = buildHandlerInfo({
        d,
        kinds: list.map((s) => s.kind),
        metadata: {
          name: a.persona.displayName,
          about: a.persona.about,
          picture: a.persona.picture || undefined,
          nip05: `${a.persona.name}@${options.config.identity.domain}`,
        },
        pricing: list.map((s) => ({ kind: s.kind, msats: s.priceMsats, unit: 'job' as const })),
      });
      const existing = await a.client
        .query([{ kinds: [HANDLER_INFO_KIND], authors: [a.pubkey], '#d': [d] }], { timeoutMs: 3000 })
        .catch(() => []);
      if (existing.some((e) => sameHandlerInfo(template, e))) return undefined;
      // A change must replace what the relay has, even within the same second.
      const newest = Math.max(0, ...existing.map((e) => e.created_at));
      template.created_at = Math.max(template.created_at, newest + 1);
      return { name: a.persona.name, event: await a.signer.signEvent(template), via: a.client };
    }),
  );
  const changed = items.filter((i) => i !== undefined);
  if (changed.length === 0) return;
  const published = await options.publisher.publishAll(changed);
  options.logger.info({ published }, 'NIP-89 handler announcements (kind 31990) published');
}
