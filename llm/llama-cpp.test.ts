import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MemoryLogger, silentLogger } from '../core/logger.ts';
import { writeTinyGguf } from '../tests/fixtures/tiny-gguf.ts';
import { LlamaCppProvider, toHistory } from './llama-cpp.ts';
import { LlmUnavailableError } from './provider.ts';

const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Say something.' },
];
let dir = '';
let modelPath = '';
const open: LlamaCppProvider[] = [];
function make(path = modelPath, logger = silentLogger): LlamaCppProvider {
  const p = new LlamaCppProvider({ modelPath: path, contextSize: 512, threads: 1, maxTokens: 12, logger });
  open.push(p);
  return p;
}
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'timmy-llama-cpp-'));
  modelPath = join(dir, 'tiny.gguf');
  await writeTinyGguf(modelPath);
});
after(async () => {
  await Promise.all(open.map((p) => p.close()));
  await rm(dir, { recursive: true, force: true });
});

test('toHistory ends with the model turn and continues a trailing assistant message', () => {
  assert.deepEqual(toHistory(messages), [
    { type: 'system', text: 'You are terse.' },
    { type: 'user', text: 'Say something.' },
    { type: 'model', response: [] },
  ]);
  assert.deepEqual(
    toHistory([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'The answer is' },
    ]),
    [
      { type: 'user', text: 'q' },
      { type: 'model', response: ['The answer is'] },
    ],
  );
});

test('loads lazily, once for concurrent first calls, and streams tokens with counts', async () => {
  const logger = new MemoryLogger();
  const p = make(modelPath, logger);
  assert.equal(logger.records.length, 0, 'nothing loaded before the first call');
  const seen: string[][] = [[], []];
  const [a, b] = await Promise.all(
    [0, 1].map((i) => p.complete({ messages, maxTokens: 8, onToken: (t) => seen[i]?.push(t) })),
  );
  assert.equal(logger.records.filter((r) => r.msg === 'llama-cpp model loaded').length, 1);
  for (const [i, c] of [a, b].entries()) {
    assert.ok(c);
    assert.ok(c.text.length > 0);
    assert.equal(seen[i]?.join(''), c.text);
    assert.equal(c.provider, 'llama-cpp');
    assert.equal(c.model, 'timmy-tiny-random');
    assert.ok(c.promptTokens > 5, `prompt tokens ${c.promptTokens}`);
    assert.ok(c.completionTokens > 0 && c.completionTokens <= 8, `completion tokens ${c.completionTokens}`);
  }
});

test('abort mid-generation rejects promptly; the next call still works', async () => {
  const p = make();
  await p.warmUp();
  const ac = new AbortController();
  const t = Date.now();
  await assert.rejects(
    p.complete({ messages, maxTokens: 5000, signal: ac.signal, onToken: () => ac.abort() }),
    { name: 'AbortError' },
  );
  assert.ok(Date.now() - t < 5000);
  // Aborted while waiting for its turn: leaves the queue without blocking the others.
  const first = p.complete({ messages, maxTokens: 40 });
  const ac2 = new AbortController();
  const queued = p.complete({ messages, signal: ac2.signal });
  ac2.abort();
  await assert.rejects(queued, { name: 'AbortError' });
  assert.ok((await first).text.length > 0);
  assert.ok((await p.complete({ messages, maxTokens: 4 })).text.length > 0);
});

test('a model with an embedded chat template works too', async () => {
  const path = join(dir, 'templated.gguf');
  await writeTinyGguf(path, {
    name: 'templated',
    chatTemplate:
      "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}",
  });
  const c = await make(path).complete({ messages, maxTokens: 6 });
  assert.equal(c.model, 'templated');
  assert.ok(c.text.length > 0);
});

test('missing, non-GGUF and broken model files are reported with their path', async () => {
  const missing = join(dir, 'nope.gguf');
  const html = join(dir, 'page.gguf');
  await writeFile(html, '<!doctype html>\n<title>404</title>');
  const broken = join(dir, 'broken.gguf');
  await writeFile(
    broken,
    Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(64, 0xff)]),
  );
  const cases: [string, RegExp][] = [
    [missing, /llama-cpp: model file not found: .*nope\.gguf \(TIMMY_LLM_LLAMA_CPP_MODEL_PATH\)/],
    [html, /page\.gguf is not a GGUF model file/],
    [broken, /llama-cpp: cannot load the model .*broken\.gguf/],
  ];
  for (const [path, re] of cases) {
    const p = make(path);
    await assert.rejects(p.complete({ messages }), (e: unknown) => {
      assert.ok(e instanceof LlmUnavailableError, String(e));
      assert.match(e.message, re);
      return true;
    });
  }
  // A failed load is retried: the file appears, the next call works.
  const later = make(missing);
  await assert.rejects(later.complete({ messages }));
  await writeTinyGguf(missing);
  assert.ok((await later.complete({ messages, maxTokens: 3 })).text.length > 0);
});

test('close disposes the model, is idempotent, and later calls are refused', async () => {
  const p = make();
  await p.complete({ messages, maxTokens: 2 });
  await p.close();
  await p.close();
  await assert.rejects(p.complete({ messages }), /the provider is closed/);
  await make().close(); // never loaded
});
