/**
 * Synthetic swarms for the component tests and the benchmark (bench/swarm.bench.ts): a snapshot of N nodes
 * (one home desk, a few peer instances, agents, customers) with about 1.5 N edges, relay events that pulse
 * its existing edges, and a relay-like source the test feeds by hand. Deterministic (seeded). Not used by
 * the dashboard itself.
 */
import type { NostrEvent } from '../../../core/nostr.ts';
import type { Subscribe, Subscription, SubscriptionHandlers } from '../../../core/transport.ts';
import type { SwarmSnapshot } from '../../api-types.ts';

export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

export function hex64(rand: () => number): string {
  let s = '';
  for (let i = 0; i < 8; i++)
    s += Math.floor(rand() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return s;
}

/** N nodes: 2% desks (the first is ours), 30% agents, the rest customers; about 1.5 N edges. */
export function syntheticSnapshot(n: number, seed = 7): SwarmSnapshot {
  const rand = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const desks = Math.max(1, Math.round(n * 0.02));
  const agents = Math.max(1, Math.round(n * 0.3));
  const customers = Math.max(0, n - desks - agents);
  const nodes: SwarmSnapshot['nodes'] = [];
  const edges: SwarmSnapshot['edges'] = [];
  const deskIds: string[] = [];
  for (let i = 0; i < desks; i++) {
    const id = hex64(rand);
    deskIds.push(id);
    nodes.push({
      id,
      type: i === 0 ? 'desk' : 'instance',
      label: i === 0 ? 'timmy' : `peer-${i}`,
      score: 50,
      state: 'alive',
    });
    if (i > 0) edges.push({ source: deskIds[0] as string, target: id, type: 'federation' });
  }
  for (let i = 0; i < agents; i++) {
    const id = hex64(rand);
    // Most agents are ours; a third belong to a peer instance.
    const desk =
      i % 3 === 2 && desks > 1 ? (deskIds[1 + (i % (desks - 1))] as string) : (deskIds[0] as string);
    const r = rand();
    nodes.push({
      id,
      type: 'agent',
      label: `agent-${i}`,
      score: Math.round(rand() * 100),
      state: r < 0.7 ? 'alive' : r < 0.9 ? 'busy' : 'dead',
      ...(desk !== deskIds[0] ? { parent: desk } : {}),
    });
    edges.push({ source: desk, target: id, type: 'assignment' });
    edges.push({ source: desk, target: id, type: 'payment', job: hex64(rand) });
  }
  for (let i = 0; i < customers; i++) {
    const id = hex64(rand);
    const desk = rand() < 0.8 ? (deskIds[0] as string) : pick(deskIds);
    nodes.push({ id, type: 'customer', label: `customer-${i}`, score: 0, state: 'alive' });
    edges.push({ source: id, target: desk, type: 'job', job: hex64(rand) });
    if (i < n * 0.2) edges.push({ source: id, target: desk, type: 'payment', job: hex64(rand) });
  }
  return { nodes, edges };
}

/** The id of an agent's desk in a synthetic snapshot. */
function deskOf(snapshot: SwarmSnapshot, agent: SwarmSnapshot['nodes'][number]): string {
  return agent.parent ?? snapshot.nodes.find((n) => n.type === 'desk')?.id ?? '';
}

/** Unsigned-looking events (the graph reads, it does not verify) that pulse existing edges of the snapshot. */
export function syntheticEvents(snapshot: SwarmSnapshot, count: number, seed = 11): NostrEvent[] {
  const rand = prng(seed);
  const agents = snapshot.nodes.filter((n) => n.type === 'agent');
  const now = Math.floor(Date.now() / 1000);
  const out: NostrEvent[] = [];
  for (let i = 0; i < count && agents.length > 0; i++) {
    const agent = agents[Math.floor(rand() * agents.length)] as SwarmSnapshot['nodes'][number];
    const job = hex64(rand);
    out.push({
      id: hex64(rand),
      pubkey: deskOf(snapshot, agent),
      created_at: now,
      kind: 7600,
      tags: [
        ['e', job],
        ['p', agent.id],
        ['k', '5050'],
        ['attempt', '1'],
      ],
      content: '',
      sig: '0'.repeat(128),
    });
  }
  return out;
}

/** A relay-like source fed by hand: every subscription gets every event emitted (filters are not applied). */
export class FakeRelaySource implements Subscribe {
  private readonly subs = new Set<SubscriptionHandlers>();
  /** Filters of the subscriptions made, in order. */
  readonly requests: unknown[] = [];

  subscribe(filters: unknown[], handlers: SubscriptionHandlers): Subscription {
    this.requests.push(filters);
    this.subs.add(handlers);
    handlers.onEose?.();
    return { close: () => this.subs.delete(handlers) };
  }

  async query(): Promise<NostrEvent[]> {
    return [];
  }

  get subscribers(): number {
    return this.subs.size;
  }

  emit(event: NostrEvent): void {
    for (const h of this.subs) h.onEvent(event);
  }
}
