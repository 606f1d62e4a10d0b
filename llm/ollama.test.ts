import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { OllamaProvider } from './ollama.ts';
import { LlmResponseError, LlmUnavailableError } from './provider.ts';
import { ScriptedProvider } from './scripted.ts';
import { type LoopbackServer, startLoopbackServer } from './testing/loopback-server.ts';
import { startFakeOllama } from './testing/ollama-server.ts';

const messages = [
  { role: 'system' as const, content: 'be brief' },
  { role: 'user' as const, content: 'hello' },
];
const servers: LoopbackServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function raw(lines: string[] | ((res: import('node:http').ServerResponse) => void)): Promise<string> {
  const s = await startLoopbackServer((_req, _body, res) => {
    if (typeof lines === 'function') return lines(res);
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end(lines.map((l) => `${l}\n`).join(''));
  });
  servers.push(s);
  return s.url;
}

test('streams the answer, sends model/messages/options, reads token counts', async () => {
  const backend = new ScriptedProvider().queue({
    chunks: ['Hel', 'lo!'],
    promptTokens: 12,
    completionTokens: 2,
  });
  const server = await startFakeOllama({ backend, models: ['llama3.2'] });
  servers.push(server);
  const p = new OllamaProvider({ url: `${server.url}/`, model: 'llama3.2', maxTokens: 64, temperature: 0.2 });
  const seen: string[] = [];
  const c = await p.complete({ messages, onToken: (t) => seen.push(t), temperature: 0.5 });
  assert.equal(c.text, 'Hello!');
  assert.deepEqual(seen, ['Hel', 'lo!']);
  assert.equal(c.provider, 'ollama');
  assert.equal(c.model, 'llama3.2');
  assert.equal(c.promptTokens, 12);
  assert.equal(c.completionTokens, 2);
  assert.deepEqual(server.requests[0], {
    model: 'llama3.2',
    messages,
    stream: true,
    options: { num_predict: 64, temperature: 0.5 },
  });
  assert.deepEqual(backend.calls[0]?.messages, messages);
});

test('missing counts are estimated', async () => {
  const url = await raw([
    '{"message":{"content":"abcdefgh"},"done":false}',
    '{"message":{"content":""},"done":true}',
  ]);
  const c = await new OllamaProvider({ url, model: 'm' }).complete({ messages });
  assert.equal(c.completionTokens, 2);
  assert.ok(c.promptTokens > 0);
});

test('a model that is not pulled: tells the user to ollama pull it', async () => {
  const server = await startFakeOllama({ backend: new ScriptedProvider(), models: ['other'] });
  servers.push(server);
  await assert.rejects(
    new OllamaProvider({ url: server.url, model: 'qwen2.5:0.5b' }).complete({ messages }),
    (e: unknown) => {
      assert.ok(e instanceof LlmUnavailableError);
      assert.match(
        e.message,
        /model "qwen2.5:0.5b" is not available .*not found.*ollama pull qwen2\.5:0\.5b/,
      );
      return true;
    },
  );
});

test('other HTTP errors carry the status and body', async () => {
  const url = await raw((res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end('{"error":"out of memory"}');
  });
  await assert.rejects(
    new OllamaProvider({ url, model: 'm' }).complete({ messages }),
    /HTTP 500: out of memory/,
  );
});

test('garbage is an LlmResponseError: malformed line, wrong shape, no done line, empty answer, server error line', async () => {
  const cases: [string[], RegExp][] = [
    [['{"message":{"content":"a"},"done":false}', 'not json'], /malformed line.*not json/],
    [['42'], /unexpected line/],
    [['{"message":{"content":7}}'], /not text/],
    [['{"message":{"content":"a"},"done":false}'], /without its final "done"/],
    [['{"message":{"content":""},"done":true}'], /no text/],
    [['{"error":"model crashed"}'], /server error: model crashed/],
    [[], /without its final "done"/],
  ];
  for (const [lines, re] of cases) {
    const url = await raw(lines);
    await assert.rejects(new OllamaProvider({ url, model: 'm' }).complete({ messages }), (e: unknown) => {
      assert.ok(e instanceof LlmResponseError, String(e));
      assert.match(e.message, re);
      assert.ok(e.message.startsWith('ollama: '));
      return true;
    });
  }
});

test('a connection dropped mid-stream is an LlmResponseError', async () => {
  const url = await raw((res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write('{"message":{"content":"par"},"done":false}\n');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  const seen: string[] = [];
  await assert.rejects(
    new OllamaProvider({ url, model: 'm' }).complete({ messages, onToken: (t) => seen.push(t) }),
    /ollama: the answer stream broke off/,
  );
  assert.deepEqual(seen, ['par']);
});

test('connection refused names the URL', async () => {
  const s = await startLoopbackServer(() => {});
  await s.close();
  await assert.rejects(
    new OllamaProvider({ url: s.url, model: 'm' }).complete({ messages }),
    (e: unknown) => {
      assert.ok(e instanceof LlmUnavailableError);
      assert.match(e.message, new RegExp(`ollama: cannot connect to ${s.url}/api/chat: connection refused`));
      return true;
    },
  );
});

test('abort mid-stream rejects promptly with an AbortError and the server sees the disconnect', async () => {
  const backend = new ScriptedProvider().queue({ chunks: ['a'], hang: true });
  const server = await startFakeOllama({ backend });
  servers.push(server);
  const ac = new AbortController();
  const p = new OllamaProvider({ url: server.url, model: 'tiny' }).complete({
    messages,
    signal: ac.signal,
    onToken: () => ac.abort(),
  });
  await assert.rejects(p, { name: 'AbortError' });
  for (let i = 0; i < 100 && !backend.calls[0]?.signal?.aborted; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(backend.calls[0]?.signal?.aborted, true);
});
