import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import { CompletionBuilder, clip, tokenCount } from './completion-builder.ts';
import { type CompletionRequest, LlmResponseError } from './provider.ts';
import { estimatePromptTokens, estimateTokens } from './token-estimate.ts';

const messages: CompletionRequest['messages'] = [{ role: 'user', content: 'Say something nice.' }];

test('accumulates pieces, streams each to onToken, and measures the latency from its creation', () => {
  const clock = new ManualClock();
  const pieces: string[] = [];
  const answer = new CompletionBuilder({
    provider: 'p',
    model: 'm',
    request: { messages, onToken: (t) => pieces.push(t) },
    clock,
  });
  answer.append('Hello');
  answer.append('');
  answer.append(', world');
  clock.advance(250);
  answer.setUsage(12, 3);
  assert.deepEqual(answer.finish(), {
    text: 'Hello, world',
    provider: 'p',
    model: 'm',
    promptTokens: 12,
    completionTokens: 3,
    latencyMs: 250,
  });
  assert.deepEqual(pieces, ['Hello', ', world'], 'empty pieces are not streamed');
});

test('the server may name the model; an empty or non-string name is ignored', () => {
  const answer = new CompletionBuilder({
    provider: 'p',
    model: 'default',
    request: { messages },
    clock: new ManualClock(),
  });
  answer.append('x');
  answer.setModel('');
  answer.setModel(42);
  assert.equal(answer.finish().model, 'default');
  answer.setModel('llama3.2:1b');
  answer.setModel(undefined);
  assert.equal(answer.finish().model, 'llama3.2:1b');
});

test('token counts the server does not report (or reports wrongly) are estimated; good ones stick', () => {
  const answer = new CompletionBuilder({
    provider: 'p',
    model: 'm',
    request: { messages },
    clock: new ManualClock(),
  });
  answer.append('four score and seven');
  answer.setUsage(undefined, -1);
  let c = answer.finish();
  assert.equal(c.promptTokens, estimatePromptTokens(messages));
  assert.equal(c.completionTokens, estimateTokens('four score and seven'));
  answer.setUsage(7, 5);
  answer.setUsage('9', null);
  c = answer.finish();
  assert.equal(c.promptTokens, 7);
  assert.equal(c.completionTokens, 5);
});

test('an answer with no text is an LlmResponseError naming the provider', () => {
  const answer = new CompletionBuilder({
    provider: 'ollama',
    model: 'm',
    request: { messages },
    clock: new ManualClock(),
  });
  answer.append('');
  assert.throws(
    () => answer.finish(),
    (err: unknown) => err instanceof LlmResponseError && err.message === 'ollama: answered with no text',
  );
});

test('tokenCount accepts finite counts ≥ 0 only; clip shortens long quotes', () => {
  assert.equal(tokenCount(0), 0);
  assert.equal(tokenCount(17), 17);
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '3', null, undefined, {}]) {
    assert.equal(tokenCount(bad), undefined, String(bad));
  }
  assert.equal(clip('short'), 'short');
  const long = 'a'.repeat(200);
  assert.equal(clip(long), `${'a'.repeat(120)}…`);
  assert.equal(clip('b'.repeat(120)), 'b'.repeat(120));
});
