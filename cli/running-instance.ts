import { parsePubkey } from '../identity/nip19.ts';
import { readInstanceRecord } from './instance-record.ts';
import { CliError } from './io.ts';

/**
 * The relay a client command talks to: `--relay` when given, else the running instance's (from
 * `<dataDir>/instance.json`); no instance and no `--relay` is exit code 3 with what to do.
 */
export async function relayUrlFor(dataDir: string, override: string | undefined): Promise<string> {
  if (override) return override;
  const record = await readInstanceRecord(dataDir);
  if (record.state === 'running') return record.record.localRelayUrl;
  throw new CliError(
    `no instance is running with data directory ${dataDir}: start one with \`timmy start\`, or pass --relay`,
    3,
  );
}

export interface StatusAgent {
  name: string;
  pubkey: string;
  role: string;
  kinds: number[];
  /** Runs in the instance's process (false: `timmy agents run` elsewhere). */
  local?: boolean;
  alive: boolean;
  load: number;
  lastBeatAt: number | undefined;
  /** Its reputation score (0-100) as the instance sees it; absent from an instance older than reputation. */
  score?: number;
}

/** The running instance's agents from its `/api/status`, or undefined when none runs or it does not answer. */
export async function runningAgents(dataDir: string): Promise<StatusAgent[] | undefined> {
  const record = await readInstanceRecord(dataDir);
  if (record.state !== 'running') return undefined;
  const res = await fetch(`${record.record.localHttpUrl}/api/status`, {
    signal: AbortSignal.timeout(3000),
  }).catch(() => undefined);
  const body = (await res?.json().catch(() => undefined)) as { agents?: StatusAgent[] } | undefined;
  return body?.agents;
}

/**
 * Whose payment requests `timmy job submit` pays: the running instance's coordinator (when the job goes to
 * its relay) and the addressed agent. Undefined when neither is known (a foreign relay without --to).
 */
export async function expectedPayees(
  instanceAgents: () => Promise<StatusAgent[] | undefined>,
  relayOverride: string | undefined,
  to: string | undefined,
): Promise<Set<string> | undefined> {
  const payees = new Set<string>();
  if (to) payees.add(to);
  if (!relayOverride) {
    const coordinator = (await instanceAgents())?.find((a) => a.role === 'coordinator');
    if (coordinator) payees.add(coordinator.pubkey);
  }
  return payees.size > 0 ? payees : undefined;
}

/** An agent name (looked up on the running instance), an npub, or a hex pubkey → hex pubkey. */
export async function resolveAgent(
  to: string,
  instanceAgents: () => Promise<StatusAgent[] | undefined>,
): Promise<string> {
  if (/^[0-9a-f]{64}$/.test(to) || to.startsWith('npub1')) {
    try {
      return parsePubkey(to);
    } catch {
      throw new CliError(`--to ${to} is not a valid npub or hex pubkey`, 2);
    }
  }
  const agents = await instanceAgents();
  if (!agents)
    throw new CliError(
      `--to ${to}: agent names are looked up on the running instance, and none is running`,
      3,
    );
  const agent = agents.find((a) => a.name === to);
  if (!agent) {
    const names = agents.map((a) => a.name).join(', ');
    throw new CliError(
      `no agent named "${to}" on the running instance${names ? ` (agents: ${names})` : ''}`,
      2,
    );
  }
  return agent.pubkey;
}
