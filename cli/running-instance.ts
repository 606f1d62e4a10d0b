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
