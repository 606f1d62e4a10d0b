import { type Persona, PersonaFileError } from '../agents/persona.ts';
import type { ProfilePublisher } from '../agents/profile-publisher.ts';
import { AgentRuntime } from '../agents/runtime/agent.ts';
import { InputResolver } from '../agents/runtime/inputs.ts';
import { resolveServes } from '../agents/runtime/roster.ts';
import { WorkLog } from '../agents/runtime/work-log.ts';
import type { WorkerServe } from '../agents/runtime/worker.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { dataFile } from '../core/data-dir.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Signer } from '../core/signer.ts';
import type { Publish, Subscribe } from '../core/transport.ts';
import { buildHandlerInfo, sameHandlerInfo } from '../dvm/announcement.ts';
import { HANDLER_INFO_KIND } from '../dvm/kinds.ts';
import type { LlmProvider } from '../llm/provider.ts';

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
}

export interface RunningAgents {
  runtimes: AgentRuntime[];
  /** The agents' work log (`<dataDir>/work.sqlite`). */
  work: WorkLog;
  close(): Promise<void>;
}

/** Each agent's handlers, checked against the persona file (PersonaFileError names the problem). */
export function servesOf(persona: Persona, personaFile: string): WorkerServe[] {
  try {
    return resolveServes(persona);
  } catch (err) {
    throw new PersonaFileError(personaFile, errorMessage(err));
  }
}

/**
 * Runs agents: one AgentRuntime each over its own relay connection and its own part of the work log, after
 * announcing what each serves (NIP-89, kind 31990, only when it changed). Used by `timmy start` for the agents
 * that run in the instance's process and by `timmy agents run` for the others.
 */
export async function startAgents(options: AgentsOptions): Promise<RunningAgents> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const serving = options.agents
    .map((a) => ({ agent: a, serves: servesOf(a.persona, options.personaFile) }))
    .filter((a) => a.serves.length > 0);
  const work = WorkLog.open({ path: dataFile(options.dataDir, 'work'), logger, clock });
  const runtimes = serving.map(
    ({ agent, serves }) =>
      new AgentRuntime({
        persona: agent.persona,
        signer: agent.signer,
        pubkey: agent.pubkey,
        desk: options.desk,
        serves,
        relay: agent.client,
        work: work.forAgent(agent.pubkey),
        inputs: new InputResolver({
          relay: agent.client,
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
      }),
  );
  const started: AgentRuntime[] = [];
  try {
    await announce(options, serving);
    for (const r of runtimes) {
      await r.start();
      started.push(r);
    }
  } catch (err) {
    await Promise.all(started.map((r) => r.stop()));
    work.close();
    throw err;
  }
  let closed = false;
  return {
    runtimes,
    work,
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all(runtimes.map((r) => r.stop()));
      work.close();
    },
  };
}

/** NIP-89 (kind 31990) per agent, published only when it differs from what the relay has. */
async function announce(
  options: AgentsOptions,
  serving: readonly { agent: NetworkAgent; serves: WorkerServe[] }[],
): Promise<void> {
  const items = await Promise.all(
    serving.map(async ({ agent: a, serves }) => {
      const d = `timmy-${a.persona.name}`;
      const template = buildHandlerInfo({
        d,
        kinds: serves.map((s) => s.kind),
        metadata: {
          name: a.persona.displayName,
          about: a.persona.about,
          picture: a.persona.picture || undefined,
          nip05: `${a.persona.name}@${options.config.identity.domain}`,
        },
        pricing: serves.map((s) => ({ kind: s.kind, msats: s.priceMsats, unit: 'job' as const })),
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
