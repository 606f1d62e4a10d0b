import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { errorDetail, networkReason, providerFetch } from './http-fetch.ts';
import { LlmUnavailableError } from './provider.ts';

test('a refused connection names the URL and suggests the server is down', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  const url = `http://127.0.0.1:${port}/api/chat`;
  await assert.rejects(providerFetch('ollama', url, { method: 'POST' }), (e: unknown) => {
    assert.ok(e instanceof LlmUnavailableError);
    assert.match(e.message, new RegExp(`ollama: cannot connect to ${url}: connection refused`));
    return true;
  });
});

test('an aborted fetch rejects with an AbortError', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(providerFetch('x', 'http://127.0.0.1:9/', { signal: ac.signal }), {
    name: 'AbortError',
  });
});

test('networkReason picks the most specific reason', () => {
  assert.equal(
    networkReason(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } })),
    'ECONNRESET',
  );
  assert.equal(
    networkReason(Object.assign(new TypeError('fetch failed'), { cause: new Error('bad') })),
    'bad',
  );
  assert.equal(networkReason('plain'), 'plain');
  assert.match(networkReason({ cause: { code: 'ENOTFOUND' } }), /host not found/);
});

test('errorDetail reads the usual error bodies', async () => {
  assert.equal(await errorDetail(new Response('{"error":"model \\"x\\" not found"}')), 'model "x" not found');
  assert.equal(await errorDetail(new Response('{"error":{"message":"bad key"}}')), 'bad key');
  assert.equal(await errorDetail(new Response('{"message":"m"}')), 'm');
  assert.equal(await errorDetail(new Response('Bad Gateway')), 'Bad Gateway');
  assert.equal((await errorDetail(new Response('x'.repeat(500)))).length, 301);
});
