import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import { VoiceEngineError } from './errors.ts';
import { FakeStt } from './fake-stt.ts';
import { FakeTts } from './fake-tts.ts';
import { FakeVad, toneBursts } from './fake-vad.ts';
import { FliteTts } from './flite-tts.ts';
import { IntentParser } from './intents.ts';
import { type PipelineEvent, pcmFromBytes, VoicePipeline } from './pipeline.ts';
import { NOTHING_HEARD, type Timmy, type TimmyReply } from './pipeline-timmy.ts';
import { PocketsphinxStt, pocketsphinxMissing } from './pocketsphinx-stt.ts';
import { findExecutable } from './subprocess.ts';
import { parseWav, VOICE_SAMPLE_RATE } from './wav.ts';

/** A Timmy whose answers the test gives; it records what it was asked. */
class ScriptedTimmy implements Timmy {
  readonly asked: string[] = [];
  constructor(private readonly reply: (what: string) => TimmyReply | Promise<TimmyReply>) {}
  private answer(what: string) {
    this.asked.push(what);
    return Promise.resolve(this.reply(what));
  }
  status = () => this.answer('status');
  balance = () => this.answer('balance');
  approve = (job: string | undefined) => this.answer(`approve ${job ?? ''}`.trim());
  submit = () => this.answer('submit');
  ask = (q: string) => this.answer(`ask ${q}`);
}

/** Pushes `samples` in 100 ms chunks, as a microphone would. */
function pushAll(turn: { push(s: Int16Array): void }, samples: Int16Array): void {
  const step = VOICE_SAMPLE_RATE / 10;
  for (let i = 0; i < samples.length; i += step) turn.push(samples.subarray(i, i + step));
}

function setup(opts: { stt?: FakeStt; tts?: FakeTts; timmy?: Timmy; vad?: boolean; maxSeconds?: number }) {
  const stt = opts.stt ?? new FakeStt();
  const tts = opts.tts ?? new FakeTts();
  const timmy = opts.timmy ?? new ScriptedTimmy(() => ({ text: 'All good.' }));
  const events: PipelineEvent[] = [];
  const pipeline = new VoicePipeline({
    stt,
    tts,
    timmy,
    intents: new IntentParser(),
    ...(opts.vad === false ? {} : { vad: new FakeVad() }),
    logger: silentLogger,
    ...(opts.maxSeconds ? { maxSeconds: opts.maxSeconds } : {}),
  });
  const turn = pipeline.turn((e) => events.push(e));
  return { stt, tts, timmy, events, turn, types: () => events.map((e) => e.type) };
}

