/**
 * The swarm graph as data (pure: no DOM, no clock of its own): nodes (desks, agents, peer instances and their
 * agents, customers) and edges (jobs, assignments, payments, federation, bids, labels) from the server's
 * SwarmSnapshot, then changed by relay events as they arrive (swarm-events.ts). Bounded: an edge not renewed
 * for `edgeTtlMs` fades and is dropped (snapshot structure excepted), a customer left without edges goes, and
 * beyond `maxNodes` the least recently seen nodes are evicted (the home desk never).
 *
 * Renderers read the objects in place (no copies per frame): `compile()` gives arrays in a stable order,
 * rebuilt only when `version` changes (a node or edge added or removed); state, score and pulse changes
 * mutate the objects without a new version.
 */
import type { SwarmSnapshot } from '../../api-types.ts';
import type { SwarmEvent } from './swarm-events.ts';

export type NodeType = 'desk' | 'agent' | 'instance' | 'customer';
export type NodeState = 'alive' | 'busy' | 'dead';
export type EdgeType = 'job' | 'assignment' | 'payment' | 'federation' | 'bid' | 'label';
export const EDGE_TYPES: readonly EdgeType[] = ['job', 'assignment', 'payment', 'federation', 'bid', 'label'];

export interface GraphNode {
  id: string;
  type: NodeType;
  /** Untrusted text (a profile name): renderers draw it as text only. */
  label: string;
  /** 0-100: the node's size. */
  score: number;
  state: NodeState;
  parent?: string;
  /** Unix ms of the latest event about it (eviction order). */
  seenAt: number;
  /** Unix ms of its latest heartbeat, once one came (then it is dead when beats stop). */
  beatAt?: number;
}

export interface GraphEdge {
  key: string;
  source: string;
  target: string;
  type: EdgeType;
  /** The latest job this edge carried (a click opens it). */
  job?: string;
  /** Unix ms of the latest event on it: the pulse runs from here for `pulseMs`, the fade for `edgeTtlMs`. */
  at: number;
  /** The latest event on it was a failure (error feedback). */
  failed: boolean;
  /** Snapshot structure (a desk's agents, federation): never fades. */
  persistent: boolean;
}

export interface GraphOptions {
  maxNodes: number;
  /** An edge not renewed for this long is dropped. */
  edgeTtlMs: number;
  /** How long an edge pulses after an event. */
  pulseMs: number;
  /** An agent whose heartbeats stopped this long ago is dead. */
  deadAfterMs: number;
}

export const DEFAULT_GRAPH_OPTIONS: GraphOptions = {
  maxNodes: 2000,
  edgeTtlMs: 5 * 60_000,
  pulseMs: 4000,
  deadAfterMs: 35_000,
};

/** What an event did, for the live list: text (safe to render as text) and the page it links to. */
export interface GraphChange {
  text: string;
  href: string;
}

export interface CompiledGraph {
  version: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Per edge: its source's and target's index in `nodes`. */
  source: Int32Array;
  target: Int32Array;
}

const short = (id: string): string => id.slice(0, 8);

export class SwarmGraph {
  readonly options: GraphOptions;
  readonly nodes = new Map<string, GraphNode>();
  readonly edges = new Map<string, GraphEdge>();
  /** Bumped whenever a node or an edge is added or removed. */
  version = 0;
  /** The instance's own desk (the snapshot's first desk, or the first desk an event shows). */
  home: string | undefined;
  /** job id → the desk that runs it (from its auction or assignment), to draw bids and results. */
  private readonly jobDesk = new Map<string, string>();
  private compiled: CompiledGraph | undefined;

  constructor(options: Partial<GraphOptions> = {}) {
    this.options = { ...DEFAULT_GRAPH_OPTIONS, ...options };
  }

