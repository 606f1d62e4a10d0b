import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LlmResponseError } from './provider.ts';
import { ScriptedProvider } from './scripted.ts';

const messages = [{ role: 'user' as const, content: 'hi' }];

test('answers queued steps in order and records the requests', async () => {
  const llm = new ScriptedProvider({ name: 'fake', model: 'm1' }).queue('one', { text: 'two', model: 'm2' });
  assert.equal(llm.pending, 2);
  const a = await llm.complete({ messages });
  assert.equal(a.text, 'one');
  assert.equal(a.provider, 'fake');
  assert.equal(a.model, 'm1');
  assert.ok(a.promptTokens > 0);
  assert.equal(a.completionTokens, 1);
  const b = await llm.complete({ messages, maxTokens: 5 });
  assert.equal(b.model, 'm2');
  assert.equal(llm.calls.length, 2);
  assert.equal(llm.calls[1]?.maxTokens, 5);
  assert.equal(llm.pending, 0);
});

test('streams chunks through onToken; the text is their concatenation', async () => {
  const llm = new ScriptedProvider().queue({ chunks: ['a', 'b', 'c'], chunkDelayMs: 1, completionTokens: 7 });
  const seen: string[] = [];
  const c = await llm.complete({ messages, onToken: (t) => seen.push(t) });
  assert.deepEqual(seen, ['a', 'b', 'c']);
  assert.equal(c.text, 'abc');
  assert.equal(c.completionTokens, 7);
});

test('errors, garbage, chunks-then-error', async () => {
  const boom = new Error('boom');
  const llm = new ScriptedProvider().queue(
    { error: boom },
    { error: 'text error' },
    { garbage: true },
    {
      chunks: ['par', 'tial'],
      error: 'cut',
    },
  );
  await assert.rejects(llm.complete({ messages }), (e) => e === boom);
  await assert.rejects(llm.complete({ messages }), /text error/);
  await assert.rejects(llm.complete({ messages }), LlmResponseError);
  const seen: string[] = [];
  await assert.rejects(llm.complete({ messages, onToken: (t) => seen.push(t) }), /cut/);
  assert.deepEqual(seen, ['par', 'tial']);
});

test('hang and delay honour the abort signal promptly', async () => {
  const llm = new ScriptedProvider().queue({ hang: true }, { text: 'late', delayMs: 60_000 });
  for (let i = 0; i < 2; i++) {
    const ac = new AbortController();
    const p = llm.complete({ messages, signal: ac.signal });
    const t = Date.now();
    setTimeout(() => ac.abort(), 10);
    await assert.rejects(p, { name: 'AbortError' });
    assert.ok(Date.now() - t < 1000);
  }
  const done = new AbortController();
  done.abort();
  llm.queue('x');
  await assert.rejects(llm.complete({ messages, signal: done.signal }), { name: 'AbortError' });
});

test('empty queue: rejects clearly, or uses the default answer', async () => {
  await assert.rejects(new ScriptedProvider().complete({ messages }), /no scripted answer queued/);
  const llm = new ScriptedProvider({ defaultAnswer: 'default' });
  assert.equal((await llm.complete({ messages })).text, 'default');
  assert.equal((await llm.complete({ messages })).text, 'default');
  await llm.close();
  await llm.close();
  assert.equal(llm.closed, true);
});
