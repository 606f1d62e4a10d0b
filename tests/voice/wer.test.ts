import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeWords, wordEdits, wordErrorRate } from '../../voice/wer.ts';

test('words are compared lower-case, without punctuation', () => {
  assert.deepEqual(normalizeWords("Don't stop, Half-past SEVEN!"), [
    "don't",
    'stop',
    'half',
    'past',
    'seven',
  ]);
  assert.equal(wordErrorRate('The cat sat.', 'the cat sat'), 0);
});

test('substitutions, deletions and insertions each count one edit', () => {
  assert.equal(wordEdits(['a', 'b', 'c'], ['a', 'x', 'c']), 1);
  assert.equal(wordEdits(['a', 'b', 'c'], ['a', 'c']), 1);
  assert.equal(wordEdits(['a', 'b', 'c'], ['a', 'b', 'x', 'c']), 1);
  assert.equal(wordEdits(['a', 'b'], []), 2);
  assert.equal(wordErrorRate('one two three four', 'one too three'), 0.5);
  assert.equal(wordErrorRate('a b', 'x y z w'), 2);
});

test('empty texts', () => {
  assert.equal(wordErrorRate('', ''), 0);
  assert.equal(wordErrorRate('', 'noise'), 1);
  assert.equal(wordErrorRate('hello', ''), 1);
});
