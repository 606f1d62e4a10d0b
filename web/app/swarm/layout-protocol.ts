/**
 * The messages between the page and the layout worker (layout-worker.ts). The page sends the graph's
 * structure when it changes and asks for one tick per animation frame at most (a `tick` only once the previous
 * positions came back), handing back the previous buffer so the two sides swap two Float32Arrays instead of
 * allocating one per frame. Positions are x, y, z per node (z 0 in 2D), in the order of the `ids` sent.
 */

export interface GraphMessage {
  type: 'graph';
  /** The page's structure version these ids and links belong to. */
  version: number;
  ids: string[];
  /** Per link: indices into ids. */
  source: Int32Array;
  target: Int32Array;
  /** Per node: a collision/spacing radius (world units). */
  radius: Float32Array;
  /** 3 adds a third axis to the layout (the 3D view). */
  dims: 2 | 3;
}

export interface TickMessage {
  type: 'tick';
  /** A buffer the page is done with (the worker fills it next time instead of allocating). */
  spare?: ArrayBuffer;
}

export interface ReheatMessage {
  type: 'reheat';
  alpha: number;
}

export type ToWorker = GraphMessage | TickMessage | ReheatMessage;

export interface PositionsMessage {
  type: 'positions';
  version: number;
  /** x, y, z per node (transferred). */
  positions: Float32Array;
  /** The simulation's alpha: below its alphaMin the layout has settled (the page stops asking). */
  alpha: number;
  settled: boolean;
}

export type FromWorker = PositionsMessage;
