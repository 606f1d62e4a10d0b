/**
 * The 2D view's pan and zoom (pure arithmetic, testable in node) and hit testing: which node or job-carrying
 * edge is under a point. World coordinates are the layout's; screen coordinates are CSS pixels from the
 * canvas's top left corner. Until the user pans or zooms the view keeps fitting the whole graph (`auto`).
 */
import type { CompiledGraph } from './graph-model.ts';
import { nodeRadius } from './palette.ts';

export const MIN_ZOOM = 0.02;
export const MAX_ZOOM = 12;
/** Fitting a small graph does not blow it up beyond this. */
export const MAX_FIT_ZOOM = 2;

export class Viewport {
  /** Scale: screen pixels per world unit. */
  k = 1;
  /** Screen offset of the world origin from the canvas centre. */
  x = 0;
  y = 0;
  width = 1;
  height = 1;
  /** Following the graph's bounds (until the user pans or zooms). */
  auto = true;

  resize(width: number, height: number): void {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
  }

  screenX(wx: number): number {
    return this.width / 2 + this.x + wx * this.k;
  }

  screenY(wy: number): number {
    return this.height / 2 + this.y + wy * this.k;
  }

  worldX(sx: number): number {
    return (sx - this.width / 2 - this.x) / this.k;
  }

  worldY(sy: number): number {
    return (sy - this.height / 2 - this.y) / this.k;
  }

  /** Zooms by `factor` keeping the world point under (sx, sy) where it is. */
  zoomAt(factor: number, sx: number, sy: number): void {
    const wx = this.worldX(sx);
    const wy = this.worldY(sy);
    this.k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.k * factor));
    this.x = sx - this.width / 2 - wx * this.k;
    this.y = sy - this.height / 2 - wy * this.k;
    this.auto = false;
  }

  pan(dx: number, dy: number): void {
    this.x += dx;
    this.y += dy;
    this.auto = false;
  }

  reset(): void {
    this.auto = true;
  }

  /**
   * Moves towards showing every position (x, y of stride 3) with a margin; `ease` 1 jumps there.
   * Returns whether the view changed noticeably.
   */
  fit(positions: Float32Array, ease = 0.2): boolean {
    const n = Math.floor(positions.length / 3);
    if (n === 0) return false;
    let minX = Number.POSITIVE_INFINITY;
    let minY = Number.POSITIVE_INFINITY;
    let maxX = Number.NEGATIVE_INFINITY;
    let maxY = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n * 3; i += 3) {
      const px = positions[i] ?? 0;
      const py = positions[i + 1] ?? 0;
      if (px < minX) minX = px;
      if (px > maxX) maxX = px;
      if (py < minY) minY = py;
      if (py > maxY) maxY = py;
    }
    const margin = 40;
    const spanX = Math.max(maxX - minX, 60);
    const spanY = Math.max(maxY - minY, 60);
    const k = Math.min(
      MAX_FIT_ZOOM,
      Math.max(MIN_ZOOM, Math.min((this.width - margin) / spanX, (this.height - margin) / spanY)),
    );
    const x = -((minX + maxX) / 2) * k;
    const y = -((minY + maxY) / 2) * k;
    const moved = Math.abs(k - this.k) / this.k > 0.002 || Math.abs(x - this.x) + Math.abs(y - this.y) > 0.5;
    this.k += (k - this.k) * ease;
    this.x += (x - this.x) * ease;
    this.y += (y - this.y) * ease;
    return moved;
  }
}

/** The node whose disc (plus `slop` world units) holds (wx, wy), nearest first; -1 when none. */
export function hitNode(
  graph: CompiledGraph,
  positions: Float32Array,
  wx: number,
  wy: number,
  slop: number,
): number {
  let best = -1;
  let bestD = Number.POSITIVE_INFINITY;
  const n = Math.min(graph.nodes.length, Math.floor(positions.length / 3));
  for (let i = 0; i < n; i++) {
    const node = graph.nodes[i];
    if (!node) continue;
    const dx = (positions[i * 3] ?? 0) - wx;
    const dy = (positions[i * 3 + 1] ?? 0) - wy;
    const d = Math.sqrt(dx * dx + dy * dy);
    if (d <= nodeRadius(node) + slop && d < bestD) {
      best = i;
      bestD = d;
    }
  }
  return best;
}

/** The edge carrying a job whose segment passes within `tolerance` world units of (wx, wy); -1 when none. */
export function hitEdge(
  graph: CompiledGraph,
  positions: Float32Array,
  wx: number,
  wy: number,
  tolerance: number,
): number {
  let best = -1;
  let bestD = tolerance;
  for (let i = 0; i < graph.edges.length; i++) {
    if (graph.edges[i]?.job === undefined) continue;
    const s = (graph.source[i] ?? 0) * 3;
    const t = (graph.target[i] ?? 0) * 3;
    const d = segmentDistance(
      wx,
      wy,
      positions[s] ?? 0,
      positions[s + 1] ?? 0,
      positions[t] ?? 0,
      positions[t + 1] ?? 0,
    );
    if (d <= bestD) {
      best = i;
      bestD = d;
    }
  }
  return best;
}

export function segmentDistance(
  px: number,
  py: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  const cx = ax + t * dx - px;
  const cy = ay + t * dy - py;
  return Math.sqrt(cx * cx + cy * cy);
}

/** Where a click on a node or an edge leads: an agent's profile, the peers page for a desk, a job's page. */
export function nodeHref(graph: CompiledGraph, index: number): string | undefined {
  const node = graph.nodes[index];
  if (!node) return undefined;
  if (node.type === 'desk' || node.type === 'instance') return '/peers';
  return `/agents/${node.id}`;
}

export function edgeHref(graph: CompiledGraph, index: number): string | undefined {
  const job = graph.edges[index]?.job;
  return job === undefined ? undefined : `/jobs/${job}`;
}
