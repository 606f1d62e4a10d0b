import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VoiceEngineError } from './errors.ts';
import { FakeStt } from './fake-stt.ts';
import { FakeVad, toneBursts } from './fake-vad.ts';
import {
  SEGMENT_PAD_AFTER_MS,
  SEGMENT_PAD_BEFORE_MS,
  SttStream,
  SttStreamTooLongError,
} from './stt-stream.ts';
import { VOICE_SAMPLE_RATE } from './wav.ts';

/** Resolves once `cond` holds (checked every turn of the event loop), or rejects after 30 s. */
function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  return new Promise((resolve, reject) => {
    const check = () =>
      cond()
        ? resolve()
        : Date.now() > deadline
          ? reject(new Error('condition not met'))
          : setImmediate(check);
    check();
  });
}

/** Pushes in odd-sized chunks, as a network would deliver them. */
function pushAll(s: SttStream, samples: Int16Array, step = 1_337): void {
  for (let i = 0; i < samples.length; i += step) s.push(samples.subarray(i, i + step));
}

test('each finished segment is transcribed at once, in order, as a growing partial transcript', async () => {
  const stt = new FakeStt().queue('turn on', 'the kitchen light', 'please');
  const partials: string[] = [];
  const speech: boolean[] = [];
  const s = new SttStream({
    stt,
    vad: new FakeVad(),
    onPartial: (t) => partials.push(t),
    onSpeech: (b) => speech.push(b),
  });
  pushAll(s, toneBursts([false, 0.3], [true, 0.8], [false, 0.6], [true, 0.5], [false, 0.6], [true, 0.4]));
  assert.equal(s.speaking, true, 'the last stretch is still open');
  await until(() => partials.length === 2);
  const text = await s.end();
  assert.equal(text, 'turn on the kitchen light please');
  assert.deepEqual(
    partials,
    ['turn on', 'turn on the kitchen light'],
    'the segment closed by end is not partial',
  );
  assert.deepEqual(speech, [true, false, true, false, true]);
  // Each segment is cut with its padding: 0.8 s of tone + 100 ms before + 200 ms after.
  const first = stt.calls[0]?.seconds ?? 0;
  assert.ok(
    Math.abs(first - (0.8 + (SEGMENT_PAD_BEFORE_MS + SEGMENT_PAD_AFTER_MS) / 1000)) < 0.07,
    `${first}`,
  );
  assert.equal(stt.calls.length, 3);
});

test('without a VAD the whole stream is one transcription at the end; silence gives an empty transcript', async () => {
  const stt = new FakeStt().queue('hello there');
  const s = new SttStream({ stt, onPartial: () => assert.fail('no partial without a VAD') });
  pushAll(s, toneBursts([true, 1], [false, 1]));
  assert.equal(stt.calls.length, 0);
  assert.equal(await s.end(), 'hello there');
  assert.ok(Math.abs((stt.calls[0]?.seconds ?? 0) - 2) < 0.01);

  const quiet = new SttStream({ stt: new FakeStt(), vad: new FakeVad() });
  pushAll(quiet, toneBursts([false, 2]));
  assert.equal(await quiet.end(), '');
  assert.equal(await new SttStream({ stt: new FakeStt() }).end(), '', 'nothing pushed');
});

test('past maxSeconds push throws SttStreamTooLongError, reported once; end rejects with it', async () => {
  const errors: unknown[] = [];
  const s = new SttStream({ stt: new FakeStt(), maxSeconds: 1, onError: (e) => errors.push(e) });
  s.push(new Int16Array(VOICE_SAMPLE_RATE));
  assert.throws(() => s.push(new Int16Array(1)), SttStreamTooLongError);
  assert.equal(s.samples, VOICE_SAMPLE_RATE, 'the sample over the limit was not kept');
  s.push(new Int16Array(10)); // after the failure: ignored, no second report
  assert.equal(errors.length, 1);
  await assert.rejects(s.end(), /over 1 s/);
});

test('an engine failure is reported as it happens, later segments are not transcribed, end rejects', async () => {
  const stt = new FakeStt().queue(new VoiceEngineError('pocketsphinx', 'exited with code 1'), 'never heard');
  const errors: unknown[] = [];
  const s = new SttStream({ stt, vad: new FakeVad(), onError: (e) => errors.push(e) });
  pushAll(s, toneBursts([true, 0.5], [false, 0.6]));
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 30_000;
    const check = () =>
      errors.length > 0
        ? resolve()
        : Date.now() > deadline
          ? reject(new Error('no error'))
          : setImmediate(check);
    check();
  });
  pushAll(s, toneBursts([true, 0.5], [false, 0.6]));
  await assert.rejects(s.end(), /exited with code 1/);
  assert.equal(stt.calls.length, 1);
  assert.equal(errors.length, 1);
});

test('an abort stops the engine mid-transcription and end rejects with an AbortError', async () => {
  const ac = new AbortController();
  const stt = new FakeStt().queue({ text: 'slow', delayMs: 60_000 });
  const s = new SttStream({ stt, signal: ac.signal });
  pushAll(s, toneBursts([true, 1]));
  const ended = s.end();
  ac.abort();
  await assert.rejects(ended, { name: 'AbortError' });
});

test('bad audio from the engine is a failure like any other (not swallowed)', async () => {
  const s = new SttStream({ stt: new FakeStt({ maxSeconds: 0.5 }) });
  pushAll(s, toneBursts([true, 1]));
  await assert.rejects(s.end(), /long/);
});