describe('VoicePipeline with fake engines', () => {
  test('a partial transcript per finished segment while speaking, then final, intent, sentences and audio', async () => {
    const stt = new FakeStt().queue('how are', 'things');
    const timmy = new ScriptedTimmy(() => ({ text: 'All good. Three agents are alive.' }));
    const { events, turn, types, tts } = setup({ stt, timmy });
    pushAll(turn, toneBursts([false, 0.3], [true, 0.6], [false, 0.5], [true, 0.6], [false, 0.1]));
    // The first segment ended (300 ms of silence): its words arrive while the person still holds the button.
    await until(() => events.some((e) => e.type === 'partial'));
    assert.deepEqual(
      events.filter((e) => e.type === 'partial'),
      [{ type: 'partial', text: 'how are' }],
    );
    await turn.end();
    // A sentence's audio may come before the next sentence is cut: only each one's own order is fixed.
    assert.deepEqual(
      types().filter((t) => t !== 'speech' && t !== 'sentence'),
      ['partial', 'final', 'intent', 'audio', 'audio', 'done'],
    );
    for (const i of [0, 1])
      assert.ok(
        events.findIndex((e) => e.type === 'sentence' && e.index === i) <
          events.findIndex((e) => e.type === 'audio' && e.index === i),
      );
    assert.deepEqual(
      events.find((e) => e.type === 'final'),
      { type: 'final', text: 'how are things' },
    );
    const intent = events.find((e) => e.type === 'intent');
    assert.equal(intent?.type === 'intent' && intent.intent.type, 'status');
    assert.deepEqual(timmy.asked, ['status']);
    assert.deepEqual(
      tts.calls.map((c) => c.text),
      ['All good.', 'Three agents are alive.'],
    );
    const audios = events.filter((e) => e.type === 'audio');
    assert.deepEqual(
      audios.map((e) => e.type === 'audio' && e.index),
      [0, 1],
    );
    for (const a of audios) if (a.type === 'audio') assert.equal(parseWav(a.wav).sampleRate, 16_000);
    const done = events.at(-1);
    assert.ok(done?.type === 'done' && done.timings.firstAudioMs !== undefined);
    assert.ok(done.timings.firstAudioMs <= done.timings.totalMs);
    assert.deepEqual(
      types().filter((t) => t === 'speech'),
      ['speech', 'speech', 'speech'],
      'speech on, off, on (the last segment is still open at the end)',
    );
  });

  test('the first sentence is heard before the rest of the answer is even written', async () => {
    let release: () => void = () => {};
    const rest = new Promise<void>((r) => {
      release = r;
    });
    async function* streamed() {
      yield 'Thinking about it. ';
      await rest; // the model is still writing
      yield 'The answer is forty two.';
    }
    const timmy = new ScriptedTimmy(() => ({ text: streamed() }));
    const { events, turn } = setup({ stt: new FakeStt().queue('why is the sky blue'), timmy });
    pushAll(turn, toneBursts([true, 0.5], [false, 0.1]));
    const ended = turn.end();
    await until(() => events.some((e) => e.type === 'audio'));
    assert.equal(events.filter((e) => e.type === 'sentence').length, 1, 'only the first sentence exists yet');
    release();
    await ended;
    const sentences = events.filter((e) => e.type === 'sentence').map((e) => e.type === 'sentence' && e.text);
    assert.deepEqual(sentences, ['Thinking about it.', 'The answer is forty two.']);
    assert.equal(events.at(-1)?.type, 'done');
  });

  test('without a VAD the press is one segment: no partials, one transcription at the end', async () => {
    const stt = new FakeStt().queue('balance');
    const { turn, types } = setup({ stt, vad: false });
    pushAll(turn, toneBursts([true, 0.5], [false, 0.5], [true, 0.5]));
    await turn.end();
    assert.equal(stt.calls.length, 1);
    assert.equal(stt.calls[0]?.seconds, 1.5);
    assert.deepEqual(types(), ['final', 'intent', 'sentence', 'audio', 'done']);
  });

  test('nothing heard is answered, not sent to Timmy', async () => {
    const timmy = new ScriptedTimmy(() => ({ text: 'unused' }));
    const { turn, events, tts } = setup({ timmy });
    pushAll(turn, toneBursts([false, 1]));
    await turn.end();
    assert.deepEqual(timmy.asked, []);
    assert.deepEqual(
      tts.calls.map((c) => c.text),
      NOTHING_HEARD.split(/(?<=\.) /),
    );
    assert.equal(events.at(-1)?.type, 'done');
  });

  test('abort while transcribing stops the engines: one aborted error, nothing after it', async () => {
    const stt = new FakeStt().queue({ text: 'status', delayMs: 60_000 });
    const { turn, events, tts } = setup({ stt });
    pushAll(turn, toneBursts([true, 0.5]));
    const ended = turn.end();
    await until(() => stt.calls.length === 1);
    turn.abort('the person let go');
    await ended;
    assert.deepEqual(events.at(-1), { type: 'error', code: 'aborted', message: 'the person let go' });
    assert.equal(events.filter((e) => e.type === 'error').length, 1);
    assert.equal(tts.calls.length, 0);
    turn.push(toneBursts([true, 0.5]));
    await turn.end();
    assert.equal(
      events.filter((e) => e.type === 'error').length,
      1,
      'push and end after an abort do nothing',
    );
  });

  test('an abort signal from the caller aborts the turn', async () => {
    const ac = new AbortController();
    const events: PipelineEvent[] = [];
    const stt = new FakeStt().queue({ text: 'status', delayMs: 60_000 });
    const pipeline = new VoicePipeline({
      stt,
      tts: new FakeTts(),
      timmy: new ScriptedTimmy(() => ({ text: 'x' })),
      intents: new IntentParser(),
      logger: silentLogger,
    });
    const turn = pipeline.turn((e) => events.push(e), ac.signal);
    turn.push(toneBursts([true, 0.3]));
    const ended = turn.end();
    await until(() => stt.calls.length === 1);
    ac.abort();
    await ended;
    assert.equal(events.at(-1)?.type === 'error' && events.at(-1)?.type, 'error');
  });

  test('bad audio: a segment the STT refuses, and a press over the limit', async () => {
    const refused = setup({ stt: new FakeStt({ maxSeconds: 0.5 }), vad: false });
    pushAll(refused.turn, toneBursts([true, 1]));
    await refused.turn.end();
    const e = refused.events.at(-1);
    assert.equal(e?.type === 'error' && e.code, 'bad-audio');
    assert.match(e?.type === 'error' ? e.message : '', /longer than|too long|at most/i);

    const long = setup({ maxSeconds: 1 });
    pushAll(long.turn, toneBursts([true, 2]));
    await long.turn.end();
    assert.deepEqual(
      long.events.filter((x) => x.type === 'error'),
      [{ type: 'error', code: 'too-long', message: 'the recording is over 1 s; release the button sooner' }],
    );
    assert.equal(long.stt.calls.length, 0);
  });

  test('an engine failing (STT or TTS) fails the turn with its message', async () => {
    const stt = setup({ stt: new FakeStt().queue(new VoiceEngineError('pocketsphinx', 'exited 1')) });
    pushAll(stt.turn, toneBursts([true, 0.5]));
    await stt.turn.end();
    assert.deepEqual(stt.events.at(-1), { type: 'error', code: 'engine', message: 'pocketsphinx: exited 1' });

    const tts = setup({
      stt: new FakeStt().queue('status'),
      tts: new FakeTts().queue({}, new VoiceEngineError('flite', 'crashed')),
      timmy: new ScriptedTimmy(() => ({ text: 'One. Two. Three.' })),
    });
    pushAll(tts.turn, toneBursts([true, 0.5]));
    await tts.turn.end();
    assert.deepEqual(
      tts.types().filter((t) => t !== 'speech' && t !== 'sentence'),
      ['final', 'intent', 'audio', 'error'],
    );
    assert.deepEqual(tts.events.at(-1), { type: 'error', code: 'engine', message: 'flite: crashed' });
    assert.equal(tts.tts.calls.length, 2, 'the third sentence is not synthesized after a failure');
  });

  test('Timmy failing is its own error code', async () => {
    const timmy = new ScriptedTimmy(() => Promise.reject(new Error('the desk is closed')));
    const { turn, events } = setup({ stt: new FakeStt().queue('status'), timmy });
    pushAll(turn, toneBursts([true, 0.5]));
    await turn.end();
    assert.deepEqual(events.at(-1), {
      type: 'error',
      code: 'timmy',
      message: 'Timmy could not answer: the desk is closed',
    });
  });

  test('pcmFromBytes: little-endian samples; an odd length is refused', () => {
    assert.deepEqual([...pcmFromBytes(new Uint8Array([1, 0, 0xff, 0xff]))], [1, -1]);
    assert.throws(() => pcmFromBytes(new Uint8Array(3)), /16-bit/);
  });
});

