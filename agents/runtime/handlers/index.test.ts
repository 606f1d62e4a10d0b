import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinHandlers, findHandler, HANDLER_NAMES, isHandlerName } from './index.ts';

test('HANDLER_NAMES lists exactly the built-in handlers, in order, without duplicates', () => {
  assert.deepEqual(
    builtinHandlers().map((h) => h.name),
    [...HANDLER_NAMES],
  );
  assert.equal(new Set(HANDLER_NAMES).size, HANDLER_NAMES.length);
});

test('findHandler and isHandlerName', () => {
  for (const name of HANDLER_NAMES) {
    assert.equal(findHandler(name)?.name, name);
    assert.ok(isHandlerName(name));
  }
  assert.equal(findHandler('nope'), undefined);
  assert.equal(findHandler('Echo'), undefined);
  assert.ok(!isHandlerName('nope'));
});

test('kinds and model needs', () => {
  const byName = Object.fromEntries(builtinHandlers().map((h) => [h.name, h]));
  assert.deepEqual(byName.echo?.kinds, [5700]);
  assert.deepEqual(byName['extractive-summary']?.kinds, [5001]);
  assert.deepEqual(byName['text-extraction']?.kinds, [5000]);
  assert.deepEqual(byName['text-generation']?.kinds, [5050]);
  assert.deepEqual(byName.translation?.kinds, [5002]);
  assert.deepEqual(byName['speech-to-text']?.kinds, [5000]);
  assert.deepEqual(byName['text-to-speech']?.kinds, [5250]);
  assert.deepEqual(
    builtinHandlers()
      .filter((h) => h.needsLlm)
      .map((h) => h.name),
    ['text-generation', 'translation'],
  );
});
