import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../core/logger.ts';
import { FakeEmbedder } from '../../memory/fake-embedder.ts';
import { Memories } from '../../memory/memories.ts';
import { VectorStore } from '../../memory/vector-store.ts';

const script = new URL('./writer-process.ts', import.meta.url).pathname;

function writer(path: string, agent: string, count: number): Promise<number | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, path, agent, String(count)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

test('two agents in two processes write one memory file at once and lose nothing', async () => {
  const path = join(await mkdtemp(join(tmpdir(), 'timmy-mem-')), 'memory.sqlite');
  // Both processes race to create the file's schema and search table too.
  const codes = await Promise.all([writer(path, 'quill', 300), writer(path, 'seer', 300)]);
  assert.deepEqual(codes, [0, 0]);
  const memories = new Memories({
    store: VectorStore.open({ path, logger: silentLogger }),
    embedder: new FakeEmbedder(),
    logger: silentLogger,
  });
  await memories.ready;
  assert.equal(memories.store.count({ agent: 'quill' }), 300);
  assert.equal(memories.store.count({ agent: 'seer' }), 300);
  assert.equal(memories.store.indexedCount(), 600);
  const contents = new Set([...memories.store.iterate()].map((m) => m.content));
  assert.equal(contents.size, 600);
  const [hit] = await memories.search('seer job 123', { k: 1, filter: { agent: 'seer' } });
  assert.equal(hit?.memory.content, 'seer job 123');
  await memories.close();
});
