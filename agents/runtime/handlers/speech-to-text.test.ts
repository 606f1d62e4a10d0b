import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../../core/logger.ts';
import {
  type HandlerContext,
  type JobInput,
  JobInputError,
  type ResolvedInput,
} from '../../../dvm/handler.ts';
import { FakeStt } from '../../../voice/fake-stt.ts';
import { encodeWav, tone } from '../../../voice/wav.ts';
import {
  type AudioFetcher,
  createSpeechToTextHandler,
  maxAudioBytes,
  speechToText,
  toVtt,
  VOICE_NOT_ENABLED,
} from './speech-to-text.ts';

const progress: string[] = [];
const ctx: HandlerContext = {
  llm: () => Promise.reject(new Error('speech to text must not call the model')),
  progress: (m) => progress.push(m),
  signal: new AbortController().signal,
  logger: silentLogger,
};

/** A fetcher over a table of url → body (or error); it records the budgets asked. */
class TableFetcher implements AudioFetcher {
  readonly budgets: number[] = [];
  constructor(private readonly table: Record<string, { bytes: Uint8Array; contentType: string } | Error>) {}
  async fetchBytes(url: string, budget: number): Promise<{ bytes: Uint8Array; contentType: string }> {
    this.budgets.push(budget);
    const got = this.table[url];
    if (!got) throw new JobInputError(`input url ${url} answered HTTP 404`);
    if (got instanceof Error) throw got;
    return got;
  }
}

function urlInput(url: string): ResolvedInput {
  return { type: 'url', data: url, marker: '', text: '', contentType: '' };
}

function job(inputs: ResolvedInput[], extra: Partial<JobInput> = {}): JobInput {
  return { id: 'j1', kind: 5000, customer: 'c', inputs, params: {}, output: '', ...extra };
}

const wav = (seconds: number, sampleRate = 16_000) => encodeWav(tone(seconds, { sampleRate, hz: 300 }));
const audio = (bytes: Uint8Array) => ({ bytes, contentType: 'audio/wav' });

test('describes itself: kind 5000, fetches its own urls, announces its params', () => {
  const h = createSpeechToTextHandler({ stt: new FakeStt(), fetcher: new TableFetcher({}) });
  assert.equal(h.name, 'speech-to-text');
  assert.deepEqual(h.kinds, [5000]);
  assert.equal(h.fetchesUrls, true);
  assert.equal(h.needsLlm, false);
  assert.ok(h.paramSchema && 'properties' in h.paramSchema);
  assert.equal(speechToText.name, h.name);
});

test('a WAV url is fetched with the audio budget and transcribed', async () => {
  const stt = new FakeStt().queue('hello there');
  const fetcher = new TableFetcher({ 'http://a/x.wav': audio(wav(2)) });
  const h = createSpeechToTextHandler({ stt, fetcher });
  const out = await h.run(job([urlInput('http://a/x.wav')]), ctx);
  assert.equal(out.content, 'hello there');
  assert.deepEqual(fetcher.budgets, [maxAudioBytes()]);
  assert.equal(stt.calls[0]?.seconds, 2);
  assert.ok(progress.some((p) => p.startsWith('transcribing 2.0 s')));
});

test('a 48 kHz WAV is averaged down; a content type that is not audio is still read as a WAV', async () => {
  const stt = new FakeStt().queue('one', 'two');
  const h = createSpeechToTextHandler({
    stt,
    fetcher: new TableFetcher({
      'http://a/48k': audio(wav(1, 48_000)),
      'http://a/bin': { bytes: wav(1), contentType: 'application/octet-stream' },
    }),
  });
  const out = await h.run(job([urlInput('http://a/48k'), urlInput('http://a/bin')]), ctx);
  assert.equal(out.content, 'one\n\ntwo');
  assert.deepEqual(
    stt.calls.map((c) => c.seconds),
    [1, 1],
  );
});

test('range: only that part of the audio is transcribed; a bad range is refused', async () => {
  const stt = new FakeStt().queue('middle');
  const h = createSpeechToTextHandler({ stt, fetcher: new TableFetcher({ 'http://a/x': audio(wav(4)) }) });
  await h.run(job([urlInput('http://a/x')], { paramValues: { range: ['1', '2.5'] } }), ctx);
  assert.equal(stt.calls[0]?.seconds, 1.5);
  for (const range of [['2'], ['3', '1'], ['a', 'b'], ['-1', '2']])
    await assert.rejects(
      h.run(job([urlInput('http://a/x')], { paramValues: { range } }), ctx),
      (e: Error) => {
        assert.ok(e instanceof JobInputError);
        assert.match(e.message, /param "range" needs a start and an end/);
        return true;
      },
    );
  await assert.rejects(
    h.run(job([urlInput('http://a/x')], { paramValues: { range: ['10', '20'] } }), ctx),
    /starts at 10 s but the audio at http:\/\/a\/x is 4\.0 s long/,
  );
});

