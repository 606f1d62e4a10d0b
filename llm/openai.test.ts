import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, test } from 'node:test';
import { OpenAiProvider, openAiRoot } from './openai.ts';
import { LlmResponseError, LlmUnavailableError } from './provider.ts';
import { ScriptedProvider } from './scripted.ts';
import { type LoopbackServer, startLoopbackServer } from './testing/loopback-server.ts';
import { startFakeOpenAi } from './testing/openai-server.ts';

const messages = [{ role: 'user' as const, content: 'hello there' }];
const servers: LoopbackServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function raw(handler: (res: ServerResponse) => void): Promise<string> {
  const s = await startLoopbackServer((_req, _body, res) => handler(res));
  servers.push(s);
  return s.url;
}
function sse(events: string[]): (res: ServerResponse) => void {
  return (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(events.map((e) => `data: ${e}\n\n`).join(''));
  };
}
const delta = (content: unknown, finish: string | null = null) =>
  JSON.stringify({ model: 'srv-model', choices: [{ index: 0, delta: { content }, finish_reason: finish }] });

test('openAiRoot accepts the URL with or without /v1', () => {
  assert.equal(openAiRoot('http://h:1/v1'), 'http://h:1');
  assert.equal(openAiRoot('http://h:1/v1/'), 'http://h:1');
  assert.equal(openAiRoot('http://h:1/'), 'http://h:1');
  assert.equal(openAiRoot('http://h:1/proxy/v1'), 'http://h:1/proxy');
});

test('streams over SSE, sends the bearer key, reads usage', async () => {
  const backend = new ScriptedProvider().queue({
    chunks: ['Hi', ' there'],
    promptTokens: 9,
    completionTokens: 3,
  });
  const server = await startFakeOpenAi({ backend, models: ['qwen'], apiKey: 'sk-secret' });
  servers.push(server);
  const p = new OpenAiProvider({
    url: `${server.url}/v1`,
    model: 'qwen',
    apiKey: 'sk-secret',
    maxTokens: 32,
  });
  const seen: string[] = [];
  const c = await p.complete({ messages, onToken: (t) => seen.push(t), temperature: 0.1 });
  assert.equal(c.text, 'Hi there');
  assert.deepEqual(seen, ['Hi', ' there']);
  assert.equal(c.model, 'qwen');
  assert.equal(c.provider, 'openai');
  assert.equal(c.promptTokens, 9);
  assert.equal(c.completionTokens, 3);
  assert.deepEqual(server.requests[0], {
    model: 'qwen',
    messages,
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 32,
    temperature: 0.1,
  });
  assert.equal(server.authorizations[0], 'Bearer sk-secret');
});

test('without usage the counts are estimated; an empty model is left to the server', async () => {
  const server = await startFakeOpenAi({
    backend: new ScriptedProvider().queue({ chunks: ['abcd', 'efgh'] }),
    omitUsage: true,
  });
  servers.push(server);
  const c = await new OpenAiProvider({ url: server.url, model: '' }).complete({ messages });
  assert.equal(c.completionTokens, 2);
  assert.ok(c.promptTokens > 0);
  assert.equal(c.model, 'tiny', 'the model id the server reported');
  assert.equal('model' in (server.requests[0] ?? {}), false);
  assert.equal(server.authorizations[0], undefined, 'no key, no header');
});

test('a refused or missing API key is explained without printing the key', async () => {
  const server = await startFakeOpenAi({ backend: new ScriptedProvider(), apiKey: 'right' });
  servers.push(server);
  await assert.rejects(
    new OpenAiProvider({ url: server.url, model: 'tiny', apiKey: 'sk-wrong-key' }).complete({ messages }),
    (e: unknown) => {
      assert.ok(e instanceof LlmUnavailableError);
      assert.match(e.message, /HTTP 401: the API key \(TIMMY_LLM_OPENAI_API_KEY\) was refused/);
      assert.ok(!e.message.includes('sk-wrong-key'));
      return true;
    },
  );
  await assert.rejects(
    new OpenAiProvider({ url: server.url, model: 'tiny' }).complete({ messages }),
    /needs an API key/,
  );
});

