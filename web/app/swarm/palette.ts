/**
 * How the swarm graph looks, shared by the 2D and 3D views and the legend: a node's size (by reputation),
 * its colour bucket (by state; customers apart), edge colours by type. Colours keep a 3:1 contrast or more
 * against the dark background (WCAG non-text contrast).
 */
import type { EdgeType, GraphNode } from './graph-model.ts';

export const BACKGROUND = '#10141c';
export const LABEL_COLOUR = '#e6e9ef';

/** Node colour buckets: one canvas path each. */
export const NODE_BUCKETS = ['alive', 'busy', 'dead', 'customer'] as const;
export type NodeBucket = (typeof NODE_BUCKETS)[number];
export const NODE_COLOURS: Record<NodeBucket, string> = {
  alive: '#3ddc84',
  busy: '#ffb020',
  dead: '#8a93a6',
  customer: '#5aa9ff',
};
export const NODE_BUCKET_LABELS: Record<NodeBucket, string> = {
  alive: 'alive',
  busy: 'busy',
  dead: 'dead (no heartbeat)',
  customer: 'customer',
};

export const EDGE_COLOURS: Record<EdgeType, string> = {
  job: '#5aa9ff',
  assignment: '#3ddc84',
  payment: '#ffd34d',
  federation: '#c792ea',
  bid: '#ff8fa3',
  label: '#7fdbca',
};
export const FAILED_EDGE_COLOUR = '#ff5c5c';

export function nodeBucket(n: GraphNode): number {
  if (n.type === 'customer') return 3;
  return n.state === 'busy' ? 1 : n.state === 'dead' ? 2 : 0;
}

/** A desk (ours or a peer instance's) draws as a square. */
export function isDeskLike(n: GraphNode): boolean {
  return n.type === 'desk' || n.type === 'instance';
}

/** World-unit radius: 3 to 11 by reputation; desks fixed and large, customers small. */
export function nodeRadius(n: GraphNode): number {
  if (isDeskLike(n)) return 12;
  if (n.type === 'customer') return 3.5;
  return 4 + (n.score / 100) * 7;
}

/** '#rrggbb' → [r, g, b] in 0..1 (for WebGL colour attributes). */
export function rgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255];
}
