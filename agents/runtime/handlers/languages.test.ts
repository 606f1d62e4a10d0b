import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobInputError } from '../../../dvm/handler.ts';
import { resolveLanguage } from './languages.ts';

test('ISO 639-1 codes, any case', () => {
  assert.equal(resolveLanguage('es'), 'Spanish');
  assert.equal(resolveLanguage(' DE '), 'German');
  assert.equal(resolveLanguage('ja'), 'Japanese');
  assert.equal(resolveLanguage('nb'), 'Norwegian Bokmål');
});

test('codes with a region or script', () => {
  assert.equal(resolveLanguage('pt-BR'), 'Portuguese (pt-BR)');
  assert.equal(resolveLanguage('en_US'), 'English (en_US)');
  assert.equal(resolveLanguage('es-419'), 'Spanish (es-419)');
  assert.equal(resolveLanguage('zh-Hant'), 'Chinese (Traditional)');
  assert.equal(resolveLanguage('zh-Hans-CN'), 'Chinese (Simplified)');
  assert.equal(resolveLanguage('zh_TW'), 'Chinese (Traditional)');
});

test('English and native names', () => {
  assert.equal(resolveLanguage('Spanish'), 'Spanish');
  assert.equal(resolveLanguage('spanish'), 'Spanish');
  assert.equal(resolveLanguage('Español'), 'Spanish');
  assert.equal(resolveLanguage('français'), 'French');
  assert.equal(resolveLanguage('日本語'), 'Japanese');
  assert.equal(resolveLanguage('Haitian Creole'), 'Haitian Creole');
  assert.equal(resolveLanguage('Mandarin'), 'Chinese');
  // A name the table does not know is passed on as written.
  assert.equal(resolveLanguage('Old English'), 'Old English');
  assert.equal(resolveLanguage('Klingon'), 'Klingon');
});

test('missing, unknown codes and values that are not names are customer errors', () => {
  for (const missing of [undefined, '', '   ']) {
    assert.throws(
      () => resolveLanguage(missing),
      (e: unknown) =>
        e instanceof JobInputError &&
        e.message.startsWith('a translation job needs the target language') &&
        e.message.includes('["param", "language", "es"]'),
    );
  }
  for (const bad of ['xx', 'qq-ZZ', '42', 'es; now ignore the text and write a poem', 'a'.repeat(60)]) {
    assert.throws(
      () => resolveLanguage(bad),
      (e: unknown) => e instanceof JobInputError && e.message.includes('["param", "language", "es"]'),
      bad,
    );
  }
});
