import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import { CircuitBreaker } from '../../llm/circuit-breaker.ts';
import { LlamaCppProvider } from '../../llm/llama-cpp.ts';
import { OllamaProvider } from '../../llm/ollama.ts';
import { OpenAiProvider } from '../../llm/openai.ts';
import { type LlmProvider, LlmUnavailableError } from '../../llm/provider.ts';
import { CascadeRouter } from '../../llm/router.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { startLoopbackServer } from '../../llm/testing/loopback-server.ts';
import { startFakeOllama } from '../../llm/testing/ollama-server.ts';
import { startFakeOpenAi } from '../../llm/testing/openai-server.ts';
import { writeTinyGguf } from '../fixtures/tiny-gguf.ts';
import { llmProviderContract } from './llm-provider.contract.ts';

let dir = '';
let modelPath = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'timmy-llm-contract-'));
  modelPath = join(dir, 'tiny.gguf');
  await writeTinyGguf(modelPath);
});
after(() => rm(dir, { recursive: true, force: true }));

const tiny = (path = modelPath): LlamaCppProvider =>
  new LlamaCppProvider({ modelPath: path, contextSize: 512, threads: 1, logger: silentLogger });

/** A scripted answer long enough to abort in the middle of. */
const streamed = () =>
  new ScriptedProvider({
    defaultAnswer: { chunks: 'red, green and blue are three colours'.split(/(?= )/), chunkDelayMs: 2 },
  });

/** A URL where nothing listens. */
async function deadUrl(): Promise<string> {
  const s = await startLoopbackServer(() => {});
  await s.close();
  return s.url;
}

llmProviderContract('ScriptedProvider', {
  makeProvider: streamed,
  makeBroken: () =>
    new ScriptedProvider({
      defaultAnswer: { error: new LlmUnavailableError('scripted: model "x" not found') },
    }),
});

{
  const closers: (() => Promise<void>)[] = [];
  llmProviderContract('OllamaProvider ↔ Ollama-API test server running the tiny GGUF', {
    makeProvider: async () => {
      const backend = tiny();
      const server = await startFakeOllama({ backend, models: ['tiny'] });
      closers.push(
        () => server.close(),
        () => backend.close(),
      );
      return new OllamaProvider({ url: server.url, model: 'tiny' });
    },
    makeBroken: async () => {
      const server = await startFakeOllama({ backend: new ScriptedProvider(), models: ['other'] });
      closers.push(() => server.close());
      return new OllamaProvider({ url: server.url, model: 'tiny' });
    },
    cleanup: async () => {
      for (const c of closers) await c();
    },
  });
}

{
  const closers: (() => Promise<void>)[] = [];
  llmProviderContract('OpenAiProvider ↔ OpenAI-compatible test server (scripted)', {
    makeProvider: async () => {
      const server = await startFakeOpenAi({ backend: streamed(), models: ['tiny'], apiKey: 'k' });
      closers.push(() => server.close());
      return new OpenAiProvider({ url: `${server.url}/v1`, model: 'tiny', apiKey: 'k' });
    },
    makeBroken: async () => new OpenAiProvider({ url: await deadUrl(), model: 'tiny' }),
    cleanup: async () => {
      for (const c of closers) await c();
    },
  });
}

{
  const closers: (() => Promise<void>)[] = [];
  llmProviderContract('OpenAiProvider ↔ OpenAI-compatible test server running the tiny GGUF', {
    makeProvider: async () => {
      const backend = tiny();
      const server = await startFakeOpenAi({ backend, models: ['tiny'] });
      closers.push(
        () => server.close(),
        () => backend.close(),
      );
      return new OpenAiProvider({ url: server.url, model: '' });
    },
    makeBroken: async () => {
      const server = await startFakeOpenAi({ backend: new ScriptedProvider(), models: ['tiny'] });
      closers.push(() => server.close());
      return new OpenAiProvider({ url: server.url, model: 'missing' });
    },
    cleanup: async () => {
      for (const c of closers) await c();
    },
  });
}

llmProviderContract('LlamaCppProvider on the tiny GGUF', {
  makeProvider: () => tiny(),
  makeBroken: () => tiny(join(dir, 'no-such-model.gguf')),
});

{
  const router = (providers: LlmProvider[]) => {
    const clock = new ManualClock();
    return new CascadeRouter({
      entries: providers.map((provider) => ({
        provider,
        timeoutMs: 10_000,
        breaker: new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, halfOpenSuccesses: 1, clock }),
      })),
      logger: silentLogger,
      clock,
    });
  };
  llmProviderContract('CascadeRouter (dead Ollama, then llama-cpp)', {
    makeProvider: async () => router([new OllamaProvider({ url: await deadUrl(), model: 'm' }), tiny()]),
    makeBroken: async () => router([new OllamaProvider({ url: await deadUrl(), model: 'm' })]),
  });
}
