import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { silentLogger } from '../../core/logger.ts';
import { abortError, VoiceEngineError } from '../../voice/errors.ts';
import { FakeStt } from '../../voice/fake-stt.ts';
import { FakeTts } from '../../voice/fake-tts.ts';
import type { Stt, TranscribeOptions, Transcript } from '../../voice/stt.ts';
import { encodeWav, parseWav, tone } from '../../voice/wav.ts';
import type { EngineDescription } from '../../voice/wyoming/info.ts';
import { WyomingServer } from '../../voice/wyoming/server.ts';
import type { WyomingLimits } from '../../voice/wyoming/session.ts';
import { type Event, pcm16, WyomingClient } from './wyoming-client.ts';

const STT_DESC: EngineDescription = {
  name: 'fake-stt',
  program: 'fake',
  description: 'a scripted recognizer',
  attribution: { name: 'Tests', url: 'https://example.invalid/stt' },
  languages: ['en', 'en-US'],
  version: '1.0',
};
const TTS_DESC: EngineDescription = {
  name: 'fake-tts',
  program: 'fake',
  description: 'a scripted voice',
  attribution: { name: 'Tests', url: 'https://example.invalid/tts' },
  languages: ['en'],
  version: null,
};

/** An `Stt` that keeps the WAV it was given; `hold` makes it wait for an abort (a slow engine). */
class RecordingStt implements Stt {
  readonly name = 'recording-stt';
  readonly wavs: Uint8Array[] = [];
  aborted = 0;
  hold = false;
  async transcribe(wav: Uint8Array, opts: TranscribeOptions = {}): Promise<Transcript> {
    this.wavs.push(wav);
    if (this.hold)
      await new Promise<never>((_, reject) =>
        opts.signal?.addEventListener('abort', () => {
          this.aborted++;
          reject(abortError(opts.signal!));
        }),
      );
    return { text: `heard ${this.wavs.length}`, ms: 1 };
  }
}

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function frequency(samples: Int16Array, rate: number): number {
  let n = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1] ?? 0) < 0 && (samples[i] ?? 0) >= 0) n++;
  return n / (samples.length / rate);
}

async function started(
  engines: ConstructorParameters<typeof WyomingServer>[0]['engines'],
  limits: Partial<WyomingLimits> = {},
  maxConnections?: number,
) {
  const server = new WyomingServer({ engines, logger: silentLogger, limits, maxConnections });
  const { port } = await server.listen(0);
  return { server, port };
}

function errorOf(ev: Event): { code: unknown; text: string } {
  assert.equal(ev.type, 'error', `expected an error event, got ${ev.type} ${JSON.stringify(ev.data)}`);
  return { code: ev.data.code, text: String(ev.data.text) };
}