const realMissing = [...pocketsphinxMissing(), ...(findExecutable('flite') ? [] : ['flite'])];

describe('VoicePipeline with the real engines (flite → pocketsphinx → flite)', () => {
  test('a spoken status question is answered in speech', {
    skip: realMissing.length > 0 ? `not installed: ${realMissing.join(', ')}` : false,
    timeout: 120_000,
  }, async () => {
    const tts = new FliteTts();
    const question = parseWav(await tts.synthesize('What is the status?'));
    const timmy = new ScriptedTimmy(() => ({ text: 'Everything is fine. Six agents are alive.' }));
    const events: PipelineEvent[] = [];
    const pipeline = new VoicePipeline({
      stt: new PocketsphinxStt(),
      tts,
      timmy,
      intents: new IntentParser(),
      vad: new FakeVad(),
      logger: silentLogger,
    });
    const turn = pipeline.turn((e) => events.push(e));
    pushAll(turn, toneBursts([false, 0.3]));
    pushAll(turn, question.samples);
    pushAll(turn, toneBursts([false, 0.5]));
    await turn.end();
    const final = events.find((e) => e.type === 'final');
    assert.equal(final?.type === 'final' && final.text, 'what is the status');
    assert.deepEqual(timmy.asked, ['status']);
    const audios = events.filter((e) => e.type === 'audio');
    assert.equal(audios.length, 2);
    for (const a of audios) if (a.type === 'audio') assert.ok(parseWav(a.wav).samples.length > 8000);
    assert.equal(events.at(-1)?.type, 'done');
  });
});

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
