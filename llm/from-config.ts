/**
 * Builds the cascade router from the `llm` section of the configuration: the providers named in
 * `llm.order` that are configured (ollama and openai when their url is set, llamaCpp when its modelPath is
 * set), in that order, each with its own circuit breaker from `llm.breaker` and its own timeout.
 */
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { LlamaCppProvider } from './llama-cpp.ts';
import { OllamaProvider } from './ollama.ts';
import { OpenAiProvider } from './openai.ts';
import type { LlmProvider } from './provider.ts';
import { type CallSample, CascadeRouter, NO_PROVIDER_MESSAGE, type RouterEntry } from './router.ts';

export type LlmConfig = Config['llm'];
/** A provider's key in the configuration (`llm.order`). */
export type ProviderKey = LlmConfig['order'][number];

export interface LlmDeps {
  logger: Logger;
  clock?: Clock;
  onCall?: (sample: CallSample) => void;
}

/** The provider name each configuration key produces (logs, stats, Completion.provider). */
export const PROVIDER_NAMES: Readonly<Record<ProviderKey, string>> = {
  llamaCpp: 'llama-cpp',
  ollama: 'ollama',
  openai: 'openai',
};

/** The environment variable that turns each provider on. */
export const ENABLE_VARIABLES: Readonly<Record<ProviderKey, string>> = {
  llamaCpp: 'TIMMY_LLM_LLAMA_CPP_MODEL_PATH',
  ollama: 'TIMMY_LLM_OLLAMA_URL',
  openai: 'TIMMY_LLM_OPENAI_URL',
};

export function isConfigured(config: LlmConfig, key: ProviderKey): boolean {
  if (key === 'llamaCpp') return config.llamaCpp.modelPath !== '';
  return config[key].url !== '';
}

/** `llm.order` without duplicates, keeping only the configured providers. */
export function enabledProviders(config: LlmConfig): ProviderKey[] {
  return [...new Set(config.order)].filter((k) => isConfigured(config, k));
}

/** One provider from its configuration (whether or not it is enabled). */
export function createProvider(config: LlmConfig, key: ProviderKey, deps: LlmDeps): LlmProvider {
  const common = { maxTokens: config.maxTokens, temperature: config.temperature, clock: deps.clock };
  if (key === 'llamaCpp') {
    return new LlamaCppProvider({
      ...common,
      modelPath: config.llamaCpp.modelPath,
      contextSize: config.llamaCpp.contextSize,
      threads: config.llamaCpp.threads,
      logger: deps.logger.child({ provider: PROVIDER_NAMES.llamaCpp }),
    });
  }
  if (key === 'ollama')
    return new OllamaProvider({ ...common, url: config.ollama.url, model: config.ollama.model });
  return new OpenAiProvider({
    ...common,
    url: config.openai.url,
    model: config.openai.model,
    apiKey: config.openai.apiKey,
  });
}

export function timeoutOf(config: LlmConfig, key: ProviderKey): number {
  return config[key].timeoutMs;
}

/** The router over the configured providers; with none it answers every call with how to enable one. */
export function createLlmRouter(config: LlmConfig, deps: LlmDeps): CascadeRouter {
  const clock = deps.clock ?? systemClock;
  const entries: RouterEntry[] = enabledProviders(config).map((key) => ({
    provider: createProvider(config, key, deps),
    timeoutMs: timeoutOf(config, key),
    breaker: new CircuitBreaker({ ...config.breaker, clock }),
  }));
  return new CascadeRouter({
    entries,
    logger: deps.logger.child({ component: 'llm' }),
    clock,
    onCall: deps.onCall,
  });
}

/** Human-readable lines about the LLM configuration, for the CLI and start-up logs. Never the API key. */
export function describeLlmConfig(config: LlmConfig): string[] {
  const enabled = enabledProviders(config);
  const lines: string[] = [];
  if (enabled.length === 0) lines.push(NO_PROVIDER_MESSAGE);
  else lines.push(`cascade: ${enabled.map((k) => PROVIDER_NAMES[k]).join(' → ')}`);
  for (const key of [...new Set(config.order)]) {
    const name = PROVIDER_NAMES[key];
    if (!isConfigured(config, key)) {
      lines.push(`${name}: off (set ${ENABLE_VARIABLES[key]})`);
      continue;
    }
    const timeout = `timeout ${seconds(config[key].timeoutMs)}`;
    if (key === 'llamaCpp') {
      const c = config.llamaCpp;
      const threads = c.threads > 0 ? `${c.threads} threads` : 'threads: one per core';
      lines.push(`${name}: ${c.modelPath} (context ${c.contextSize} tokens, ${threads}, ${timeout})`);
    } else if (key === 'ollama') {
      lines.push(`${name}: ${config.ollama.url} model ${config.ollama.model} (${timeout})`);
    } else {
      const c = config.openai;
      const model = c.model ? `model ${c.model}` : "the server's default model";
      lines.push(`${name}: ${c.url} ${model} (${c.apiKey ? 'API key set' : 'no API key'}, ${timeout})`);
    }
  }
  const b = config.breaker;
  lines.push(
    `breaker: opens after ${b.failureThreshold} consecutive failures, probes again after ${seconds(b.cooldownMs)}, ` +
      `closes after ${b.halfOpenSuccesses} successful probe${b.halfOpenSuccesses === 1 ? '' : 's'}`,
  );
  lines.push(`defaults: at most ${config.maxTokens} tokens an answer, temperature ${config.temperature}`);
  return lines;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
