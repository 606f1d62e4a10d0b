import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SentenceSplitter, sentencesOf, speakable } from './pipeline-sentences.ts';

test('sentences complete as the text streams in; the rest comes at flush', () => {
  const s = new SentenceSplitter();
  assert.deepEqual(s.push('Hello there'), []);
  assert.deepEqual(s.push('. How are'), ['Hello there.']);
  assert.deepEqual(s.push(' you? Fine'), ['How are you?']);
  assert.deepEqual(s.flush(), ['Fine']);
  assert.deepEqual(s.flush(), []);
});

test('abbreviations and decimals do not end a sentence; markdown is not spoken', () => {
  assert.deepEqual(sentencesOf('Use e.g. flite. Pi is 3.14 here. **Done**!'), [
    'Use e.g. flite.',
    'Pi is 3.14 here.',
    'Done!',
  ]);
  assert.equal(
    speakable('# Title\n- item one\n`code` and [a link](http://x)'),
    'Title item one code and a link',
  );
});

test('a sentence longer than 300 characters is cut at a comma or space', () => {
  const long = `${'word, '.repeat(80)}end.`;
  const parts = sentencesOf(long);
  assert.ok(parts.length >= 2);
  for (const p of parts) assert.ok(p.length <= 300, String(p.length));
  assert.equal(parts.join(' ').replace(/\s+/g, ' '), long.replace(/\s+/g, ' ').trim());
});