describe('Wyoming server with fake engines', { timeout: 120_000 }, () => {
  const stt = new FakeStt();
  const tts = new FakeTts();
  let server: WyomingServer;
  let port = 0;
  const clients: WyomingClient[] = [];
  const client = async (p = port) => {
    const c = await WyomingClient.connect(p);
    clients.push(c);
    return c;
  };

  before(async () => {
    ({ server, port } = await started(
      { stt: { engine: stt, description: STT_DESC }, tts: { engine: tts, description: TTS_DESC } },
      { maxAudioSeconds: 2 },
    ));
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  after(() => server.close());

  it('describe → info listing the engines as the documentation lays them out', async () => {
    const c = await client();
    const info = await c.describe();
    const artifact = (d: EngineDescription, name: string) => ({
      name,
      attribution: d.attribution,
      installed: true,
      description: d.description,
      version: d.version,
    });
    assert.deepEqual(info, {
      type: 'info',
      payload: null,
      data: {
        asr: [
          {
            ...artifact(STT_DESC, 'fake'),
            models: [{ ...artifact(STT_DESC, 'fake-stt'), languages: ['en', 'en-US'] }],
            supports_transcript_streaming: false,
          },
        ],
        tts: [
          {
            ...artifact(TTS_DESC, 'fake'),
            voices: [{ ...artifact(TTS_DESC, 'fake-tts'), languages: ['en'], speakers: null }],
            supports_synthesize_streaming: false,
          },
        ],
        handle: [],
        intent: [],
        wake: [],
      },
    });
  });

  it('transcribe → transcript, twice on one connection, the fields sent in the header, after it, or both', async () => {
    const c = await client();
    stt.queue('turn on the kitchen light', 'what time is it');
    const before = stt.calls.length;
    assert.deepEqual(await c.transcribe(pcm16(tone(1, { hz: 300 }).samples, 16000), { language: 'en-US' }), {
      type: 'transcript',
      data: { text: 'turn on the kitchen light' },
      payload: null,
    });
    const fmt = { rate: 16000, width: 2, channels: 1 };
    const audio = pcm16(tone(0.5, { hz: 300 }).samples, 16000).bytes;
    c.send('transcribe', { language: 'en', name: 'fake-stt' }, undefined, { in: 'extra' });
    c.send('audio-start', fmt, undefined, { in: 'both' });
    c.send('audio-chunk', fmt, audio.subarray(0, 8000), { in: 'extra' });
    c.send('audio-chunk', {}, audio.subarray(8000)); // no format: the stream's
    c.send('audio-stop', { timestamp: 500 }, undefined, { in: 'extra' });
    assert.deepEqual(await c.next(), {
      type: 'transcript',
      data: { text: 'what time is it' },
      payload: null,
    });
    assert.deepEqual(
      stt.calls.slice(before).map((x) => x.seconds),
      [1, 0.5],
    );
  });

  it('converts 48 kHz stereo 32-bit, 8 kHz 8-bit and 22.05 kHz 24-bit audio to 16 kHz mono 16-bit', async () => {
    const rec = new RecordingStt();
    const { server: s2, port: p2 } = await started({ stt: { engine: rec, description: STT_DESC } });
    try {
      const c = await client(p2);
      const sine = (rate: number, n: number) =>
        Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / rate));
      const cases = [
        {
          rate: 48000,
          width: 4,
          channels: 2,
          put: (b: Buffer, i: number, v: number) => {
            b.writeInt32LE(Math.round(v * 2 ** 28), i * 8);
            b.writeInt32LE(Math.round(v * 2 ** 28), i * 8 + 4);
          },
        },
        {
          rate: 8000,
          width: 1,
          channels: 1,
          put: (b: Buffer, i: number, v: number) => b.writeUInt8(128 + Math.round(v * 60), i),
        },
        {
          rate: 22050,
          width: 3,
          channels: 1,
          put: (b: Buffer, i: number, v: number) => b.writeIntLE(Math.round(v * 2 ** 21), i * 3, 3),
        },
      ];
      for (const k of cases) {
        const values = sine(k.rate, k.rate); // one second
        const bytes = Buffer.alloc(values.length * k.width * k.channels);
        for (const [i, v] of values.entries()) k.put(bytes, i, v);
        const answer = await c.transcribe(
          { rate: k.rate, width: k.width, channels: k.channels, bytes },
          { chunkBytes: 3000 },
        );
        assert.equal(answer.type, 'transcript', JSON.stringify(answer.data));
        const audio = parseWav(rec.wavs.at(-1)!, { sampleRate: 16000 });
        assert.equal(audio.sampleRate, 16000);
        assert.ok(Math.abs(audio.samples.length - 16000) <= 1, `${k.rate}: ${audio.samples.length} samples`);
        assert.ok(
          Math.abs(frequency(audio.samples, 16000) - 440) <= 2,
          `${k.rate}: ${frequency(audio.samples, 16000)} Hz`,
        );
      }
    } finally {
      await s2.close();
    }
  });

  it("synthesize → audio-start, audio-chunks of 1024 samples, audio-stop: exactly the engine's audio", async () => {
    const c = await client();
    const wav = encodeWav(tone(0.3, { hz: 523 }));
    tts.queue({ wav });
    const r = await c.synthesize('Hello there.', { name: 'fake-tts' });
    assert.ok('pcm' in r, JSON.stringify(r));
    assert.deepEqual(
      { rate: r.pcm.rate, width: r.pcm.width, channels: r.pcm.channels },
      { rate: 16000, width: 2, channels: 1 },
    );
    assert.deepEqual(r.pcm.bytes, Buffer.from(wav.subarray(44)));
    assert.equal(r.chunks, Math.ceil(4800 / 1024));
    assert.equal(tts.calls.at(-1)?.text, 'Hello there.');
    // A voice the server does not have is spoken in its own voice.
    const other = await c.synthesize('Again.', { name: 'nobody' });
    assert.ok('pcm' in other && other.pcm.bytes.length > 0);
  });

  it('ping → pong', async () => {
    const c = await client();
    c.send('ping', { text: 'are you there' });
    assert.deepEqual(await c.next(), { type: 'pong', data: { text: 'are you there' }, payload: null });
  });

  it('an engine error becomes an error event and the connection goes on', async () => {
    const c = await client();
    stt.queue(new VoiceEngineError('fake-stt', 'the model crashed'));
    const e = errorOf(await c.transcribe(pcm16(tone(0.2).samples, 16000)));
    assert.deepEqual(e, { code: 'engine-failed', text: 'fake-stt: the model crashed' });
    tts.queue(new VoiceEngineError('fake-tts', 'no voice today'));
    assert.deepEqual(errorOf((await c.synthesize('Hi.')) as Event), {
      code: 'engine-failed',
      text: 'fake-tts: no voice today',
    });
    assert.deepEqual(errorOf((await c.synthesize('   ')) as Event), {
      code: 'bad-input',
      text: 'there is no text to speak',
    });
    c.send('synthesize', { voice: { name: 'fake-tts' } });
    assert.deepEqual(errorOf(await c.next()), {
      code: 'bad-request',
      text: 'synthesize needs "text", a string',
    });
    assert.equal((await c.describe()).type, 'info');
  });

  it('an unknown event type gets an error naming the types served; the connection goes on', async () => {
    const c = await client();
    c.send('detect', { names: ['hey timmy'] });
    const e = errorOf(await c.next());
    assert.equal(e.code, 'unknown-event');
    assert.match(e.text, /unknown event type "detect"; this server takes: describe, transcribe, audio-start/);
    assert.equal((await c.describe()).type, 'info');
  });

  it('audio in a format it does not convert is refused naming what is supported; the stream is dropped', async () => {
    const c = await client();
    const calls = stt.calls.length;
    const e = errorOf(await c.transcribe({ rate: 4000, width: 2, channels: 1, bytes: Buffer.alloc(8000) }));
    assert.equal(e.code, 'unsupported-audio-format');
    assert.match(
      e.text,
      /rate 4000 Hz.*not supported; supported: rate 8000-96000 Hz, width 1\/2\/3\/4 bytes, 1-8 channels/,
    );
    assert.equal((await c.describe()).type, 'info', 'no second answer for the dropped stream');
    assert.equal(stt.calls.length, calls);
  });

  it('audio longer than the limit is refused and never reaches the engine', async () => {
    const c = await client();
    const calls = stt.calls.length;
    const e = errorOf(await c.transcribe(pcm16(tone(2.5).samples, 16000)));
    assert.deepEqual(e, {
      code: 'audio-too-long',
      text: 'the audio is longer than 2 s; at most 2 s is transcribed at once',
    });
    assert.equal((await c.describe()).type, 'info');
    assert.equal(stt.calls.length, calls);
  });

  it('a language it does not speak is refused and the stream that follows is dropped', async () => {
    const c = await client();
    const calls = stt.calls.length;
    const e = errorOf(await c.transcribe(pcm16(tone(0.3).samples, 16000), { language: 'de-DE' }));
    assert.deepEqual(e, {
      code: 'unsupported-language',
      text: 'language "de-DE" is not spoken here; supported: en, en-US',
    });
    assert.equal((await c.describe()).type, 'info');
    assert.equal(stt.calls.length, calls);
  });

  it('an empty audio stream gets an error', async () => {
    const c = await client();
    assert.deepEqual(
      errorOf(await c.transcribe({ rate: 16000, width: 2, channels: 1, bytes: Buffer.alloc(0) })),
      {
        code: 'bad-audio',
        text: 'the audio stream held no audio',
      },
    );
  });

  /** Bad framing or events out of order: an error event, the connection closed, and other clients served. */
  const closing: [string, (c: WyomingClient) => void, string, RegExp][] = [
    ['a header that is not JSON', (c) => c.sendRaw('hello wyoming\n'), 'not-json', /not UTF-8 JSON/],
    [
      'a header line over 8 KiB',
      (c) => c.sendRaw(`{"type":"describe","x":"${'a'.repeat(9000)}"}\n`),
      'header-too-long',
      /at most 8192/,
    ],
    [
      'a payload over 512 KiB',
      (c) => c.sendRaw('{"type":"audio-chunk","payload_length":600000}\n'),
      'payload-too-long',
      /payload_length is 600000 bytes; at most 524288/,
    ],
    [
      'additional data over 64 KiB',
      (c) => c.sendRaw('{"type":"synthesize","data_length":70000}\n'),
      'data-too-long',
      /at most 65536/,
    ],
    ['a header with no type', (c) => c.sendRaw('{"data":{"text":"hi"}}\n'), 'bad-header', /no "type"/],
    [
      'audio-chunk without audio-start',
      (c) => c.send('audio-chunk', { rate: 16000, width: 2, channels: 1 }, new Uint8Array(320)),
      'no-audio-start',
      /audio-chunk arrived without an audio-start/,
    ],
    [
      'audio-stop without audio-start',
      (c) => c.send('audio-stop'),
      'no-audio-start',
      /audio-stop arrived without/,
    ],
    [
      'synthesize inside an audio stream',
      (c) => {
        c.send('audio-start', { rate: 16000, width: 2, channels: 1 });
        c.send('synthesize', { text: 'hi' });
      },
      'unexpected-event',
      /synthesize arrived inside an audio stream/,
    ],
  ];
  for (const [what, act, code, text] of closing)
    it(`${what}: an error event, the connection closed, other clients still served`, async () => {
      const c = await client();
      act(c);
      const events = await c.rest();
      assert.equal(events.length, 1, JSON.stringify(events));
      const e = errorOf(events[0]!);
      assert.equal(e.code, code);
      assert.match(e.text, text);
      assert.equal((await (await client()).describe()).type, 'info');
    });

  it('a client that disconnects mid-stream is dropped; the engine is never called', async () => {
    const rec = new RecordingStt();
    const { server: s2, port: p2 } = await started({ stt: { engine: rec, description: STT_DESC } });
    try {
      const c = await client(p2);
      c.send('ping');
      assert.equal((await c.next()).type, 'pong');
      c.send('transcribe');
      c.send('audio-start', { rate: 16000, width: 2, channels: 1 });
      c.send('audio-chunk', { rate: 16000, width: 2, channels: 1 }, pcm16(tone(0.2).samples, 16000).bytes);
      assert.equal(s2.connections, 1);
      c.end(); // FIN in the middle of the stream
      await c.closed;
      await until('the connection to be dropped', () => s2.connections === 0);
      assert.equal(rec.wavs.length, 0);
      assert.equal((await (await client(p2)).describe()).type, 'info');
    } finally {
      await s2.close();
    }
  });

  it('a client that disconnects while the engine works aborts the engine', async () => {
    const rec = new RecordingStt();
    rec.hold = true;
    const { server: s2, port: p2 } = await started({ stt: { engine: rec, description: STT_DESC } });
    try {
      const c = await client(p2);
      void c.transcribe(pcm16(tone(0.5).samples, 16000)).catch(() => {});
      await until('the engine to start', () => rec.wavs.length === 1);
      c.destroy();
      await until('the engine to be aborted', () => rec.aborted === 1);
      await until('the connection to be dropped', () => s2.connections === 0);
    } finally {
      await s2.close();
    }
  });

  it('a client that half-closes right after a describe still gets the answer', async () => {
    const c = await client();
    c.send('describe');
    c.end();
    const events = await c.rest();
    assert.deepEqual(
      events.map((e) => e.type),
      ['info'],
    );
  });

  it('one connection more than allowed gets an error and is closed', async () => {
    const { server: s2, port: p2 } = await started({ tts: { engine: tts, description: TTS_DESC } }, {}, 1);
    try {
      const first = await client(p2);
      assert.equal((await first.describe()).type, 'info');
      const second = await client(p2);
      const events = await second.rest();
      assert.deepEqual(events.map(errorOf), [
        { code: 'busy', text: 'too many connections (at most 1 at once); try again' },
      ]);
      assert.equal((await first.describe()).type, 'info');
      // The server without speech to text says so.
      const e = errorOf(await first.transcribe(pcm16(tone(0.2).samples, 16000)));
      assert.deepEqual(e, {
        code: 'not-supported',
        text: 'this server does not do speech to text (only text to speech)',
      });
    } finally {
      await s2.close();
    }
  });

  describe('a peer that stalls', () => {
    let s2: WyomingServer;
    let p2 = 0;
    before(async () => {
      ({ server: s2, port: p2 } = await started(
        { stt: { engine: stt, description: STT_DESC }, tts: { engine: tts, description: TTS_DESC } },
        { stallMs: 300 },
      ));
    });
    after(() => s2.close());

    it('in the middle of a header: an error event after the stall limit, then closed', async () => {
      const c = await client(p2);
      c.sendRaw('{"type":"desc');
      const events = await c.rest();
      assert.deepEqual(events.map(errorOf), [
        { code: 'timeout', text: 'nothing received for 0.3 s in the middle of an event' },
      ]);
    });

    it('in the middle of a payload', async () => {
      const c = await client(p2);
      c.sendRaw('{"type":"audio-chunk","payload_length":100}\n0123456789');
      assert.deepEqual((await c.rest()).map(errorOf), [
        { code: 'timeout', text: 'nothing received for 0.3 s in the middle of an event' },
      ]);
    });

    it('in the middle of an audio stream', async () => {
      const c = await client(p2);
      c.send('transcribe');
      c.send('audio-start', { rate: 16000, width: 2, channels: 1 });
      assert.deepEqual((await c.rest()).map(errorOf), [
        { code: 'timeout', text: 'nothing received for 0.3 s in the middle of an audio stream' },
      ]);
    });

    it('not reading the audio it asked for: the connection is ended', async () => {
      const c = await client(p2);
      c.send('ping');
      assert.equal((await c.next()).type, 'pong');
      assert.equal(s2.connections, 1);
      const calls = tts.calls.length;
      tts.queue({ wav: encodeWav(tone(400)) }); // 12.8 MB of audio, more than the socket buffers hold
      c.socket.pause();
      c.send('synthesize', { text: 'A very long story.' });
      await until('the engine to speak', () => tts.calls.length > calls);
      await until('the server to end the connection', () => s2.connections === 0, 60_000);
      c.destroy();
    });
  });
});
