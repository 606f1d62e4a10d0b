import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitSentences } from './sentences.ts';

const texts = (text: string): string[] => splitSentences(text).map((s) => s.text);

test('abbreviations, titles, initials, decimals and numbered references stay inside a sentence', () => {
  assert.deepEqual(
    texts(
      'Dr. Smith paid $3.50 for fruit, e.g. apples. The U.S. Army was there at 5 p.m. on Friday. ' +
        'Then J. R. R. Tolkien wrote. See No. 5 now. It ended etc. Next one!',
    ),
    [
      'Dr. Smith paid $3.50 for fruit, e.g. apples.',
      'The U.S. Army was there at 5 p.m. on Friday.',
      'Then J. R. R. Tolkien wrote.',
      'See No. 5 now.',
      'It ended etc.',
      'Next one!',
    ],
  );
});

test('quotes, ellipses and question marks', () => {
  assert.deepEqual(texts('He said "Stop." Then he left... And? yes. Was it so? No.'), [
    'He said "Stop."',
    'Then he left...',
    'And? yes.',
    'Was it so?',
    'No.',
  ]);
});

test('wrapped lines are joined; paragraphs, list items and headings are their own units', () => {
  const s = splitSentences(
    '# Report\nA line that is wrapped\nacross two lines. Another one.\n\n- item one\n- item two is here.\n' +
      '2) numbered item\n\nIntro\nBees are important.\nHistory\nThe hive is old.',
  );
  assert.deepEqual(
    s.map((x) => [x.text, x.heading, x.paragraphStart]),
    [
      ['Report', true, true],
      ['A line that is wrapped across two lines.', false, false],
      ['Another one.', false, false],
      ['item one', false, true],
      ['item two is here.', false, false],
      ['numbered item', false, false],
      ['Intro', true, true],
      ['Bees are important.', false, false],
      ['History', true, false],
      ['The hive is old.', false, false],
    ],
  );
  assert.deepEqual(
    s.map((x) => x.paragraph),
    [0, 0, 0, 1, 1, 1, 2, 2, 2, 2],
  );
});

test('non-Latin scripts: CJK without spaces, Devanagari danda, Arabic and Cyrillic', () => {
  assert.deepEqual(texts('这是第一句。这是第二句！第三句？「引用。」结束'), [
    '这是第一句。',
    '这是第二句！',
    '第三句？',
    '「引用。」',
    '结束',
  ]);
  assert.deepEqual(texts('यह पहला वाक्य है। यह दूसरा है।'), ['यह पहला वाक्य है।', 'यह दूसरा है।']);
  assert.deepEqual(texts('هذا سؤال؟ نعم. هذا جواب.'), ['هذا سؤال؟', 'نعم.', 'هذا جواب.']);
  assert.deepEqual(texts('Привет. Как дела? хорошо.'), ['Привет.', 'Как дела? хорошо.']);
});

test('blank text, CRLF and punctuation-only lines', () => {
  assert.deepEqual(splitSentences(''), []);
  assert.deepEqual(splitSentences(' \n\t\n '), []);
  assert.deepEqual(texts('One.\r\nTwo.\r\n\r\n---\r\n***'), ['One.', 'Two.']);
});
