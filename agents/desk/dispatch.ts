import type { Config } from '../../core/config.ts';
import type { JobLog } from '../../dvm/job-log.ts';
import type { JobView } from '../../dvm/job-state.ts';
import type { Liveness } from './liveness.ts';

/** A worker agent the coordinator may assign work to: one of this instance's, or a peer's. */
export interface LocalAgent {
  name: string;
  pubkey: string;
  kinds: readonly number[];
  /** The agent's listed price per job kind (msats), charged when no auction sets one. */
  prices?: ReadonlyMap<number, number>;
  /** A peer instance's agent (docs/federation.md): its desk and the relay it was found on. */
  remote?: { desk: string; relay: string };
}

/**
 * The least-loaded live agent for a job (jobs in its hands in the log plus the load it reports), preferring
 * agents that have not had this job yet (a reassignment goes elsewhere when it can); equal agents are
 * ordered by a stable per-job hash, so they share the work.
 */
export function chooseAgent(
  view: JobView,
  alive: readonly LocalAgent[],
  deps: { log: Pick<JobLog, 'entries' | 'active'>; liveness: Pick<Liveness, 'load'> },
): LocalAgent {
  if (alive.length === 0) throw new RangeError('chooseAgent needs at least one live agent');
  const tried = new Set(
    deps.log.entries(view.id).flatMap((e) => (e.entry.type === 'assigned' ? [e.entry.agent] : [])),
  );
  const fresh = alive.filter((a) => !tried.has(a.pubkey));
  const pool = fresh.length > 0 ? fresh : alive;
  const inHand = new Map<string, number>();
  for (const v of deps.log.active()) if (v.agent) inHand.set(v.agent, (inHand.get(v.agent) ?? 0) + 1);
  const score = (a: LocalAgent): number => (inHand.get(a.pubkey) ?? 0) + deps.liveness.load(a.pubkey);
  return [...pool].sort(
    (a, b) => score(a) - score(b) || spread(view.id, a.pubkey) - spread(view.id, b.pubkey),
  )[0] as LocalAgent;
}

/** Why a job must wait for the operator (`dvm.approvalKinds`, `dvm.approvalAgents`), or undefined. */
export function approvalReason(
  dvm: Pick<Config['dvm'], 'approvalKinds' | 'approvalAgents'>,
  kind: number,
  agentNames: readonly string[],
): string | undefined {
  if (dvm.approvalKinds.includes(kind)) return `kind ${kind} jobs need the operator's approval`;
  const gated = agentNames.filter((n) => dvm.approvalAgents.includes(n));
  if (gated.length > 0) return `jobs that may go to ${gated.join(', ')} need the operator's approval`;
  return undefined;
}

/** A stable pseudo-random order of agents per job. */
function spread(jobId: string, pubkey: string): number {
  let h = 0;
  for (let i = 0; i < 8; i++) h = (h * 31 + (jobId.charCodeAt(i) ^ pubkey.charCodeAt(i))) >>> 0;
  return h;
}