  /** Replaces everything with the snapshot's nodes and edges. */
  load(snapshot: SwarmSnapshot, now: number): void {
    this.nodes.clear();
    this.edges.clear();
    this.jobDesk.clear();
    this.home = undefined;
    for (const n of snapshot.nodes) {
      const state: NodeState = n.state === 'busy' || n.state === 'dead' ? n.state : 'alive';
      this.nodes.set(n.id, {
        id: n.id,
        type: n.type,
        label: n.label,
        score: clampScore(n.score),
        state,
        seenAt: now,
        ...(n.parent !== undefined ? { parent: n.parent } : {}),
      });
      if (n.type === 'desk' && this.home === undefined && n.parent === undefined) this.home = n.id;
    }
    for (const e of snapshot.edges) {
      if (!this.nodes.has(e.source) || !this.nodes.has(e.target)) continue;
      const edge = this.edge(e.type, e.source, e.target, now - this.options.pulseMs, e.job);
      edge.persistent = e.type === 'federation' || (e.type === 'assignment' && e.job === undefined);
    }
    this.bound();
    this.version++;
  }

  /** Applies one relay event; returns what it did (for the live list), or undefined when it showed nothing. */
  apply(ev: SwarmEvent, now: number): GraphChange | undefined {
    switch (ev.type) {
      case 'request': {
        this.ensure(ev.customer, 'customer', now);
        if (this.home !== undefined && this.home !== ev.customer)
          this.edge('job', ev.customer, this.home, now, ev.job);
        return this.change(
          `job ${short(ev.job)} (kind ${ev.jobKind}) from ${this.name(ev.customer)}`,
          ev.job,
        );
      }
      case 'auction-open': {
        this.desk(ev.desk, now);
        this.jobDesk.set(ev.job, ev.desk);
        if (ev.customer) {
          this.ensure(ev.customer, 'customer', now);
          this.edge('job', ev.customer, ev.desk, now, ev.job);
        }
        return this.change(`auction opened for job ${short(ev.job)}, ${ev.bidders.length} invited`, ev.job);
      }
      case 'bid': {
        const desk = this.jobDesk.get(ev.job) ?? this.home;
        this.ensure(ev.agent, 'agent', now);
        if (desk !== undefined && desk !== ev.agent) this.edge('bid', ev.agent, desk, now, ev.job);
        return this.change(`sealed bid from ${this.name(ev.agent)} on job ${short(ev.job)}`, ev.job);
      }
      case 'auction-record': {
        this.desk(ev.desk, now);
        if (!ev.winner)
          return this.change(`auction for job ${short(ev.job)} closed without a valid bid`, ev.job);
        this.ensure(ev.winner, 'agent', now);
        this.edge('bid', ev.winner, ev.desk, now, ev.job);
        const price = ev.priceMsats !== undefined ? ` at ${Math.round(ev.priceMsats / 1000)} sats` : '';
        return this.change(`${this.name(ev.winner)} won job ${short(ev.job)}${price}`, ev.job);
      }
      case 'assignment': {
        this.desk(ev.desk, now);
        this.jobDesk.set(ev.job, ev.desk);
        const agent = this.ensure(ev.agent, 'agent', now);
        agent.state = 'busy';
        this.edge('assignment', ev.desk, ev.agent, now, ev.job);
        if (ev.customer) {
          this.ensure(ev.customer, 'customer', now);
          this.edge('job', ev.customer, ev.desk, now, ev.job);
        }
        return this.change(`job ${short(ev.job)} assigned to ${this.name(ev.agent)}`, ev.job);
      }
      case 'feedback':
        return this.feedback(ev, now);
      case 'result': {
        const agent = this.ensure(ev.agent, 'agent', now);
        if (agent.state === 'busy') agent.state = 'alive';
        const desk = this.jobDesk.get(ev.job) ?? this.home;
        if (desk !== undefined && desk !== ev.agent) {
          this.edge('assignment', desk, ev.agent, now, ev.job);
          if (ev.amountMsats !== undefined) this.edge('payment', desk, ev.agent, now, ev.job);
        }
        return this.change(`result for job ${short(ev.job)} from ${this.name(ev.agent)}`, ev.job);
      }
      case 'label': {
        const author = this.ensure(ev.author, 'customer', now);
        this.ensure(ev.subject, 'agent', now);
        this.edge(ev.paid ? 'payment' : 'label', author.id, ev.subject, now, ev.job);
        const text = `${this.name(ev.author)} labelled ${this.name(ev.subject)} ${ev.label}`;
        return ev.job ? this.change(text, ev.job) : { text, href: `/agents/${ev.subject}` };
      }
      case 'heartbeat': {
        const fresh = !this.nodes.has(ev.agent);
        const agent = this.ensure(ev.agent, 'agent', now);
        const wasDead = agent.state === 'dead';
        agent.state = ev.busy ? 'busy' : 'alive';
        agent.beatAt = now;
        return fresh || wasDead
          ? { text: `${this.name(ev.agent)} is alive`, href: `/agents/${ev.agent}` }
          : undefined;
      }
      case 'forward': {
        this.desk(ev.desk, now);
        this.ensure(ev.peer, 'instance', now);
        this.edge('federation', ev.desk, ev.peer, now, ev.job);
        return this.change(`job ${short(ev.job)} forwarded to ${this.name(ev.peer)}`, ev.job);
      }
    }
  }

