import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../../core/logger.ts';
import {
  type HandlerContext,
  type JobInput,
  JobInputError,
  type ResolvedInput,
} from '../../../dvm/handler.ts';
import { echo } from './echo.ts';

const ctx: HandlerContext = {
  llm: () => Promise.reject(new Error('echo must not call the model')),
  progress: () => {},
  signal: new AbortController().signal,
  logger: silentLogger,
};

function input(text: string): ResolvedInput {
  return { type: 'text', data: text, marker: '', text, contentType: '' };
}

function job(inputs: ResolvedInput[]): JobInput {
  return { id: 'e1', kind: 5700, customer: 'c', inputs, params: {}, output: '' };
}

test('echo describes itself', () => {
  assert.equal(echo.name, 'echo');
  assert.deepEqual(echo.kinds, [5700]);
  assert.equal(echo.needsLlm, false);
});

test('echo returns its single input unchanged, whitespace included', async () => {
  assert.deepEqual(await echo.run(job([input('  hello\nworld  ')]), ctx), { content: '  hello\nworld  ' });
});

test('echo joins several inputs with a newline, empty ones included', async () => {
  const out = await echo.run(job([input('a'), input(''), input('c')]), ctx);
  assert.equal(out.content, 'a\n\nc');
});

test('echo without inputs is a customer error', async () => {
  await assert.rejects(
    echo.run(job([]), ctx),
    (e: unknown) => e instanceof JobInputError && e.message === 'an echo job needs at least one input',
  );
});
