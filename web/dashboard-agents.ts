import type { AgentStatsBook } from '../agents/desk/agent-stats.ts';
import { encodeNpub } from '../identity/nip19.ts';
import type { AgentStats, InstancePeerAgent } from './api-types.ts';
import type { DashboardAgent } from './dashboard-api.ts';

/** An agent of this instance as the dashboard shows it: who it is, liveness, its work here, its scores. */
export function agentStatsOf(a: DashboardAgent, book: AgentStatsBook): AgentStats {
  const { pubkey: _, ...w } = book.stats(a.pubkey);
  return {
    pubkey: a.pubkey,
    npub: encodeNpub(a.pubkey),
    name: a.name,
    displayName: a.displayName,
    ...(a.nip05 ? { nip05: a.nip05 } : {}),
    about: a.about,
    role: a.role,
    where: a.local ? 'local' : 'elsewhere',
    kinds: a.kinds,
    alive: a.alive,
    ...(a.lastBeatAt !== undefined ? { lastBeatAt: a.lastBeatAt } : {}),
    load: a.load,
    ...w,
    score: a.score,
    scores: a.scores,
  };
}

export function peerStatsOf(p: InstancePeerAgent, book: AgentStatsBook): AgentStats {
  const { pubkey: _, ...w } = book.stats(p.pubkey);
  return {
    pubkey: p.pubkey,
    npub: encodeNpub(p.pubkey),
    name: p.name,
    displayName: p.name,
    about: '',
    role: 'agent',
    where: 'peer',
    kinds: p.kinds.map((kind) => ({ kind })),
    alive: p.alive,
    load: 0,
    ...w,
    score: p.score,
    scores: {},
  };
}
