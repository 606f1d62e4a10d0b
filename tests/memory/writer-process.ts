/** A second process writing memories (tests/memory/two-writers.test.ts): argv path, agent, count. */
import { silentLogger } from '../../core/logger.ts';
import { FakeEmbedder } from '../../memory/fake-embedder.ts';
import { Memories } from '../../memory/memories.ts';
import { VectorStore } from '../../memory/vector-store.ts';

const [path, agent, count] = process.argv.slice(2);
const memories = new Memories({
  store: VectorStore.open({ path: path as string, logger: silentLogger }),
  embedder: new FakeEmbedder(),
  logger: silentLogger,
});
for (let i = 0; i < Number(count); i++)
  await memories.remember({ agent: agent as string, kind: 'episodic', content: `${agent} job ${i}` });
await memories.close();
