/**
 * The 2D view: draws the compiled graph on a canvas, devicePixelRatio aware. One path per batch (edges by type
 * and fade level, pulsing edges by type, pulse dots by type, nodes by colour and shape), batches sorted with a
 * counting sort into arrays kept between frames: nothing is allocated per node or edge per frame. Labels (drawn
 * with fillText: text, never markup) only when few nodes are shown or the view is zoomed in.
 */
import { type CompiledGraph, EDGE_TYPES, type EdgeType, type SwarmGraph } from './graph-model.ts';
import {
  BACKGROUND,
  EDGE_COLOURS,
  FAILED_EDGE_COLOUR,
  isDeskLike,
  LABEL_COLOUR,
  NODE_BUCKETS,
  NODE_COLOURS,
  nodeBucket,
  nodeRadius,
} from './palette.ts';
import type { Viewport } from './viewport.ts';

const TYPE_INDEX: Record<EdgeType, number> = {
  job: 0,
  assignment: 1,
  payment: 2,
  federation: 3,
  bid: 4,
  label: 5,
};
const TYPES = EDGE_TYPES.length;
/** Fade levels of resting edges. */
const LEVELS = 4;
const LEVEL_ALPHA = [0.18, 0.3, 0.45, 0.6];
/** Buckets: resting (type × level), then pulsing per type, then failed. */
const RESTING = TYPES * LEVELS;
const PULSING = RESTING;
const FAILED = RESTING + TYPES;
const EDGE_BUCKETS = FAILED + 1;
/** Node buckets: colour × shape (circle, square). */
const SHAPE_BUCKETS = NODE_BUCKETS.length * 2;
const TAU = Math.PI * 2;
/** Labels drawn at most (the nearest-to-top ones win: desks and agents first in the model's order). */
const MAX_LABELS = 250;

export class Canvas2dRenderer {
  private readonly ctx: CanvasRenderingContext2D;
  private dpr = 1;
  private edgeBucket = new Uint8Array(0);
  private edgeOrder = new Int32Array(0);
  private pulseAt = new Float32Array(0);
  private readonly edgeCount = new Int32Array(EDGE_BUCKETS);
  private readonly edgeStart = new Int32Array(EDGE_BUCKETS + 1);
  private nodeBucketOf = new Uint8Array(0);
  private nodeOrder = new Int32Array(0);
  private readonly nodeCount = new Int32Array(SHAPE_BUCKETS);
  private readonly nodeStart = new Int32Array(SHAPE_BUCKETS + 1);

  constructor(readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('no 2D canvas context');
    this.ctx = ctx;
  }

  /** Sizes the backing store to the CSS size times the device pixel ratio. */
  resize(width: number, height: number, dpr: number): void {
    this.dpr = dpr;
    const w = Math.max(1, Math.round(width * dpr));
    const h = Math.max(1, Math.round(height * dpr));
    if (this.canvas.width !== w) this.canvas.width = w;
    if (this.canvas.height !== h) this.canvas.height = h;
  }

  /** Draws one frame; returns whether some edge is pulsing (the caller keeps animating). */
  draw(
    model: SwarmGraph,
    graph: CompiledGraph,
    positions: Float32Array,
    view: Viewport,
    now: number,
  ): boolean {
    const ctx = this.ctx;
    const dpr = this.dpr;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    const nodeTotal = Math.min(graph.nodes.length, Math.floor(positions.length / 3));
    if (nodeTotal === 0) return false;
    const k = view.k;
    ctx.setTransform(
      dpr * k,
      0,
      0,
      dpr * k,
      dpr * (view.width / 2 + view.x),
      dpr * (view.height / 2 + view.y),
    );
    const animating = this.drawEdges(model, graph, positions, nodeTotal, k, now);
    this.drawNodes(graph, positions, nodeTotal, k);
    if (nodeTotal <= 150 || k >= 1.6) this.drawLabels(graph, positions, nodeTotal, k);
    return animating;
  }

