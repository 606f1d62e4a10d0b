import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { silentLogger } from '../core/logger.ts';
import { FakeStt } from '../voice/fake-stt.ts';
import { FakeTts } from '../voice/fake-tts.ts';
import { FakeVad } from '../voice/fake-vad.ts';
import { IntentParser } from '../voice/intents.ts';
import { VoicePipeline } from '../voice/pipeline.ts';
import type { Timmy } from '../voice/pipeline-timmy.ts';
import { parseWav, tone } from '../voice/wav.ts';
import { VOICE_CLOSE, VOICE_PATH, type VoiceAvailability, VoiceSocket } from './voice-socket.ts';

const COOKIE = 'timmy_session=good';
const available: VoiceAvailability = {
  enabled: true,
  stt: 'fake-stt',
  tts: 'fake-tts',
  vad: 'fake-vad',
  missing: [],
  install: '',
  maxSeconds: 5,
};

const timmy: Timmy = {
  status: async () => ({ text: 'All good. Six agents are alive.' }),
  balance: async () => ({ text: 'Owners only.' }),
  approve: async () => ({ text: 'Nothing to approve.' }),
  submit: async (job) => ({
    text: 'Sending it.',
    action: { type: 'submit-job', kind: job.kind, label: job.label, input: job.input },
  }),
  ask: async () => ({ text: 'No model.' }),
};

interface Served {
  url: string;
  socket: VoiceSocket;
  stt: FakeStt;
  close(): Promise<void>;
}

