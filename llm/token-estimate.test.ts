import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimatePromptTokens, estimateTokens } from './token-estimate.ts';

test('about four characters a token, never zero for non-empty text', () => {
  assert.equal(estimateTokens(''), 0);
  assert.equal(estimateTokens('a'), 1);
  assert.equal(estimateTokens('abcdefgh'), 2);
  assert.equal(estimateTokens('abcdefghi'), 3);
});

test('prompt estimate counts every message with some overhead', () => {
  assert.equal(estimatePromptTokens([]), 0);
  assert.equal(
    estimatePromptTokens([
      { role: 'system', content: 'abcd' },
      { role: 'user', content: '' },
    ]),
    9,
  );
});
