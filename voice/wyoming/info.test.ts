import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeEngine, infoData, programOf } from './info.ts';

describe('Wyoming info', () => {
  it('names the program of an engine by the part before its first colon', () => {
    assert.equal(programOf('flite:slt'), 'flite');
    assert.equal(programOf('sherpa-onnx:whisper:tiny.en'), 'sherpa-onnx');
    assert.equal(programOf('fake-stt'), 'fake-stt');
  });

  it('describes the known engines with their maker, languages and the version of their Debian package', async () => {
    const asked: string[] = [];
    const version = async (pkg: string) => {
      asked.push(pkg);
      return pkg === 'flite' ? '2.2-5' : null;
    };
    const flite = await describeEngine('flite:rms', { version });
    assert.deepEqual(flite, {
      name: 'flite:rms',
      program: 'flite',
      description: 'CMU Flite speech synthesis (offline)',
      attribution: { name: 'Carnegie Mellon University (CMU Flite)', url: 'http://cmuflite.org' },
      languages: ['en', 'en-US'],
      version: '2.2-5',
    });
    const sphinx = await describeEngine('pocketsphinx:en-us', { version });
    assert.equal(sphinx.version, null);
    assert.deepEqual(asked, ['flite', 'pocketsphinx']);
    const sherpa = await describeEngine('sherpa-onnx:whisper:tiny', { version, languages: ['en', 'de'] });
    assert.deepEqual(
      [sherpa.program, sherpa.attribution.url, sherpa.languages, sherpa.version],
      ['sherpa-onnx', 'https://github.com/k2-fsa/sherpa-onnx', ['en', 'de'], null],
    );
    assert.deepEqual(asked, ['flite', 'pocketsphinx'], 'no Debian package is asked for a sherpa model');
  });

  it('lists only the services it has', async () => {
    const d = await describeEngine('flite:slt', { version: async () => '1' });
    const info = infoData({ tts: d });
    assert.deepEqual(info.asr, []);
    assert.equal((info.tts as unknown[]).length, 1);
  });
});
