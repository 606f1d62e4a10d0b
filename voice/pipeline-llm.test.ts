import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScriptedProvider } from '../llm/scripted.ts';
import { streamCompletion } from './pipeline-llm.ts';

const messages = [{ role: 'user' as const, content: 'hi' }];

test('streamCompletion yields the tokens as the model writes them, or the whole answer', async () => {
  const llm = new ScriptedProvider().queue({ chunks: ['Hel', 'lo. ', 'Bye.'], chunkDelayMs: 5 }, 'Whole.');
  const got: string[] = [];
  for await (const p of streamCompletion(llm, { messages })) got.push(p);
  assert.deepEqual(got, ['Hel', 'lo. ', 'Bye.']);
  const whole: string[] = [];
  for await (const p of streamCompletion(llm, { messages })) whole.push(p);
  assert.deepEqual(whole, ['Whole.']);
});

test('a failing model rejects the iteration after what it wrote', async () => {
  const llm = new ScriptedProvider().queue({ chunks: ['Part. '], error: 'model crashed' });
  const got: string[] = [];
  await assert.rejects(async () => {
    for await (const p of streamCompletion(llm, { messages })) got.push(p);
  }, /model crashed/);
  assert.deepEqual(got, ['Part. ']);
});
