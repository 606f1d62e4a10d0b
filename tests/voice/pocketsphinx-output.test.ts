import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VoiceEngineMissingError } from '../../voice/errors.ts';
import { FliteTts } from '../../voice/flite-tts.ts';
import { PocketsphinxStt, parsePocketsphinxOutput } from '../../voice/pocketsphinx-stt.ts';

test('pocketsphinx_continuous -time yes: utterances joined, words timed, fillers and alternates cleaned', () => {
  const out = [
    'the quick brown fox',
    '<s> 0.000 0.140 0.999800',
    'the 0.150 0.270 0.556289',
    'quick 0.280 0.550 0.179335',
    '<sil> 0.560 0.600 1.000000',
    'brown(2) 0.610 0.900 0.635939',
    '[NOISE] 0.900 0.910 1.000000',
    'fox 0.910 1.280 0.999900',
    '</s> 1.290 1.300 1.000000',
    'read me',
    'read(2) 2.000 2.200 0.9',
    'me 2.210 2.400 1.2',
    '',
  ].join('\n');
  const r = parsePocketsphinxOutput(out);
  assert.equal(r.text, 'the quick brown fox read me');
  assert.deepEqual(
    r.words.map((w) => w.word),
    ['the', 'quick', 'brown', 'fox', 'read', 'me'],
  );
  assert.deepEqual(r.words[0], { word: 'the', startMs: 150, endMs: 270, confidence: 0.556289 });
  assert.equal(r.words[5]!.confidence, 1);
  assert.deepEqual(parsePocketsphinxOutput(''), { text: '', words: [] });
});

test('a missing binary or model names exactly what to install', () => {
  assert.throws(
    () => new PocketsphinxStt({ binary: '/nonexistent/pocketsphinx_continuous' }),
    (e: unknown) =>
      e instanceof VoiceEngineMissingError &&
      e.message.includes('/nonexistent/pocketsphinx_continuous') &&
      e.message.includes('apt-get install pocketsphinx pocketsphinx-en-us'),
  );
  assert.throws(
    () => new PocketsphinxStt({ modelDir: '/nonexistent/en-us' }),
    (e: unknown) =>
      e instanceof VoiceEngineMissingError &&
      e.missing.includes('/nonexistent/en-us/en-us.lm.bin') &&
      /install it with: apt-get install pocketsphinx pocketsphinx-en-us/.test(e.message),
  );
  assert.throws(
    () => new FliteTts({ binary: 'no-such-flite' }),
    (e: unknown) =>
      e instanceof VoiceEngineMissingError &&
      e.message === 'flite is not available: no-such-flite not found; install it with: apt-get install flite',
  );
});
