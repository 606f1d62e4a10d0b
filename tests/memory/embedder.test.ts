import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { EmbedderError } from '../../memory/embedder.ts';
import { FakeEmbedder } from '../../memory/fake-embedder.ts';
import { HttpEmbedder } from '../../memory/http-embedder.ts';
import { embedderContract } from './embedder.contract.ts';

/** A loopback server speaking Ollama's /api/embed and OpenAI's /v1/embeddings, with the fake's vectors. */
async function embeddingServer(): Promise<{ url: string; server: Server; auth: string[] }> {
  const fake = new FakeEmbedder({ dimension: 48 });
  const auth: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += String(d);
    });
    req.on('end', () => {
      void (async () => {
        auth.push(req.headers.authorization ?? '');
        const { model, input } = JSON.parse(body) as { model: string; input: string[] };
        if (model !== 'nomic-embed-text') {
          res.writeHead(404).end('model not found');
          return;
        }
        const vectors = (await fake.embed(input)).map((v) => [...v]);
        res.setHeader('content-type', 'application/json');
        if (req.url === '/api/embed') res.end(JSON.stringify({ model, embeddings: vectors }));
        else if (req.url === '/v1/embeddings')
          res.end(
            JSON.stringify({ data: vectors.map((embedding, index) => ({ embedding, index })).reverse() }),
          );
        else res.writeHead(404).end();
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, auth };
}

const server = await embeddingServer();
test.after(() => {
  server.server.close();
});

embedderContract({ name: 'FakeEmbedder', make: () => new FakeEmbedder() });
for (const api of ['ollama', 'openai'] as const)
  embedderContract({
    name: `HttpEmbedder (${api}, loopback server)`,
    make: () => new HttpEmbedder({ api, url: server.url, model: 'nomic-embed-text', apiKey: 'k' }),
    makeBroken: () => new HttpEmbedder({ api, url: server.url, model: 'no-such-model' }),
  });

test('the HTTP embedder asks the dimension from the server, sends the key, and needs a URL and a model', async () => {
  const e = new HttpEmbedder({
    api: 'openai',
    url: `${server.url}/v1`,
    model: 'nomic-embed-text',
    apiKey: 'sk-test',
  });
  await e.ready();
  assert.equal(e.dimension, 48);
  assert.equal(e.model, 'openai:nomic-embed-text');
  assert.equal(server.auth.at(-1), 'Bearer sk-test');
  assert.throws(() => new HttpEmbedder({ api: 'ollama', url: '', model: 'x' }), EmbedderError);
  assert.throws(() => new HttpEmbedder({ api: 'ollama', url: server.url, model: '' }), /memory.model/);
  const wrongDim = new HttpEmbedder({
    api: 'ollama',
    url: server.url,
    model: 'nomic-embed-text',
    dimension: 64,
  });
  await assert.rejects(wrongDim.embed(['x']), /48 dimensions, expected 64/);
});

test('the fake is scriptable: pinned vectors, a scripted failure, counted calls', async () => {
  const e = new FakeEmbedder({ dimension: 8 });
  e.script('pinned', [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...((await e.embed(['pinned']))[0] as Float32Array)], [1, 0, 0, 0, 0, 0, 0, 0]);
  e.failNext(new EmbedderError('boom'));
  await assert.rejects(e.embed(['x']), /boom/);
  assert.equal(e.calls, 2);
  assert.equal(e.texts, 2);
});
