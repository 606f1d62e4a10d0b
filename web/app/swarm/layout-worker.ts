/**
 * The layout worker's entry (the server bundles it to /assets/layout-worker.js): runs ForceLayout off the
 * page's thread. Paced by the page: one tick per `tick` message, and the page sends the next only after the
 * positions of the last came back, so the layout never runs faster than the page draws (an unpaced worker
 * takes a whole core). Positions go back as a transferred Float32Array, in a buffer the page handed back
 * when it has the right size.
 */

import type { FromWorker, ToWorker } from './layout-protocol.ts';
import { ForceLayout } from './layout-sim.ts';

/** The few members of a dedicated worker's global scope used here (the project compiles with the DOM lib). */
interface WorkerScope {
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
const layout = new ForceLayout();

scope.onmessage = (ev) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'graph':
      layout.setGraph(msg);
      break;
    case 'reheat':
      layout.reheat(msg.alpha);
      break;
    case 'tick': {
      layout.tick();
      const length = layout.size * 3;
      const positions =
        msg.spare && msg.spare.byteLength === length * 4
          ? new Float32Array(msg.spare)
          : new Float32Array(length);
      layout.write(positions);
      scope.postMessage(
        {
          type: 'positions',
          version: layout.version,
          positions,
          alpha: layout.alpha,
          settled: layout.settled,
        },
        [positions.buffer],
      );
      break;
    }
  }
};
