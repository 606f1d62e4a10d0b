import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../../core/logger.ts';
import {
  type HandlerContext,
  type JobInput,
  JobInputError,
  type ResolvedInput,
} from '../../../dvm/handler.ts';
import { VoiceEngineError } from '../../../voice/errors.ts';
import { FakeTts } from '../../../voice/fake-tts.ts';
import { parseWav } from '../../../voice/wav.ts';
import {
  type AudioPublisher,
  createTextToSpeechHandler,
  SPEECH_NOT_ENABLED,
  textToSpeech,
} from './text-to-speech.ts';

const ctx: HandlerContext = {
  llm: () => Promise.reject(new Error('text to speech must not call the model')),
  progress: () => {},
  signal: new AbortController().signal,
  logger: silentLogger,
};

class ListPublisher implements AudioPublisher {
  readonly files: Uint8Array[] = [];
  async publish(wav: Uint8Array): Promise<string> {
    this.files.push(wav);
    return `http://media.test/${this.files.length}.wav`;
  }
}

function text(t: string, type: ResolvedInput['type'] = 'text'): ResolvedInput {
  return { type, data: type === 'text' ? t : 'e'.repeat(64), marker: '', text: t, contentType: '' };
}

function job(inputs: ResolvedInput[], params: Record<string, string> = {}): JobInput {
  return { id: 'j1', kind: 5250, customer: 'c', inputs, params, output: '' };
}

test('kind 5250: the text is spoken and the result is the URL of the WAV', async () => {
  const tts = new FakeTts();
  const pub = new ListPublisher();
  const h = createTextToSpeechHandler({ tts, publisher: pub });
  assert.deepEqual(h.kinds, [5250]);
  assert.equal(h.fetchesUrls, undefined);
  const out = await h.run(job([text('Mic check, one, two.')], { language: 'en' }), ctx);
  assert.equal(out.content, 'http://media.test/1.wav');
  assert.equal(tts.calls[0]?.text, 'Mic check, one, two.');
  assert.equal(parseWav(pub.files[0] as Uint8Array).sampleRate, 16_000);
});

test('event and job inputs are spoken from their content, joined', async () => {
  const tts = new FakeTts();
  const h = createTextToSpeechHandler({ tts, publisher: new ListPublisher() });
  await h.run(job([text('first', 'event'), text('second', 'job')]), ctx);
  assert.equal(tts.calls[0]?.text, 'first\n\nsecond');
});

test('refusals: no text, too long, another language; engine failures are not the customer’s', async () => {
  const tts = new FakeTts();
  const pub = new ListPublisher();
  const h = createTextToSpeechHandler({ tts, publisher: pub, maxChars: 20 });
  await assert.rejects(h.run(job([text('  ')]), ctx), /needs the text to speak/);
  await assert.rejects(h.run(job([text('x'.repeat(21))]), ctx), (e: Error) => {
    assert.ok(e instanceof JobInputError);
    assert.match(e.message, /21 characters long; at most 20/);
    return true;
  });
  await assert.rejects(h.run(job([text('hola')], { language: 'es' }), ctx), /English only/);
  tts.queue(new VoiceEngineError('fake', 'crashed'));
  await assert.rejects(h.run(job([text('hello')]), ctx), (e: Error) => !(e instanceof JobInputError));
  assert.equal(pub.files.length, 0);
});

test('without engines the handler says how to enable voice', async () => {
  await assert.rejects(textToSpeech.run(job([text('hi')]), ctx), new JobInputError(SPEECH_NOT_ENABLED));
});
