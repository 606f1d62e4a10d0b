/**
 * `timmy voice serve|transcribe|say` choose their engines from the `voice` configuration, run in-process
 * through `main` (the real binary is exercised by wyoming-cli.test.ts; spawning it costs 15-30 s here).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { CliIo } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import { pocketsphinxMissing } from '../../voice/pocketsphinx-stt.ts';
import { encodeWav, tone } from '../../voice/wav.ts';
import { WyomingClient } from './wyoming-client.ts';

interface InProcess {
  code: Promise<number>;
  stdout: () => string;
  stderr: () => string;
  /** Ctrl+C. */
  stop: () => void;
}

function timmy(argv: string[], env: Record<string, string>, cwd: string): InProcess {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        add(String(chunk));
        cb();
      },
    });
  let stop: (s: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const io: CliIo = {
    stdout: sink((s) => {
      out += s;
    }),
    stderr: sink((s) => {
      err += s;
    }),
    env: { PATH: process.env.PATH, ...env },
    cwd,
    waitForStop: () => stopped,
  };
  return { code: main(argv, io), stdout: () => out, stderr: () => err, stop: () => stop('SIGINT') };
}

async function json(r: InProcess, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = r.stdout().trim();
    if (text.endsWith('}')) return JSON.parse(text) as Record<string, unknown>;
    if (Date.now() > deadline) throw new Error(`no JSON on stdout; stderr: ${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('timmy voice commands follow the voice configuration', { timeout: 120_000 }, () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'timmy-wyoming-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('serve: a sherpa TTS without a model is left off with the reason; speech to text is still served', {
    skip: pocketsphinxMissing().length > 0 && 'pocketsphinx is not installed',
  }, async () => {
    const r = timmy(
      ['voice', 'serve', '--wyoming', '0', '--json', '--data-dir', dir],
      { TIMMY_VOICE_TTS: 'sherpa' },
      dir,
    );
    const doc = await json(r);
    assert.equal(doc.host, '127.0.0.1');
    assert.equal(doc.stt, 'pocketsphinx:en-us');
    assert.equal(doc.tts, null);
    const off = doc.off as { role: string; reason: string }[];
    assert.deepEqual(
      off.map((o) => o.role),
      ['tts'],
    );
    assert.match(
      off[0]!.reason,
      /sherpa-onnx TTS is not available: .*voice\.ttsModelDir.*timmy models fetch/,
    );
    const c = await WyomingClient.connect(Number(doc.port));
    try {
      const info = await c.describe();
      assert.deepEqual(info.data.tts, []);
      c.send('synthesize', { text: 'hello' });
      const e = await c.next();
      assert.deepEqual([e.type, e.data.code], ['error', 'not-supported']);
    } finally {
      c.destroy();
    }
    r.stop();
    assert.equal(await r.code, 0, r.stderr());
  });

  it('serve: neither engine usable exits 1 naming both', async () => {
    const r = timmy(
      ['voice', 'serve', '--wyoming', '0', '--data-dir', dir],
      { TIMMY_VOICE_STT: 'sherpa', TIMMY_VOICE_TTS: 'sherpa' },
      dir,
    );
    assert.equal(await r.code, 1);
    assert.match(
      r.stderr(),
      /^timmy: no voice engine to serve: sherpa-onnx STT is not available: .*; sherpa-onnx TTS is not available: /,
    );
  });

  it('serve: a port already taken exits 1 saying so; --max-seconds must be a positive number', async () => {
    const taken = createServer();
    await new Promise<void>((res) => taken.listen(0, '127.0.0.1', res));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = timmy(
        ['voice', 'serve', '--wyoming', String(port), '--data-dir', dir],
        { TIMMY_VOICE_STT: 'sherpa' },
        dir,
      );
      assert.equal(await r.code, 1);
      assert.match(r.stderr(), new RegExp(`^timmy: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      taken.close();
    }
    const bad = timmy(
      ['voice', 'serve', '--wyoming', '0', '--max-seconds', '-3', '--data-dir', dir],
      {},
      dir,
    );
    assert.equal(await bad.code, 2);
    assert.match(bad.stderr(), /--max-seconds must be a positive number, got -3/);
  });

  it('transcribe and say use the configured engines: a sherpa model not set is named with its fetch', async () => {
    const wav = join(dir, 'tone.wav');
    await writeFile(wav, encodeWav(tone(0.5, { hz: 300 })));
    const stt = timmy(['voice', 'transcribe', wav, '--data-dir', dir], { TIMMY_VOICE_STT: 'sherpa' }, dir);
    assert.equal(await stt.code, 1);
    assert.match(
      stt.stderr(),
      /^timmy: sherpa-onnx STT is not available: .*voice\.sttModelDir.*timmy models fetch/,
    );
    const say = timmy(
      ['voice', 'say', 'Hi.', '-o', join(dir, 'x.wav'), '--data-dir', dir],
      { TIMMY_VOICE_TTS: 'sherpa' },
      dir,
    );
    assert.equal(await say.code, 1);
    assert.match(say.stderr(), /^timmy: sherpa-onnx TTS is not available: .*timmy models fetch/);
    const voice = timmy(
      ['voice', 'say', 'Hi.', '-o', join(dir, 'x.wav'), '--voice', 'rms', '--data-dir', dir],
      { TIMMY_VOICE_TTS: 'sherpa' },
      dir,
    );
    assert.equal(await voice.code, 2);
    assert.match(voice.stderr(), /--voice chooses a flite voice; voice\.tts is sherpa/);
  });
});