test('an unknown model names the model and where to look', async () => {
  const server = await startFakeOpenAi({ backend: new ScriptedProvider(), models: ['a'] });
  servers.push(server);
  await assert.rejects(
    new OpenAiProvider({ url: server.url, model: 'b' }).complete({ messages }),
    /model "b" is not served by .*does not exist.*\/v1\/models/,
  );
});

test('a server that ignores stream:true and answers JSON still works', async () => {
  const url = await raw((res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        model: 'm',
        choices: [{ message: { content: 'whole' } }],
        usage: { prompt_tokens: 4, completion_tokens: 1 },
      }),
    );
  });
  const seen: string[] = [];
  const c = await new OpenAiProvider({ url, model: 'm' }).complete({
    messages,
    onToken: (t) => seen.push(t),
  });
  assert.equal(c.text, 'whole');
  assert.deepEqual(seen, ['whole']);
  assert.equal(c.completionTokens, 1);
});

test('a stream ending with a finish_reason but no [DONE] is accepted', async () => {
  const url = await raw(sse([delta('ok'), delta('', 'stop')]));
  assert.equal((await new OpenAiProvider({ url, model: 'm' }).complete({ messages })).text, 'ok');
});

test('garbage is an LlmResponseError', async () => {
  const cases: [(res: ServerResponse) => void, RegExp][] = [
    [sse([delta('a'), '{oops']), /malformed event.*\{oops/],
    [sse(['[1,2]']), /unexpected event/],
    [sse([JSON.stringify({ choices: 'x' })]), /choices is not a list/],
    [sse([delta(5)]), /delta.content is not text/],
    [sse([delta('a')]), /ended before \[DONE\]/],
    [sse([delta('', 'stop'), '[DONE]']), /no text/],
    [sse([JSON.stringify({ error: { message: 'context too long' } })]), /server error: context too long/],
    [
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"choices":[]}');
      },
      /no message content/,
    ],
  ];
  for (const [handler, re] of cases) {
    const url = await raw(handler);
    await assert.rejects(new OpenAiProvider({ url, model: 'm' }).complete({ messages }), (e: unknown) => {
      assert.ok(e instanceof LlmResponseError, String(e));
      assert.match(e.message, re);
      return true;
    });
  }
});

test('HTTP errors, refused connections and dropped streams are explained', async () => {
  const url500 = await raw((res) => {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('Loading model');
  });
  await assert.rejects(
    new OpenAiProvider({ url: url500, model: 'm' }).complete({ messages }),
    /HTTP 503: Loading model/,
  );
  const gone = await startLoopbackServer(() => {});
  await gone.close();
  await assert.rejects(
    new OpenAiProvider({ url: gone.url, model: 'm' }).complete({ messages }),
    /openai: cannot connect to .*connection refused/,
  );
  const dropped = await raw((res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${delta('par')}\n\n`);
    setTimeout(() => res.socket?.destroy(), 20);
  });
  await assert.rejects(new OpenAiProvider({ url: dropped, model: 'm' }).complete({ messages }), /broke off/);
});

test('abort mid-stream rejects promptly with an AbortError', async () => {
  const backend = new ScriptedProvider().queue({ chunks: ['a'], hang: true });
  const server = await startFakeOpenAi({ backend });
  servers.push(server);
  const ac = new AbortController();
  const p = new OpenAiProvider({ url: server.url, model: 'tiny', apiKey: 'sk-hidden' }).complete({
    messages,
    signal: ac.signal,
    onToken: () => ac.abort(),
  });
  await assert.rejects(p, { name: 'AbortError' });
  for (let i = 0; i < 100 && !backend.calls[0]?.signal?.aborted; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(backend.calls[0]?.signal?.aborted, true, 'the server saw the client go');
});
