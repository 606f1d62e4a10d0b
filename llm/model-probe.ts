/**
 * Checks each language-model provider of the configuration without generating anything: Ollama's
 * `GET /api/tags` (is the model pulled?), an OpenAI-compatible server's `GET /v1/models`, and for llama-cpp
 * that the model file exists and starts with the GGUF magic. Used by `timmy models`.
 */

import { errorMessage } from '../core/errors.ts';
import {
  ENABLE_VARIABLES,
  isConfigured,
  type LlmConfig,
  PROVIDER_NAMES,
  type ProviderKey,
} from './from-config.ts';
import { checkGgufFile } from './gguf-file.ts';
import { networkReason } from './http-fetch.ts';
import { openAiRoot } from './openai.ts';

export interface ProviderProbe {
  key: ProviderKey;
  /** Provider name as in logs and stats ("llama-cpp", "ollama", "openai"). */
  name: string;
  /** Configured and listed in llm.order: part of the cascade. */
  enabled: boolean;
  /** URL or model path; "" when not configured. */
  target: string;
  model: string;
  /** The provider looks usable (always false when not enabled). */
  ok: boolean;
  detail: string;
}

const ALL_KEYS: readonly ProviderKey[] = ['llamaCpp', 'ollama', 'openai'];

/** Probes every provider: the cascade first, in order, then the ones left out. Never throws. */
export async function probeLlmProviders(
  config: LlmConfig,
  options: { timeoutMs?: number } = {},
): Promise<ProviderProbe[]> {
  const order = [...new Set(config.order)];
  const keys = [...order, ...ALL_KEYS.filter((k) => !order.includes(k))];
  const timeoutMs = options.timeoutMs ?? 3000;
  return Promise.all(
    keys.map(async (key): Promise<ProviderProbe> => {
      const base = { key, name: PROVIDER_NAMES[key], target: target(config, key), model: model(config, key) };
      if (!isConfigured(config, key))
        return { ...base, enabled: false, ok: false, detail: `off (set ${ENABLE_VARIABLES[key]})` };
      if (!order.includes(key))
        return {
          ...base,
          enabled: false,
          ok: false,
          detail: 'configured but not in llm.order (TIMMY_LLM_ORDER)',
        };
      const r = await probeOne(config, key, timeoutMs);
      return { ...base, enabled: true, ...r };
    }),
  );
}

function target(config: LlmConfig, key: ProviderKey): string {
  return key === 'llamaCpp' ? config.llamaCpp.modelPath : config[key].url;
}

function model(config: LlmConfig, key: ProviderKey): string {
  return key === 'llamaCpp' ? '' : config[key].model;
}

async function probeOne(
  config: LlmConfig,
  key: ProviderKey,
  timeoutMs: number,
): Promise<{ ok: boolean; detail: string }> {
  if (key === 'llamaCpp') {
    try {
      const { version, bytes } = await checkGgufFile(config.llamaCpp.modelPath);
      return { ok: true, detail: `GGUF v${version} file, ${(bytes / 1e6).toFixed(1)} MB` };
    } catch (err) {
      return { ok: false, detail: errorMessage(err) };
    }
  }
  if (key === 'ollama') return probeOllama(config.ollama.url, config.ollama.model, timeoutMs);
  return probeOpenAi(config.openai.url, config.openai.model, config.openai.apiKey, timeoutMs);
}

async function getJson(
  url: string,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<{ ok: true; body: unknown } | { ok: false; detail: string }> {
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    return {
      ok: false,
      detail: `${url}: ${timedOut ? `no answer within ${timeoutMs} ms` : networkReason(err)}`,
    };
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    const hint =
      res.status === 401 || res.status === 403
        ? ' (API key refused or missing: TIMMY_LLM_OPENAI_API_KEY)'
        : '';
    return { ok: false, detail: `${url}: HTTP ${res.status}${hint}` };
  }
  try {
    return { ok: true, body: await res.json() };
  } catch {
    return { ok: false, detail: `${url}: the answer is not JSON (is this the right server?)` };
  }
}

async function probeOllama(
  url: string,
  model: string,
  timeoutMs: number,
): Promise<{ ok: boolean; detail: string }> {
  const endpoint = `${url.replace(/\/+$/, '')}/api/tags`;
  const r = await getJson(endpoint, timeoutMs);
  if (!r.ok) return r;
  const list = (r.body as { models?: unknown }).models;
  if (!Array.isArray(list))
    return { ok: false, detail: `${endpoint}: no "models" list (is this an Ollama server?)` };
  const names = list.map((m) => String((m as { name?: unknown }).name ?? ''));
  const wanted = model.includes(':') ? [model] : [model, `${model}:latest`];
  if (names.some((n) => wanted.includes(n))) return { ok: true, detail: `model ${model} is pulled` };
  const have = names.length ? names.join(', ') : 'none';
  return { ok: false, detail: `model ${model} is not pulled (run: ollama pull ${model}); pulled: ${have}` };
}

async function probeOpenAi(
  url: string,
  model: string,
  apiKey: string,
  timeoutMs: number,
): Promise<{ ok: boolean; detail: string }> {
  const endpoint = `${openAiRoot(url)}/v1/models`;
  const r = await getJson(endpoint, timeoutMs, apiKey ? { authorization: `Bearer ${apiKey}` } : {});
  if (!r.ok) return r;
  const data = (r.body as { data?: unknown }).data;
  if (!Array.isArray(data))
    return { ok: false, detail: `${endpoint}: no "data" list (is this an OpenAI-compatible server?)` };
  const ids = data.map((m) => String((m as { id?: unknown }).id ?? ''));
  const list = ids.length ? ids.join(', ') : 'none listed';
  if (!model) return { ok: true, detail: `reachable; serves ${list} (no model set: the server picks)` };
  if (ids.includes(model)) return { ok: true, detail: `serves model ${model}` };
  return {
    ok: true,
    detail: `reachable, but model ${model} is not in its list (${list}); llama-server ignores the name, other servers refuse it`,
  };
}