async function serve(opts: { availability?: VoiceAvailability; maxSockets?: number } = {}): Promise<Served> {
  const stt = new FakeStt();
  const availability = opts.availability ?? available;
  const socket = new VoiceSocket({
    availability,
    reader: (cookie) =>
      cookie === COOKIE
        ? { ok: true, pubkey: 'a'.repeat(64), owner: false }
        : { ok: false, status: 401, error: 'no' },
    logger: silentLogger,
    maxFrameBytes: 8192,
    ...(opts.maxSockets ? { maxSockets: opts.maxSockets } : {}),
    ...(availability.enabled
      ? {
          pipelineFor: () =>
            new VoicePipeline({
              stt,
              tts: new FakeTts(),
              vad: new FakeVad(),
              intents: new IntentParser(),
              timmy,
              logger: silentLogger,
              maxSeconds: availability.maxSeconds,
            }),
        }
      : {}),
  });
  let origin = '';
  const server: Server = createServer((req, res) => {
    if (req.url === VOICE_PATH) socket.serveStatus(res);
    else res.writeHead(404).end();
  });
  server.on('upgrade', (req, s, head) => socket.upgrade(req, s, head, origin));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin.replace('http', 'ws')}${VOICE_PATH}`,
    socket,
    stt,
    close: async () => {
      socket.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface Client {
  ws: WebSocket;
  /** JSON messages, and `{ type: 'wav', bytes }` for each binary frame. */
  got: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
  until(type: string): Promise<Record<string, unknown>>;
}

function connect(url: string, headers: Record<string, string> = { Cookie: COOKIE }): Client {
  const ws = new WebSocket(url, { headers });
  const got: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data, binary) => {
    const buf = data as Buffer;
    got.push(
      binary
        ? { type: 'wav', wav: new Uint8Array(buf) }
        : (JSON.parse(buf.toString()) as Record<string, unknown>),
    );
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const w of waiters.splice(0)) w();
    }),
  );
  ws.on('error', () => undefined);
  const until = async (type: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const m = got.find((g) => g.type === type);
      if (m) return m;
      if (ws.readyState === WebSocket.CLOSED)
        throw new Error(`closed before ${type}: ${JSON.stringify(got)}`);
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { ws, got, closed, until };
}

/** 16-bit little-endian PCM of speech-like audio: a tone, then silence. */
function pcm(seconds: number): Buffer {
  const s = tone(seconds, { hz: 300, amplitude: 8000 }).samples;
  return Buffer.from(s.buffer, s.byteOffset, s.byteLength);
}

/** Audio in frames under the test server's 8 KiB limit. */
function sendAudio(ws: WebSocket, audio: Buffer): void {
  for (let i = 0; i < audio.length; i += 3200) ws.send(audio.subarray(i, i + 3200));
}

describe('the talk socket', () => {
  let srv: Served;
  before(async () => {
    srv = await serve();
  });
  after(() => srv.close());

  test('a press round trip: ready, partial words, final, intent, the answer as sentences and WAV frames', async () => {
    srv.stt.queue('how are things');
    const c = connect(srv.url);
    const ready = await c.until('ready');
    assert.equal(ready.stt, 'fake-stt');
    c.ws.send(JSON.stringify({ type: 'start' }));
    const audio = Buffer.concat([pcm(0.6), Buffer.alloc(16_000)]); // 0.6 s of "speech", 0.5 s of silence
    sendAudio(c.ws, audio);
    await c.until('partial');
    c.ws.send(JSON.stringify({ type: 'end' }));
    await c.until('done');
    const types = c.got.map((g) => g.type).filter((t) => t !== 'speech' && t !== 'sentence');
    assert.deepEqual(types, ['ready', 'partial', 'final', 'intent', 'audio', 'wav', 'audio', 'wav', 'done']);
    assert.deepEqual(
      c.got.find((g) => g.type === 'intent'),
      { type: 'intent', intent: 'status' },
    );
    const audioMsg = c.got.find((g) => g.type === 'audio');
    const wav = c.got.find((g) => g.type === 'wav')?.wav as Uint8Array;
    assert.equal(audioMsg?.bytes, wav.length);
    assert.equal(parseWav(wav).sampleRate, 16_000);
    c.ws.close();
  });

  test('a job is handed to the page as an action', async () => {
    srv.stt.queue('summarize example dot com');
    const c = connect(srv.url);
    await c.until('ready');
    c.ws.send(JSON.stringify({ type: 'start' }));
    sendAudio(c.ws, pcm(0.5));
    c.ws.send(JSON.stringify({ type: 'end' }));
    const action = await c.until('action');
    assert.deepEqual(action.action, {
      type: 'submit-job',
      kind: 5001,
      label: 'a summary',
      input: { data: 'https://example.com', type: 'url' },
    });
    await c.until('done');
    c.ws.close();
  });

  test('bad input closes with a code that says why, and the socket keeps serving others', async () => {
    const cases: { name: string; send: (ws: WebSocket) => void; code: number; reason: RegExp }[] = [
      {
        name: 'audio before start',
        send: (ws) => ws.send(pcm(0.1)),
        code: VOICE_CLOSE.badFrame,
        reason: /start/,
      },
      {
        name: 'an odd number of bytes',
        send: (ws) => {
          ws.send(JSON.stringify({ type: 'start' }));
          ws.send(Buffer.alloc(3));
        },
        code: VOICE_CLOSE.badFrame,
        reason: /16-bit/,
      },
      {
        name: 'text that is not JSON',
        send: (ws) => ws.send('hello'),
        code: VOICE_CLOSE.badFrame,
        reason: /JSON/,
      },
      {
        name: 'an unknown message',
        send: (ws) => ws.send('{"type":"explode"}'),
        code: VOICE_CLOSE.badFrame,
        reason: /unknown/,
      },
      {
        name: 'end without start',
        send: (ws) => ws.send('{"type":"end"}'),
        code: VOICE_CLOSE.badFrame,
        reason: /start/,
      },
      {
        name: 'a frame over the limit',
        send: (ws) => {
          ws.send(JSON.stringify({ type: 'start' }));
          ws.send(Buffer.alloc(20_000));
        },
        code: VOICE_CLOSE.tooBig,
        reason: /.*/,
      },
    ];
    for (const c of cases) {
      const client = connect(srv.url);
      await client.until('ready');
      c.send(client.ws);
      const closed = await client.closed;
      assert.equal(closed.code, c.code, c.name);
      assert.match(closed.reason, c.reason, c.name);
    }
    // Still serving: a fresh press works.
    srv.stt.queue('status');
    const ok = connect(srv.url);
    await ok.until('ready');
    ok.ws.send(JSON.stringify({ type: 'start' }));
    sendAudio(ok.ws, pcm(0.5));
    ok.ws.send(JSON.stringify({ type: 'end' }));
    await ok.until('done');
    ok.ws.close();
  });

  test('a press over the limit is a turn error, not a closed socket', async () => {
    const c = connect(srv.url);
    await c.until('ready');
    c.ws.send(JSON.stringify({ type: 'start' }));
    for (let i = 0; i < 7; i++) c.ws.send(pcm(0.25)); // 7 × 0.25 s is under the frame limit each…
    for (let i = 0; i < 20; i++) c.ws.send(pcm(0.25)); // …and 6.75 s in all, over the 5 s limit
    const err = await c.until('error');
    assert.equal(err.code, 'too-long');
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    c.ws.close();
  });

  test('no session, a foreign Origin: refused with 4401 and 4403', async () => {
    const anon = connect(srv.url, {});
    assert.deepEqual(await anon.closed, { code: VOICE_CLOSE.notLoggedIn, reason: 'log in first (NIP-07)' });
    const foreign = connect(srv.url, { Cookie: COOKIE, Origin: 'https://evil.example' });
    assert.equal((await foreign.closed).code, VOICE_CLOSE.forbidden);
    assert.equal(srv.socket.size, 0);
  });
});

describe('the talk socket without engines, and when full', () => {
  test('GET says what to install; the socket closes with 4503 saying it', async () => {
    const off: VoiceAvailability = {
      enabled: false,
      missing: ['flite'],
      install: 'apt-get install flite',
      maxSeconds: 30,
    };
    const srv = await serve({ availability: off });
    try {
      const res = await fetch(srv.url.replace('ws', 'http'));
      assert.deepEqual(await res.json(), off);
      const c = connect(srv.url);
      assert.deepEqual(await c.closed, {
        code: VOICE_CLOSE.unavailable,
        reason: 'voice is not installed here: apt-get install flite',
      });
    } finally {
      await srv.close();
    }
  });

  test('past maxSockets a new socket is closed with 1013', async () => {
    const srv = await serve({ maxSockets: 1 });
    try {
      const first = connect(srv.url);
      await first.until('ready');
      const second = connect(srv.url);
      assert.equal((await second.closed).code, VOICE_CLOSE.busy);
      first.ws.close();
    } finally {
      await srv.close();
    }
  });
});
