import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type JobInput, JobInputError } from '../../../dvm/handler.ts';
import { inputText, intParam, numberParam, textParam } from './params.ts';

const isInputError = (re: RegExp) => (e: unknown) => e instanceof JobInputError && re.test(e.message);

test('intParam: absent or blank is undefined; whole numbers in range pass', () => {
  const range = { min: 1, max: 10 };
  assert.equal(intParam({}, 'n', range), undefined);
  assert.equal(intParam({ n: '  ' }, 'n', range), undefined);
  assert.equal(intParam({ n: ' 7 ' }, 'n', range), 7);
  assert.equal(intParam({ n: '+10' }, 'n', range), 10);
  assert.equal(intParam({ n: '1' }, 'n', range), 1);
});

test('intParam: out of range, fractions, words and huge values are customer errors with an example', () => {
  const range = { min: 1, max: 10 };
  for (const bad of ['0', '11', '-3', '2.0', '1e1', 'ten', '0x5', '9'.repeat(10_000)])
    assert.throws(
      () => intParam({ n: bad }, 'n', range),
      isInputError(/^param "n" must be a whole number from 1 to 10/),
    );
  assert.throws(
    () => intParam({ n: '9'.repeat(10_000) }, 'n', range),
    (e: unknown) => e instanceof Error && e.message.length < 200 && e.message.includes('["param", "n", "1"]'),
  );
});

test('numberParam: decimals in range pass; the rest are customer errors', () => {
  const range = { min: 0, max: 2 };
  assert.equal(numberParam({ t: '0.7' }, 't', range), 0.7);
  assert.equal(numberParam({ t: '.5' }, 't', range), 0.5);
  assert.equal(numberParam({ t: '2.' }, 't', range), 2);
  assert.equal(numberParam({ t: '0' }, 't', range), 0);
  for (const bad of ['-0.1', '2.01', 'NaN', 'Infinity', '1e0', '1,5', `1${'1'.repeat(30)}x`]) {
    assert.throws(
      () => numberParam({ t: bad }, 't', range),
      isInputError(/^param "t" must be a number from 0 to 2/),
    );
  }
  // A long run of digits is refused at once (no backtracking pattern on customer input).
  const started = Date.now();
  assert.throws(() => numberParam({ t: `${'1'.repeat(100_000)}x` }, 't', range), JobInputError);
  assert.ok(Date.now() - started < 500);
});

test('textParam trims and treats blank as absent', () => {
  assert.equal(textParam({ s: '  be brief ' }, 's'), 'be brief');
  assert.equal(textParam({ s: ' ' }, 's'), undefined);
  assert.equal(textParam({}, 's'), undefined);
});

test('inputText joins the non-blank inputs, or throws the given customer error', () => {
  const job = (...texts: string[]): JobInput => ({
    id: 'j',
    kind: 5050,
    customer: 'c',
    inputs: texts.map((text) => ({ type: 'text', data: text, marker: '', text, contentType: '' })),
    params: {},
    output: '',
  });
  assert.equal(inputText(job('a', ' ', 'b'), '\n\n', 'x'), 'a\n\nb');
  assert.throws(() => inputText(job(), '\n', 'nothing to do'), isInputError(/^nothing to do$/));
  assert.throws(() => inputText(job('', ' \n'), '\n', 'nothing to do'), isInputError(/^nothing to do$/));
});