  private drawEdges(
    model: SwarmGraph,
    graph: CompiledGraph,
    p: Float32Array,
    nodeTotal: number,
    k: number,
    now: number,
  ): boolean {
    const ctx = this.ctx;
    const m = graph.edges.length;
    if (this.edgeBucket.length < m) {
      this.edgeBucket = new Uint8Array(m * 2);
      this.edgeOrder = new Int32Array(m * 2);
      this.pulseAt = new Float32Array(m * 2);
    }
    const bucketOf = this.edgeBucket;
    const count = this.edgeCount;
    count.fill(0);
    let animating = false;
    for (let i = 0; i < m; i++) {
      const e = graph.edges[i];
      const s = graph.source[i] ?? 0;
      const t = graph.target[i] ?? 0;
      if (!e || s >= nodeTotal || t >= nodeTotal) {
        bucketOf[i] = 255;
        continue;
      }
      const pulse = model.pulse(e, now);
      this.pulseAt[i] = pulse;
      let b: number;
      if (pulse >= 0) {
        animating = true;
        b = e.failed ? FAILED : PULSING + TYPE_INDEX[e.type];
      } else if (e.failed) b = FAILED;
      else {
        const level = Math.min(LEVELS - 1, Math.floor(model.edgeAlpha(e, now) * LEVELS));
        b = TYPE_INDEX[e.type] * LEVELS + level;
      }
      bucketOf[i] = b;
      count[b] = (count[b] ?? 0) + 1;
    }
    const start = this.edgeStart;
    start[0] = 0;
    for (let b = 0; b < EDGE_BUCKETS; b++) start[b + 1] = (start[b] ?? 0) + (count[b] ?? 0);
    count.fill(0);
    const order = this.edgeOrder;
    for (let i = 0; i < m; i++) {
      const b = bucketOf[i] ?? 255;
      if (b === 255) continue;
      order[(start[b] ?? 0) + (count[b] ?? 0)] = i;
      count[b] = (count[b] ?? 0) + 1;
    }
    for (let b = 0; b < EDGE_BUCKETS; b++) {
      const from = start[b] ?? 0;
      const to = start[b + 1] ?? 0;
      if (from === to) continue;
      const type = b < RESTING ? Math.floor(b / LEVELS) : b < FAILED ? b - PULSING : -1;
      ctx.strokeStyle = type < 0 ? FAILED_EDGE_COLOUR : EDGE_COLOURS[EDGE_TYPES[type] as EdgeType];
      ctx.globalAlpha = b < RESTING ? (LEVEL_ALPHA[b % LEVELS] ?? 0.3) : 0.95;
      ctx.lineWidth = (b < RESTING ? 1 : 2) / k;
      ctx.beginPath();
      for (let o = from; o < to; o++) {
        const i = order[o] ?? 0;
        const s = (graph.source[i] ?? 0) * 3;
        const t = (graph.target[i] ?? 0) * 3;
        ctx.moveTo(p[s] ?? 0, p[s + 1] ?? 0);
        ctx.lineTo(p[t] ?? 0, p[t + 1] ?? 0);
      }
      ctx.stroke();
    }
    if (!animating) return false;
    // The pulses: a dot travelling from source to target, one path per colour.
    ctx.globalAlpha = 1;
    const dot = 3 / k;
    for (let b = PULSING; b <= FAILED; b++) {
      const from = start[b] ?? 0;
      const to = start[b + 1] ?? 0;
      if (from === to) continue;
      ctx.fillStyle = b === FAILED ? FAILED_EDGE_COLOUR : EDGE_COLOURS[EDGE_TYPES[b - PULSING] as EdgeType];
      ctx.beginPath();
      for (let o = from; o < to; o++) {
        const i = order[o] ?? 0;
        const f = this.pulseAt[i] ?? -1;
        if (f < 0) continue;
        const s = (graph.source[i] ?? 0) * 3;
        const t = (graph.target[i] ?? 0) * 3;
        const x = (p[s] ?? 0) + ((p[t] ?? 0) - (p[s] ?? 0)) * f;
        const y = (p[s + 1] ?? 0) + ((p[t + 1] ?? 0) - (p[s + 1] ?? 0)) * f;
        ctx.moveTo(x + dot, y);
        ctx.arc(x, y, dot, 0, TAU);
      }
      ctx.fill();
    }
    return true;
  }

  private drawNodes(graph: CompiledGraph, p: Float32Array, n: number, k: number): void {
    const ctx = this.ctx;
    if (this.nodeBucketOf.length < n) {
      this.nodeBucketOf = new Uint8Array(n * 2);
      this.nodeOrder = new Int32Array(n * 2);
    }
    const count = this.nodeCount;
    count.fill(0);
    for (let i = 0; i < n; i++) {
      const node = graph.nodes[i];
      if (!node) continue;
      const b = nodeBucket(node) * 2 + (isDeskLike(node) ? 1 : 0);
      this.nodeBucketOf[i] = b;
      count[b] = (count[b] ?? 0) + 1;
    }
    const start = this.nodeStart;
    start[0] = 0;
    for (let b = 0; b < SHAPE_BUCKETS; b++) start[b + 1] = (start[b] ?? 0) + (count[b] ?? 0);
    count.fill(0);
    for (let i = 0; i < n; i++) {
      const b = this.nodeBucketOf[i] ?? 0;
      this.nodeOrder[(start[b] ?? 0) + (count[b] ?? 0)] = i;
      count[b] = (count[b] ?? 0) + 1;
    }
    ctx.globalAlpha = 1;
    ctx.strokeStyle = BACKGROUND;
    ctx.lineWidth = 1.2 / k;
    for (let b = 0; b < SHAPE_BUCKETS; b++) {
      const from = start[b] ?? 0;
      const to = start[b + 1] ?? 0;
      if (from === to) continue;
      const square = b % 2 === 1;
      ctx.fillStyle = NODE_COLOURS[NODE_BUCKETS[b >> 1] ?? 'alive'];
      ctx.beginPath();
      for (let o = from; o < to; o++) {
        const i = this.nodeOrder[o] ?? 0;
        const node = graph.nodes[i];
        if (!node) continue;
        const r = nodeRadius(node);
        const x = p[i * 3] ?? 0;
        const y = p[i * 3 + 1] ?? 0;
        if (square) ctx.rect(x - r, y - r, r * 2, r * 2);
        else {
          ctx.moveTo(x + r, y);
          ctx.arc(x, y, r, 0, TAU);
        }
      }
      ctx.fill();
      // An outline separates touching discs; beyond a few hundred it costs more raster than it shows.
      if (square || to - from <= 300) ctx.stroke();
    }
  }

  private drawLabels(graph: CompiledGraph, p: Float32Array, n: number, k: number): void {
    const ctx = this.ctx;
    ctx.globalAlpha = 0.9;
    ctx.fillStyle = LABEL_COLOUR;
    ctx.font = `${11 / k}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    let drawn = 0;
    for (let i = 0; i < n && drawn < MAX_LABELS; i++) {
      const node = graph.nodes[i];
      if (!node || node.type === 'customer') continue;
      const r = nodeRadius(node);
      ctx.fillText(node.label.slice(0, 28), (p[i * 3] ?? 0) + r + 3 / k, p[i * 3 + 1] ?? 0);
      drawn++;
    }
  }
}
