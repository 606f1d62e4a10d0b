import { parentPort } from 'node:worker_threads';
import { verifyFlat } from './verify.ts';

/** Entry of a verification worker (started by relay/verify-pool.ts): one reply per batch, codes transferred. */
export interface VerifyRequest {
  id: number;
  items: string[];
}

export interface VerifyReply {
  id: number;
  codes: Uint8Array;
}

parentPort?.on('message', (req: VerifyRequest) => {
  const codes = verifyFlat(req.items);
  const reply: VerifyReply = { id: req.id, codes };
  parentPort?.postMessage(reply, [codes.buffer as ArrayBuffer]);
});