  /** Drops faded edges and stale customers, marks silent agents dead. Call now and then (once a second). */
  prune(now: number): void {
    const { edgeTtlMs, deadAfterMs } = this.options;
    let changed = false;
    for (const [key, e] of this.edges)
      if (!e.persistent && now - e.at > edgeTtlMs) {
        this.edges.delete(key);
        changed = true;
      }
    for (const n of this.nodes.values())
      if (n.beatAt !== undefined && n.state !== 'dead' && now - n.beatAt > deadAfterMs) n.state = 'dead';
    if (changed) {
      const linked = new Set<string>();
      for (const e of this.edges.values()) {
        linked.add(e.source);
        linked.add(e.target);
      }
      for (const [id, n] of this.nodes)
        if (n.type === 'customer' && !linked.has(id) && now - n.seenAt > edgeTtlMs) this.nodes.delete(id);
      this.version++;
    }
  }

  /** 1 when the edge's latest event is fresh, down to 0.15 just before it is dropped. */
  edgeAlpha(e: GraphEdge, now: number): number {
    if (e.persistent) return 1;
    const age = (now - e.at) / this.options.edgeTtlMs;
    return age <= 0 ? 1 : age >= 1 ? 0.15 : 1 - 0.85 * age;
  }

  /** Where the edge's pulse is (0 at the source, 1 at the target), or -1 when it is not pulsing. */
  pulse(e: GraphEdge, now: number): number {
    const age = now - e.at;
    if (age < 0 || age >= this.options.pulseMs) return -1;
    return (age % 1000) / 1000;
  }

  /** Nodes and edges as arrays with index-resolved ends; the same object until the next structural change. */
  compile(): CompiledGraph {
    if (this.compiled?.version === this.version) return this.compiled;
    const nodes = [...this.nodes.values()];
    const index = new Map<string, number>();
    nodes.forEach((n, i) => {
      index.set(n.id, i);
    });
    const edges = [...this.edges.values()].filter((e) => index.has(e.source) && index.has(e.target));
    const source = new Int32Array(edges.length);
    const target = new Int32Array(edges.length);
    edges.forEach((e, i) => {
      source[i] = index.get(e.source) ?? 0;
      target[i] = index.get(e.target) ?? 0;
    });
    this.compiled = { version: this.version, nodes, edges, source, target };
    return this.compiled;
  }

