import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ScriptedProvider } from '../scripted.ts';
import { type LoopbackServer, startLoopbackServer } from './loopback-server.ts';
import { startFakeOllama } from './ollama-server.ts';
import { startFakeOpenAi } from './openai-server.ts';

const servers: LoopbackServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('the loopback server listens on 127.0.0.1, reports handler errors as 500, and closes open streams', async () => {
  const s = await startLoopbackServer((req, body, res) => {
    if (req.url === '/throw') throw new Error('handler broke');
    if (req.url === '/hang') {
      res.writeHead(200);
      res.write('x');
      return;
    }
    res.end(`echo ${body}`);
  });
  assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(await (await post(`${s.url}/`, 'hi')).text(), 'echo "hi"');
  const broken = await fetch(`${s.url}/throw`);
  assert.equal(broken.status, 500);
  assert.deepEqual(await broken.json(), { error: 'handler broke' });
  const hanging = await fetch(`${s.url}/hang`);
  const reading = hanging.text();
  await s.close();
  await assert.rejects(reading);
});

test('the fake Ollama answers stream:false, lists tags and 404s unknown routes', async () => {
  const s = await startFakeOllama({
    backend: new ScriptedProvider({ defaultAnswer: 'whole' }),
    models: ['m'],
  });
  servers.push(s);
  const r = (await (
    await post(`${s.url}/api/chat`, { model: 'm:latest', messages: [], stream: false })
  ).json()) as {
    message: { content: string };
    done: boolean;
  };
  assert.equal(r.message.content, 'whole');
  assert.equal(r.done, true);
  assert.deepEqual(await (await fetch(`${s.url}/api/tags`)).json(), {
    models: [{ name: 'm:latest', model: 'm:latest', size: 1 }],
  });
  assert.equal((await fetch(`${s.url}/api/other`)).status, 404);
});

test('the fake OpenAI server answers without stream and reports backend errors', async () => {
  const backend = new ScriptedProvider().queue('whole', { error: 'backend down' }, { error: 'mid' });
  const s = await startFakeOpenAi({ backend });
  servers.push(s);
  const ok = (await (await post(`${s.url}/v1/chat/completions`, { messages: [] })).json()) as {
    choices: { message: { content: string } }[];
    usage: { completion_tokens: number };
  };
  assert.equal(ok.choices[0]?.message.content, 'whole');
  assert.equal(ok.usage.completion_tokens, 1);
  const failed = await post(`${s.url}/v1/chat/completions`, { messages: [] });
  assert.equal(failed.status, 500);
  const streamed = await (await post(`${s.url}/v1/chat/completions`, { messages: [], stream: true })).text();
  assert.match(streamed, /data: \{"error":\{"message":"mid"\}\}/);
  assert.equal((await fetch(`${s.url}/v2/x`)).status, 404);
});