test('bad audio: each refusal names the url and what is wrong, as a JobInputError', async () => {
  const empty = encodeWav({ sampleRate: 16_000, samples: new Int16Array(0) });
  const long = wav(0.1);
  new DataView(long.buffer).setUint32(40, 2 * 3600 * 16_000 * 2, true); // a header claiming two hours
  const h = createSpeechToTextHandler({
    stt: new FakeStt(),
    fetcher: new TableFetcher({
      'http://a/text': { bytes: Buffer.from('not audio at all'), contentType: 'audio/wav' },
      'http://a/22k': audio(wav(1, 22_050)),
      'http://a/empty': audio(empty),
      'http://a/long': audio(long),
    }),
  });
  const cases: [string, RegExp][] = [
    ['http://a/text', /input url http:\/\/a\/text \(audio\/wav\): not a WAV file/],
    ['http://a/22k', /22050 Hz; 16000 Hz is required; convert it with: sox/],
    ['http://a/empty', /no audio/],
    ['http://a/long', /long/],
  ];
  for (const [url, message] of cases)
    await assert.rejects(h.run(job([urlInput(url)]), ctx), (e: Error) => {
      assert.ok(e instanceof JobInputError, `${url}: ${e.name}`);
      assert.match(e.message, message);
      return true;
    });
});

test('text inputs and text urls are extracted as text extraction does; too much text is refused', async () => {
  const stt = new FakeStt();
  const h = createSpeechToTextHandler({
    stt,
    maxTextBytes: 100,
    fetcher: new TableFetcher({
      'http://a/page': { bytes: Buffer.from('<p>Hello</p><p>world</p>'), contentType: 'text/html' },
      'http://a/big': { bytes: Buffer.alloc(101, 'a'), contentType: 'text/plain' },
      'http://a/untyped': { bytes: Buffer.from('just text'), contentType: '' },
      'http://a/image': { bytes: Buffer.from('GIF89a'), contentType: 'image/gif' },
    }),
  });
  const text: ResolvedInput = {
    type: 'text',
    data: 'plain words',
    marker: '',
    text: 'plain words',
    contentType: '',
  };
  const out = await h.run(job([urlInput('http://a/page'), text]), ctx);
  assert.equal(out.content, 'Hello\n\nworld\n\nplain words');
  assert.equal(stt.calls.length, 0);
  await assert.rejects(
    h.run(job([urlInput('http://a/big')]), ctx),
    /101 bytes of text; .* at most 100 bytes/,
  );
  assert.equal((await h.run(job([urlInput('http://a/untyped')]), ctx)).content, 'just text');
  await assert.rejects(
    h.run(job([urlInput('http://a/image')]), ctx),
    /text recognition \(OCR\) is not available/,
  );
});

test('params: English only, output text/plain or text/vtt, alignment raw/segment/word; no input; silence', async () => {
  const h = createSpeechToTextHandler({
    stt: new FakeStt(),
    fetcher: new TableFetcher({ 'http://a/x': audio(wav(1)) }),
  });
  const x = [urlInput('http://a/x')];
  await assert.rejects(h.run(job(x, { params: { language: 'fr' } }), ctx), /English only/);
  await assert.rejects(h.run(job(x, { output: 'audio/mpeg' }), ctx), /output "audio\/mpeg" is not supported/);
  await assert.rejects(h.run(job(x, { params: { alignment: 'line' } }), ctx), /alignment/);
  await assert.rejects(h.run(job([]), ctx), /needs an input/);
  await assert.rejects(h.run(job(x), ctx), /no speech was recognized/);
  assert.match((await h.run(job(x, { output: 'text/vtt' }), ctx)).content, /^WEBVTT/);
});

test('toVtt: cues per word, per segment (a pause splits) or one, offset by the range start', () => {
  const words = [
    { word: 'hello', startMs: 0, endMs: 400 },
    { word: 'there', startMs: 450, endMs: 900 },
    { word: 'again', startMs: 2000, endMs: 2500 },
  ];
  assert.equal(
    toVtt(words, '', 'segment', 60_000),
    'WEBVTT\n\n00:01:00.000 --> 00:01:00.900\nhello there\n\n00:01:02.000 --> 00:01:02.500\nagain',
  );
  assert.equal(toVtt(words, '', 'word').split('\n\n').length, 4);
  assert.equal(toVtt(words, '', 'raw'), 'WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nhello there again');
});

test('without engines the handler says how to enable voice', async () => {
  await assert.rejects(speechToText.run(job([urlInput('http://a/x')]), ctx), (e: Error) => {
    assert.ok(e instanceof JobInputError);
    assert.equal(e.message, VOICE_NOT_ENABLED);
    return true;
  });
});
