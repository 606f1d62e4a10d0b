/**
 * Router fault tests over real HTTP providers and loopback servers: a hanging server, a garbage server, a
 * failing one that trips its breaker and recovers, and a caller abort mid-stream.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { OllamaProvider } from './ollama.ts';
import { OpenAiProvider } from './openai.ts';
import type { LlmProvider } from './provider.ts';
import { CascadeRouter } from './router.ts';
import { ScriptedProvider } from './scripted.ts';
import { type LoopbackServer, startLoopbackServer } from './testing/loopback-server.ts';
import { startFakeOllama } from './testing/ollama-server.ts';
import { startFakeOpenAi } from './testing/openai-server.ts';

const messages = [{ role: 'user' as const, content: 'hi' }];
const servers: LoopbackServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

function route(providers: [LlmProvider, number][], clock = new ManualClock()) {
  return new CascadeRouter({
    entries: providers.map(([provider, timeoutMs]) => ({
      provider,
      timeoutMs,
      breaker: new CircuitBreaker({ failureThreshold: 2, cooldownMs: 60_000, halfOpenSuccesses: 1, clock }),
    })),
    logger: silentLogger,
    clock,
  });
}

async function openAiAnswering(text: string): Promise<OpenAiProvider> {
  const s = await startFakeOpenAi({ backend: new ScriptedProvider({ defaultAnswer: text }) });
  servers.push(s);
  return new OpenAiProvider({ url: s.url, model: 'tiny' });
}

test('a hanging Ollama server times out and the OpenAI-compatible server answers', async () => {
  const hanging = new ScriptedProvider({ defaultAnswer: { hang: true } });
  const s = await startFakeOllama({ backend: hanging });
  servers.push(s);
  const router = route([
    // Long enough for the request to reach the server even on a loaded machine.
    [new OllamaProvider({ url: s.url, model: 'tiny' }), 1000],
    [await openAiAnswering('from openai'), 5000],
  ]);
  const c = await router.complete({ messages });
  assert.equal(c.provider, 'openai');
  assert.equal(c.text, 'from openai');
  assert.equal(router.stats()[0]?.timeouts, 1);
  for (let i = 0; i < 100 && !hanging.calls[0]?.signal?.aborted; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(hanging.calls.length, 1);
  assert.equal(hanging.calls[0]?.signal?.aborted, true, 'the hung request was cancelled on the server too');
});

test('a server answering garbage falls through', async () => {
  const s = await startLoopbackServer((_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end('<html>proxy error</html>\n');
  });
  servers.push(s);
  const router = route([
    [new OllamaProvider({ url: s.url, model: 'tiny' }), 5000],
    [await openAiAnswering('ok'), 5000],
  ]);
  assert.equal((await router.complete({ messages })).provider, 'openai');
  assert.match(router.stats()[0]?.lastError ?? '', /malformed line/);
});

test('a failing server trips its breaker, is skipped, and a probe after the cool-down closes it', async () => {
  const backend = new ScriptedProvider().queue(
    { error: 'GPU on fire' },
    { error: 'GPU on fire' },
    'recovered',
  );
  const s = await startFakeOllama({ backend });
  servers.push(s);
  const clock = new ManualClock();
  const router = route(
    [
      [new OllamaProvider({ url: s.url, model: 'tiny' }), 5000],
      [await openAiAnswering('backup'), 5000],
    ],
    clock,
  );
  for (let i = 0; i < 2; i++) assert.equal((await router.complete({ messages })).provider, 'openai');
  assert.equal(router.stats()[0]?.breaker.state, 'open');
  assert.equal((await router.complete({ messages })).provider, 'openai');
  assert.equal(backend.calls.length, 2, 'skipped while open');
  clock.advance(60_000);
  const c = await router.complete({ messages });
  assert.equal(c.provider, 'ollama');
  assert.equal(c.text, 'recovered');
  assert.equal(router.stats()[0]?.breaker.state, 'closed');
});

test('a caller abort mid-stream rejects promptly and counts against nobody', async () => {
  const backend = new ScriptedProvider({ defaultAnswer: { chunks: ['a', 'b', 'c'], chunkDelayMs: 1000 } });
  const s = await startFakeOllama({ backend });
  servers.push(s);
  const router = route([
    [new OllamaProvider({ url: s.url, model: 'tiny' }), 10_000],
    [await openAiAnswering('never'), 5000],
  ]);
  const ac = new AbortController();
  const started = Date.now();
  await assert.rejects(router.complete({ messages, signal: ac.signal, onToken: () => ac.abort() }), {
    name: 'AbortError',
  });
  assert.ok(Date.now() - started < 900);
  const [ollama, openai] = router.stats();
  assert.equal(ollama?.failures, 0);
  assert.equal(ollama?.aborted, 1);
  assert.equal(openai?.calls, 0);
});
