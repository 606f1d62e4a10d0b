import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { configSchema } from '../core/config.ts';
import { buildTinyGguf } from '../tests/fixtures/tiny-gguf.ts';
import type { LlmConfig } from './from-config.ts';
import { probeLlmProviders } from './model-probe.ts';
import { ScriptedProvider } from './scripted.ts';
import { type LoopbackServer, startLoopbackServer } from './testing/loopback-server.ts';
import { startFakeOllama } from './testing/ollama-server.ts';
import { startFakeOpenAi } from './testing/openai-server.ts';

const llm = (section: Record<string, unknown>): LlmConfig => configSchema.parse({ llm: section }).llm;
let dir = '';
const servers: LoopbackServer[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'timmy-probe-'));
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

test('nothing configured: every provider is listed as off with its variable', async () => {
  const probes = await probeLlmProviders(llm({}));
  assert.deepEqual(
    probes.map((p) => [p.name, p.enabled, p.ok, p.detail]),
    [
      ['llama-cpp', false, false, 'off (set TIMMY_LLM_LLAMA_CPP_MODEL_PATH)'],
      ['ollama', false, false, 'off (set TIMMY_LLM_OLLAMA_URL)'],
      ['openai', false, false, 'off (set TIMMY_LLM_OPENAI_URL)'],
    ],
  );
});

test('probes each configured provider in cascade order', async () => {
  const ollama = await startFakeOllama({
    backend: new ScriptedProvider(),
    models: ['llama3.2', 'qwen2.5:0.5b'],
  });
  const openai = await startFakeOpenAi({ backend: new ScriptedProvider(), models: ['qwen'], apiKey: 'k' });
  servers.push(ollama, openai);
  const model = join(dir, 'tiny.gguf');
  await writeFile(model, buildTinyGguf());
  const probes = await probeLlmProviders(
    llm({
      order: ['openai', 'ollama', 'llamaCpp'],
      ollama: { url: ollama.url },
      openai: { url: `${openai.url}/v1`, model: 'qwen', apiKey: 'k' },
      llamaCpp: { modelPath: model },
    }),
  );
  assert.deepEqual(
    probes.map((p) => [p.name, p.enabled, p.ok]),
    [
      ['openai', true, true],
      ['ollama', true, true],
      ['llama-cpp', true, true],
    ],
  );
  assert.equal(probes[0]?.detail, 'serves model qwen');
  assert.equal(probes[1]?.detail, 'model llama3.2 is pulled');
  assert.match(probes[2]?.detail ?? '', /^GGUF v3 file, 0\.\d MB$/);
});

test('explains what is wrong: model not pulled, bad key, unknown model, missing file, dead server, wrong server', async () => {
  const ollama = await startFakeOllama({ backend: new ScriptedProvider(), models: ['other'] });
  const openai = await startFakeOpenAi({
    backend: new ScriptedProvider(),
    models: ['a', 'b'],
    apiKey: 'right',
  });
  const html = await startLoopbackServer((_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html></html>');
  });
  servers.push(ollama, openai, html);
  const gone = await startLoopbackServer(() => {});
  await gone.close();
  const probe = async (section: Record<string, unknown>) =>
    (await probeLlmProviders(llm(section))).filter((p) => p.enabled)[0];
  const notPulled = await probe({ ollama: { url: ollama.url, model: 'mistral' } });
  assert.equal(notPulled?.ok, false);
  assert.equal(
    notPulled?.detail,
    'model mistral is not pulled (run: ollama pull mistral); pulled: other:latest',
  );
  const badKey = await probe({ openai: { url: openai.url, apiKey: 'wrong' } });
  assert.match(badKey?.detail ?? '', /HTTP 401 \(API key refused or missing/);
  assert.ok(!(badKey?.detail ?? '').includes('wrong'));
  const unknown = await probe({ openai: { url: openai.url, apiKey: 'right', model: 'c' } });
  assert.equal(unknown?.ok, true);
  assert.match(unknown?.detail ?? '', /model c is not in its list \(a, b\)/);
  const anyModel = await probe({ openai: { url: openai.url, apiKey: 'right' } });
  assert.match(anyModel?.detail ?? '', /serves a, b \(no model set/);
  const missing = await probe({ llamaCpp: { modelPath: join(dir, 'nope.gguf') } });
  assert.equal(missing?.ok, false);
  assert.match(missing?.detail ?? '', /model file not found/);
  const dead = await probe({ ollama: { url: gone.url } });
  assert.match(dead?.detail ?? '', /connection refused/);
  const wrong = await probe({ ollama: { url: html.url } });
  assert.match(wrong?.detail ?? '', /not JSON/);
});

test('a configured provider left out of llm.order is reported as such', async () => {
  const probes = await probeLlmProviders(llm({ order: ['ollama'], llamaCpp: { modelPath: '/x.gguf' } }));
  const lc = probes.find((p) => p.key === 'llamaCpp');
  assert.equal(lc?.enabled, false);
  assert.match(lc?.detail ?? '', /not in llm.order/);
  assert.equal(probes[0]?.key, 'ollama');
});
