import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import { configSchema } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import { createLlmRouter, describeLlmConfig, enabledProviders, type LlmConfig } from './from-config.ts';
import { LlamaCppProvider } from './llama-cpp.ts';
import { OllamaProvider } from './ollama.ts';
import { OpenAiProvider } from './openai.ts';
import { LlmUnavailableError } from './provider.ts';
import { ScriptedProvider } from './scripted.ts';
import { startFakeOllama } from './testing/ollama-server.ts';

function llm(section: Record<string, unknown> = {}): LlmConfig {
  return configSchema.parse({ llm: section }).llm;
}

test('nothing configured: an empty router that tells how to enable a model', async () => {
  const config = llm();
  assert.deepEqual(enabledProviders(config), []);
  const router = createLlmRouter(config, { logger: silentLogger });
  assert.equal(router.providers.length, 0);
  await assert.rejects(router.complete({ messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => {
    assert.ok(e instanceof LlmUnavailableError);
    assert.match(e.message, /TIMMY_LLM_OLLAMA_URL/);
    return true;
  });
  const lines = describeLlmConfig(config);
  assert.match(lines[0] ?? '', /no language model is configured/);
  assert.ok(lines.includes('ollama: off (set TIMMY_LLM_OLLAMA_URL)'));
});

test('only configured providers, in llm.order, each with its own breaker and timeout', () => {
  const config = llm({
    order: ['openai', 'ollama', 'openai', 'llamaCpp'],
    ollama: { url: 'http://127.0.0.1:11434', timeoutMs: 1000 },
    llamaCpp: { modelPath: '/models/x.gguf' },
    breaker: { failureThreshold: 5 },
  });
  assert.deepEqual(enabledProviders(config), ['ollama', 'llamaCpp']);
  const router = createLlmRouter(config, { logger: silentLogger });
  const [a, b] = router.providers;
  assert.ok(a instanceof OllamaProvider);
  assert.equal(a.model, 'llama3.2');
  assert.ok(b instanceof LlamaCppProvider);
  assert.equal(b.modelPath, '/models/x.gguf');
  const stats = router.stats();
  assert.deepEqual(
    stats.map((s) => [s.provider, s.breaker.state]),
    [
      ['ollama', 'closed'],
      ['llama-cpp', 'closed'],
    ],
  );
});

test('the openai provider gets url, model and key; the description never shows the key', () => {
  const config = llm({
    order: ['openai'],
    openai: { url: 'http://127.0.0.1:8080/v1', model: 'qwen', apiKey: 'sk-secret-123' },
  });
  const [p] = createLlmRouter(config, { logger: silentLogger }).providers;
  assert.ok(p instanceof OpenAiProvider);
  assert.equal(p.url, 'http://127.0.0.1:8080');
  const text = describeLlmConfig(config).join('\n');
  assert.ok(!text.includes('sk-secret-123'));
  assert.match(text, /cascade: openai/);
  assert.match(text, /openai: http:\/\/127\.0\.0\.1:8080\/v1 model qwen \(API key set, timeout 120 s\)/);
  assert.match(
    text,
    /breaker: opens after 3 consecutive failures, probes again after 30 s, closes after 1 successful probe$/m,
  );
});

const servers: { close(): Promise<void> }[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

test('a configured router answers through a real provider and reports calls', async () => {
  const server = await startFakeOllama({
    backend: new ScriptedProvider().queue('hi from ollama'),
    models: ['m'],
  });
  servers.push(server);
  const samples: string[] = [];
  const router = createLlmRouter(llm({ ollama: { url: server.url, model: 'm' }, maxTokens: 77 }), {
    logger: silentLogger,
    clock: new ManualClock(),
    onCall: (s) => samples.push(`${s.provider}:${s.outcome}`),
  });
  const c = await router.complete({ messages: [{ role: 'user', content: 'hello' }] });
  assert.equal(c.text, 'hi from ollama');
  assert.equal(c.provider, 'ollama');
  assert.deepEqual(samples, ['ollama:ok']);
  assert.deepEqual(
    (server.requests[0]?.options as Record<string, unknown> | undefined)?.num_predict,
    77,
    'llm.maxTokens is the default',
  );
  await router.close();
});
