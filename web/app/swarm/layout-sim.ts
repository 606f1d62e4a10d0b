/**
 * The force layout the worker runs (pure: no worker API, testable in node): d3-force's links, many-body
 * repulsion and a gentle pull to the centre in x/y, and, for the 3D view, a third axis of our own (links pull
 * their ends to the same depth, each node drifts to a depth of its own so the cloud has thickness). Node
 * positions survive structure changes by id: a new node starts next to a neighbour already placed.
 */
import {
  type Force,
  forceCollide,
  forceLink,
  forceManyBody,
  forceSimulation,
  forceX,
  forceY,
  type Simulation,
  type SimulationLinkDatum,
  type SimulationNodeDatum,
} from 'd3-force';
import type { GraphMessage } from './layout-protocol.ts';

export interface LayoutNode extends SimulationNodeDatum {
  id: string;
  r: number;
  z: number;
  vz: number;
  /** The depth it drifts to in 3D. */
  home: number;
}

type LayoutLink = SimulationLinkDatum<LayoutNode>;

/** Collision costs about what the repulsion does: only for graphs small enough to afford both. */
const COLLIDE_MAX_NODES = 1500;

export class ForceLayout {
  readonly sim: Simulation<LayoutNode, LayoutLink>;
  version = -1;
  dims: 2 | 3 = 2;
  private nodes: LayoutNode[] = [];
  private links: LayoutLink[] = [];
  private readonly byId = new Map<string, LayoutNode>();

  constructor() {
    this.sim = forceSimulation<LayoutNode, LayoutLink>([])
      .stop()
      .alphaDecay(1 - 0.001 ** (1 / 300))
      .force('x', forceX<LayoutNode>(0).strength(0.04))
      .force('y', forceY<LayoutNode>(0).strength(0.04))
      .force('charge', forceManyBody<LayoutNode>().strength(-45).theta(0.9).distanceMax(600));
  }

  get alpha(): number {
    return this.sim.alpha();
  }

  get settled(): boolean {
    return this.sim.alpha() < this.sim.alphaMin();
  }

  get size(): number {
    return this.nodes.length;
  }

  setGraph(msg: GraphMessage): void {
    const before = this.byId.size;
    const next: LayoutNode[] = [];
    const added: number[] = [];
    const seen = new Set<string>();
    msg.ids.forEach((id, i) => {
      seen.add(id);
      let n = this.byId.get(id);
      if (!n) {
        n = { id, r: 4, z: 0, vz: 0, home: depthOf(id) };
        this.byId.set(id, n);
        added.push(i);
      }
      n.r = msg.radius[i] ?? 4;
      next.push(n);
    });
    for (const id of [...this.byId.keys()]) if (!seen.has(id)) this.byId.delete(id);
    // A new node starts beside a placed neighbour (d3 places the others on its phyllotaxis disc).
    for (let l = 0; l < msg.source.length; l++) {
      const a = next[msg.source[l] ?? -1];
      const b = next[msg.target[l] ?? -1];
      if (!a || !b) continue;
      for (const [fresh, old] of [
        [a, b],
        [b, a],
      ] as const)
        if (fresh.x === undefined && old.x !== undefined && old.y !== undefined) {
          fresh.x = old.x + jitter(fresh.id, 1) * 20;
          fresh.y = old.y + jitter(fresh.id, 2) * 20;
          fresh.z = old.z;
        }
    }
    this.nodes = next;
    this.links = [];
    for (let l = 0; l < msg.source.length; l++) {
      const s = msg.source[l];
      const t = msg.target[l];
      if (s !== undefined && t !== undefined && s !== t && s < next.length && t < next.length)
        this.links.push({ source: s, target: t });
    }
    this.sim.nodes(this.nodes);
    this.sim.force('link', forceLink<LayoutNode, LayoutLink>(this.links).distance(36).iterations(1));
    this.sim.force(
      'collide',
      this.nodes.length <= COLLIDE_MAX_NODES ? forceCollide<LayoutNode>((n) => n.r + 2).iterations(1) : null,
    );
    if (msg.dims === 3) this.sim.force('z', depthForce(this.links, this.spread()));
    this.setDims(msg.dims);
    this.version = msg.version;
    // Wake the layout as much as the change asks: all of it on the first graph, a little for a new node.
    const share = before === 0 ? 1 : Math.min(1, added.length / Math.max(1, this.nodes.length));
    const wanted = before === 0 ? 1 : Math.max(0.12, Math.min(0.6, share * 3));
    if (added.length > 0 || before !== this.nodes.length) this.sim.alpha(Math.max(this.sim.alpha(), wanted));
  }

  setDims(dims: 2 | 3): void {
    if (dims === this.dims && (dims === 2 || this.sim.force('z'))) return;
    this.dims = dims;
    if (dims === 3) {
      const spread = this.spread();
      for (const n of this.nodes) if (n.z === 0) n.z = n.home * spread;
      this.sim.force('z', depthForce(this.links, spread));
      this.sim.alpha(Math.max(this.sim.alpha(), 0.3));
    } else {
      this.sim.force('z', null);
      for (const n of this.nodes) {
        n.z = 0;
        n.vz = 0;
      }
    }
  }

  private spread(): number {
    return 12 * Math.sqrt(Math.max(1, this.nodes.length));
  }

  reheat(alpha: number): void {
    this.sim.alpha(Math.max(this.sim.alpha(), alpha));
  }

  /** One step (does nothing once settled). */
  tick(): void {
    if (!this.settled) this.sim.tick();
  }

  /** x, y, z per node into `out` (length 3 × size), in the order of the last graph's ids. */
  write(out: Float32Array): void {
    const nodes = this.nodes;
    for (let i = 0, j = 0; i < nodes.length; i++, j += 3) {
      const n = nodes[i] as LayoutNode;
      out[j] = n.x ?? 0;
      out[j + 1] = n.y ?? 0;
      out[j + 2] = n.z;
    }
  }
}

/**
 * The third axis: links pull both ends to one depth (weighted like d3's link force, by the ends' degrees, so a
 * desk with hundreds of agents does not overshoot), each node drifts to its own depth; integrates z itself.
 */
function depthForce(links: LayoutLink[], spread: number): Force<LayoutNode, LayoutLink> {
  let nodes: LayoutNode[] = [];
  const degree = new Map<LayoutNode, number>();
  const force = (alpha: number): void => {
    for (const l of links) {
      const s = l.source as LayoutNode;
      const t = l.target as LayoutNode;
      if (typeof s !== 'object' || typeof t !== 'object') continue;
      const ds = degree.get(s) ?? 1;
      const dt = degree.get(t) ?? 1;
      const d = ((t.z - s.z) * 0.3 * alpha) / Math.min(ds, dt);
      const bias = ds / (ds + dt);
      s.vz += d * (1 - bias);
      t.vz -= d * bias;
    }
    for (const n of nodes) {
      n.vz += (n.home * spread - n.z) * 0.03 * alpha;
      n.vz *= 0.6;
      n.z += n.vz;
    }
  };
  force.initialize = (ns: LayoutNode[]) => {
    nodes = ns;
    degree.clear();
    for (const l of links)
      for (const end of [l.source, l.target])
        if (typeof end === 'object') degree.set(end, (degree.get(end) ?? 0) + 1);
  };
  return force;
}

/** A depth in [-1, 1] from the id (stable: the same node keeps its depth). */
function depthOf(id: string): number {
  return jitter(id, 0);
}

function jitter(id: string, salt: number): number {
  let h = 2166136261 ^ salt;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return ((h >>> 0) / 0xffffffff) * 2 - 1;
}