  private feedback(ev: Extract<SwarmEvent, { type: 'feedback' }>, now: number): GraphChange | undefined {
    const from = this.nodes.get(ev.from) ?? this.ensure(ev.from, 'agent', now);
    from.seenAt = now;
    const desk = this.jobDesk.get(ev.job) ?? this.home;
    const isAgent = from.type === 'agent';
    switch (ev.status) {
      case 'payment-required': {
        if (!ev.customer) return undefined;
        this.ensure(ev.customer, 'customer', now);
        this.edge('payment', ev.customer, ev.from, now, ev.job);
        return this.change(`${this.name(ev.from)} asks payment for job ${short(ev.job)}`, ev.job);
      }
      case 'processing':
      case 'partial':
        if (isAgent) {
          from.state = 'busy';
          if (desk !== undefined && desk !== ev.from) this.edge('assignment', desk, ev.from, now, ev.job);
        } else if (ev.customer && this.nodes.has(ev.customer))
          this.edge('job', ev.customer, ev.from, now, ev.job);
        return this.change(`${this.name(ev.from)} is processing job ${short(ev.job)}`, ev.job);
      case 'success':
      case 'error': {
        const failed = ev.status === 'error';
        if (isAgent && from.state === 'busy') from.state = 'alive';
        const edge =
          isAgent && desk !== undefined && desk !== ev.from
            ? this.edge('assignment', desk, ev.from, now, ev.job)
            : ev.customer && ev.customer !== ev.from
              ? this.edge('job', this.ensure(ev.customer, 'customer', now).id, ev.from, now, ev.job)
              : undefined;
        if (edge) edge.failed = failed;
        const what = failed ? 'failed' : 'succeeded';
        return this.change(`job ${short(ev.job)} ${what} at ${this.name(ev.from)}`, ev.job);
      }
    }
  }

  private change(text: string, job: string): GraphChange {
    return { text, href: `/jobs/${job}` };
  }

  private name(id: string): string {
    const n = this.nodes.get(id);
    return n && n.label !== '' ? n.label : short(id);
  }

  private desk(id: string, now: number): GraphNode {
    const n = this.ensure(id, this.home === undefined || this.home === id ? 'desk' : 'instance', now);
    if (this.home === undefined && n.type === 'desk') this.home = id;
    return n;
  }

  private ensure(id: string, type: NodeType, now: number): GraphNode {
    let n = this.nodes.get(id);
    if (n) {
      n.seenAt = now;
      // A pubkey first seen as a customer that turns out to do work is an agent.
      if (n.type === 'customer' && type !== 'customer') n.type = type;
      return n;
    }
    n = { id, type, label: short(id), score: 0, state: 'alive', seenAt: now };
    this.nodes.set(id, n);
    this.version++;
    this.bound(id);
    return n;
  }

  private edge(type: EdgeType, source: string, target: string, now: number, job?: string): GraphEdge {
    const key = `${type}|${source}|${target}`;
    let e = this.edges.get(key);
    if (!e) {
      e = { key, source, target, type, at: now, failed: false, persistent: false };
      this.edges.set(key, e);
      this.version++;
    }
    e.at = Math.max(e.at, now);
    e.failed = false;
    if (job !== undefined) e.job = job;
    return e;
  }

  /** Evicts the least recently seen nodes beyond maxNodes (customers first, the home desk never). */
  private bound(keep?: string): void {
    const excess = this.nodes.size - this.options.maxNodes;
    if (excess <= 0) return;
    // Evict a tenth at once so a stream of new customers does not sort on every event.
    const drop = Math.max(excess, Math.ceil(this.options.maxNodes / 10));
    const order = [...this.nodes.values()]
      .filter((n) => n.id !== this.home && n.id !== keep)
      .sort((a, b) => rank(a) - rank(b) || a.seenAt - b.seenAt)
      .slice(0, Math.min(drop, this.nodes.size - 1));
    const gone = new Set(order.map((n) => n.id));
    for (const id of gone) this.nodes.delete(id);
    for (const [key, e] of this.edges) if (gone.has(e.source) || gone.has(e.target)) this.edges.delete(key);
    this.version++;
  }
}

function rank(n: GraphNode): number {
  return n.type === 'customer' ? 0 : n.type === 'agent' ? 1 : 2;
}

function clampScore(s: number): number {
  return Number.isFinite(s) ? Math.min(100, Math.max(0, s)) : 0;
}
