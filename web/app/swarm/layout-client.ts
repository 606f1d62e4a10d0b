/**
 * The page's side of the layout worker: sends the graph's structure when it changed (at most once a frame),
 * asks for one tick per frame only once the last positions came back, and keeps `positions` (x, y, z per
 * node, in the compiled graph's order) valid for the graph drawn now: on a structure change the known nodes
 * keep their place and the new ones start beside a neighbour until the worker's answer arrives. If the worker
 * cannot start, the graph still draws, on a fixed spiral (`failed` says so).
 */
import type { CompiledGraph } from './graph-model.ts';
import type { FromWorker, ToWorker } from './layout-protocol.ts';
import { nodeRadius } from './palette.ts';

export class LayoutClient {
  /** x, y, z per node of the last synced graph. */
  positions: Float32Array = new Float32Array(0);
  /** Bumped when positions changed (renderers redraw). */
  frame = 0;
  failed = false;
  settled = false;
  private worker: Worker | undefined;
  private inFlight = false;
  private spare: ArrayBuffer | undefined;
  private version = -1;
  private ids: string[] = [];
  private dims: 2 | 3 = 2;

  constructor(
    url: string,
    private readonly onError: (message: string) => void,
  ) {
    try {
      this.worker = new Worker(url, { type: 'module', name: 'swarm-layout' });
      this.worker.onmessage = (ev: MessageEvent<FromWorker>) => this.receive(ev.data);
      this.worker.onerror = (ev) => {
        ev.preventDefault();
        this.fail(`layout worker failed: ${ev.message || url}`);
      };
    } catch (err) {
      this.fail(`layout worker unavailable: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Sends the graph when its structure (or the dimension count) changed since the last call. */
  sync(graph: CompiledGraph, dims: 2 | 3): void {
    if (graph.version === this.version && dims === this.dims) return;
    const n = graph.nodes.length;
    const ids = graph.nodes.map((node) => node.id);
    if (graph.version !== this.version) this.positions = carryOver(this.ids, this.positions, graph, ids);
    this.ids = ids;
    this.version = graph.version;
    this.dims = dims;
    this.settled = false;
    this.frame++;
    if (this.failed || !this.worker) {
      this.spiral(n);
      return;
    }
    const radius = new Float32Array(n);
    graph.nodes.forEach((node, i) => {
      radius[i] = nodeRadius(node);
    });
    this.post({
      type: 'graph',
      version: graph.version,
      ids,
      source: graph.source.slice(),
      target: graph.target.slice(),
      radius,
      dims,
    });
  }

  /** Call once per animation frame: asks for the next tick unless one is out or the layout has settled. */
  tick(): void {
    if (!this.worker || this.failed || this.inFlight || this.settled) return;
    this.inFlight = true;
    const spare = this.spare;
    this.spare = undefined;
    if (spare) this.worker.postMessage({ type: 'tick', spare } satisfies ToWorker, [spare]);
    else this.post({ type: 'tick' });
  }

  /** Wakes a settled layout (after a drag, or to spread a new arrival). */
  reheat(alpha = 0.3): void {
    this.settled = false;
    this.post({ type: 'reheat', alpha });
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = undefined;
  }

  private post(msg: ToWorker): void {
    this.worker?.postMessage(msg);
  }

  private receive(msg: FromWorker): void {
    this.inFlight = false;
    if (msg.version !== this.version || msg.positions.length !== this.positions.length) {
      // An answer for the structure before the last sync: its buffer is still good as a spare.
      this.spare = msg.positions.buffer as ArrayBuffer;
      return;
    }
    this.spare = this.positions.buffer as ArrayBuffer;
    this.positions = msg.positions;
    this.settled = msg.settled;
    this.frame++;
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.worker?.terminate();
    this.worker = undefined;
    this.spiral(this.ids.length);
    this.frame++;
    this.onError(message);
  }

  /** The fallback layout: a sunflower spiral, the first nodes (desks, from the snapshot) in the middle. */
  private spiral(n: number): void {
    if (this.positions.length !== n * 3) this.positions = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const r = 14 * Math.sqrt(i + 0.5);
      const a = i * Math.PI * (3 - Math.sqrt(5));
      this.positions[i * 3] = r * Math.cos(a);
      this.positions[i * 3 + 1] = r * Math.sin(a);
      this.positions[i * 3 + 2] = this.dims === 3 ? ((i * 37) % 100) - 50 : 0;
    }
  }
}

/** Positions for the new graph: known nodes where they were, new ones beside a placed neighbour. */
function carryOver(oldIds: string[], old: Float32Array, graph: CompiledGraph, ids: string[]): Float32Array {
  const out = new Float32Array(ids.length * 3);
  const where = new Map<string, number>();
  oldIds.forEach((id, i) => {
    where.set(id, i);
  });
  const placed = new Uint8Array(ids.length);
  ids.forEach((id, i) => {
    const j = where.get(id);
    if (j === undefined || j * 3 + 2 >= old.length) return;
    out[i * 3] = old[j * 3] ?? 0;
    out[i * 3 + 1] = old[j * 3 + 1] ?? 0;
    out[i * 3 + 2] = old[j * 3 + 2] ?? 0;
    placed[i] = 1;
  });
  for (let l = 0; l < graph.source.length; l++) {
    const s = graph.source[l] ?? 0;
    const t = graph.target[l] ?? 0;
    const [fresh, from] = placed[s] && !placed[t] ? [t, s] : placed[t] && !placed[s] ? [s, t] : [-1, -1];
    if (fresh < 0) continue;
    const angle = (fresh * 2.399) % (2 * Math.PI);
    out[fresh * 3] = (out[from * 3] ?? 0) + 24 * Math.cos(angle);
    out[fresh * 3 + 1] = (out[from * 3 + 1] ?? 0) + 24 * Math.sin(angle);
    out[fresh * 3 + 2] = out[from * 3 + 2] ?? 0;
    placed[fresh] = 1;
  }
  return out;
}
