import type { SwarmSnapshot } from './api-types.ts';
import type { DashboardSources } from './dashboard-api.ts';

/**
 * The swarm graph's starting state (`GET /api/swarm`, web/app/swarm/): the desk, its agents, the peer desks
 * and their agents, and the customers and assignments of the last 100 jobs; live updates come from the relay.
 */
export function swarmSnapshot(
  sources: Pick<DashboardSources, 'coordinator' | 'agents' | 'peers' | 'peerAgents' | 'log'>,
): SwarmSnapshot {
  const desk = sources.coordinator;
  const nodes: SwarmSnapshot['nodes'] = [];
  const edges: SwarmSnapshot['edges'] = [];
  const seen = new Set<string>();
  const add = (n: SwarmSnapshot['nodes'][number]): void => {
    if (seen.has(n.id)) return;
    seen.add(n.id);
    nodes.push(n);
  };
  for (const a of sources.agents()) {
    const isDesk = a.pubkey === desk;
    add({
      id: a.pubkey,
      type: isDesk ? 'desk' : 'agent',
      label: a.displayName,
      score: a.score,
      state: !a.alive ? 'dead' : a.load > 0 ? 'busy' : 'alive',
    });
    if (!isDesk) edges.push({ source: desk, target: a.pubkey, type: 'federation' });
  }
  for (const d of sources.peers?.desks() ?? []) {
    add({ id: d.pubkey, type: 'instance', label: d.name || d.relay, score: 50, state: 'alive' });
    edges.push({ source: desk, target: d.pubkey, type: 'federation' });
  }
  for (const p of sources.peerAgents()) {
    add({
      id: p.pubkey,
      type: 'agent',
      label: p.name,
      score: p.score,
      state: p.alive ? 'alive' : 'dead',
      ...(seen.has(p.desk) ? { parent: p.desk } : {}),
    });
    if (seen.has(p.desk)) edges.push({ source: p.desk, target: p.pubkey, type: 'federation' });
  }
  for (const j of sources.log.list({ limit: 100 })) {
    add({
      id: j.customer,
      type: 'customer',
      label: `${j.customer.slice(0, 8)}…`,
      score: 50,
      state: 'alive',
    });
    edges.push({ source: j.customer, target: desk, type: 'job', job: j.id });
    if (j.agent) {
      add({ id: j.agent, type: 'agent', label: `${j.agent.slice(0, 8)}…`, score: 50, state: 'alive' });
      edges.push({ source: desk, target: j.agent, type: 'assignment', job: j.id });
    }
  }
  return { nodes, edges };
}
