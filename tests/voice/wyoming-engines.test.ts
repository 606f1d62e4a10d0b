import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../core/logger.ts';
import { FliteTts } from '../../voice/flite-tts.ts';
import { PocketsphinxStt, pocketsphinxMissing } from '../../voice/pocketsphinx-stt.ts';
import { findExecutable } from '../../voice/subprocess.ts';
import { encodeWav, parseWav } from '../../voice/wav.ts';
import { wordErrorRate } from '../../voice/wer.ts';
import { describeEngine } from '../../voice/wyoming/info.ts';
import { WyomingServer } from '../../voice/wyoming/server.ts';
import { pcm16, WyomingClient } from './wyoming-client.ts';

const missing = [...pocketsphinxMissing(), ...(findExecutable('flite') ? [] : ['flite'])];
const skip =
  missing.length > 0 &&
  `not installed: ${missing.join(', ')} (apt-get install pocketsphinx pocketsphinx-en-us flite)`;

/** The version dpkg reports, asked here on its own (not through the code under test). */
function dpkgVersion(pkg: string): string | null {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

/** Mono 16-bit samples as 48 kHz stereo: each sample three times, in both channels. */
function to48kStereo(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length * 3 * 4);
  for (let i = 0; i < samples.length; i++)
    for (let k = 0; k < 3; k++) {
      out.writeInt16LE(samples[i] ?? 0, (i * 3 + k) * 4);
      out.writeInt16LE(samples[i] ?? 0, (i * 3 + k) * 4 + 2);
    }
  return out;
}

// Measured here: "please turn on the kitchen light" comes back as "… kitchen life" (WER 0.17) at 16 kHz and from
// 48 kHz stereo alike; "what is the status of the network" spoken by the server reads back word-perfect (WER 0).
// The bound allows two words in six.
const MAX_WER = 0.34;

describe('Wyoming server with flite and pocketsphinx', { skip, timeout: 300_000 }, () => {
  let server: WyomingServer;
  let port = 0;
  let stt: PocketsphinxStt;
  let tts: FliteTts;
  before(async () => {
    stt = new PocketsphinxStt();
    tts = new FliteTts();
    server = new WyomingServer({
      engines: {
        stt: { engine: stt, description: await describeEngine(stt.name) },
        tts: { engine: tts, description: await describeEngine(tts.name) },
      },
      logger: silentLogger,
    });
    ({ port } = await server.listen(0));
  });
  after(() => server.close());

  it('describe → info naming pocketsphinx and flite, their languages and installed versions', async () => {
    const c = await WyomingClient.connect(port);
    try {
      const info = await c.describe();
      assert.equal(info.type, 'info');
      const asr = info.data.asr as Record<string, unknown>[];
      const ttsPrograms = info.data.tts as Record<string, unknown>[];
      assert.equal(asr.length, 1);
      assert.equal(ttsPrograms.length, 1);
      const model = (asr[0]!.models as Record<string, unknown>[])[0]!;
      const voice = (ttsPrograms[0]!.voices as Record<string, unknown>[])[0]!;
      assert.deepEqual(
        {
          program: asr[0]!.name,
          name: model.name,
          installed: model.installed,
          languages: model.languages,
          version: model.version,
        },
        {
          program: 'pocketsphinx',
          name: 'pocketsphinx:en-us',
          installed: true,
          languages: ['en', 'en-US'],
          version: dpkgVersion('pocketsphinx'),
        },
      );
      assert.deepEqual(
        {
          program: ttsPrograms[0]!.name,
          name: voice.name,
          installed: voice.installed,
          languages: voice.languages,
          version: voice.version,
        },
        {
          program: 'flite',
          name: 'flite:slt',
          installed: true,
          languages: ['en', 'en-US'],
          version: dpkgVersion('flite'),
        },
      );
      assert.match(String((model.attribution as { url: string }).url), /^https:\/\/cmusphinx/);
    } finally {
      c.destroy();
    }
  });

  it('transcribe: flite speech streamed at 16 kHz mono and at 48 kHz stereo comes back as the words said', async (t) => {
    const said = 'please turn on the kitchen light';
    const audio = parseWav(await tts.synthesize(said));
    const c = await WyomingClient.connect(port);
    try {
      const mono = await c.transcribe(pcm16(audio.samples, audio.sampleRate), { language: 'en' });
      assert.equal(mono.type, 'transcript', JSON.stringify(mono.data));
      const wer16 = wordErrorRate(said, String(mono.data.text));
      const stereo = await c.transcribe(
        { rate: 48000, width: 2, channels: 2, bytes: to48kStereo(audio.samples) },
        { chunkBytes: 8192 },
      );
      assert.equal(stereo.type, 'transcript', JSON.stringify(stereo.data));
      const wer48 = wordErrorRate(said, String(stereo.data.text));
      t.diagnostic(
        `16 kHz: "${mono.data.text}" WER ${wer16}; 48 kHz stereo: "${stereo.data.text}" WER ${wer48}`,
      );
      assert.ok(wer16 <= MAX_WER, `16 kHz: "${mono.data.text}" (WER ${wer16})`);
      assert.ok(wer48 <= MAX_WER, `48 kHz stereo: "${stereo.data.text}" (WER ${wer48})`);
    } finally {
      c.destroy();
    }
  });

  it('synthesize: the audio parses as 16 kHz mono 16-bit PCM and pocketsphinx reads the words back', async (t) => {
    const said = 'what is the status of the network';
    const c = await WyomingClient.connect(port);
    try {
      const r = await c.synthesize(said, { name: 'flite:slt' });
      assert.ok('pcm' in r, JSON.stringify(r));
      assert.deepEqual(
        { rate: r.pcm.rate, width: r.pcm.width, channels: r.pcm.channels },
        { rate: 16000, width: 2, channels: 1 },
      );
      assert.ok(r.chunks > 1, `${r.chunks} chunks`);
      const samples = new Int16Array(r.pcm.bytes.length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = r.pcm.bytes.readInt16LE(i * 2);
      const wav = encodeWav({ sampleRate: r.pcm.rate, samples });
      const seconds = parseWav(wav).samples.length / 16000;
      assert.ok(seconds > 1 && seconds < 6, `${seconds} s`);
      const heard = await stt.transcribe(wav);
      const wer = wordErrorRate(said, heard.text);
      t.diagnostic(`${r.chunks} chunks, ${seconds} s; read back: "${heard.text}" WER ${wer}`);
      assert.ok(wer <= MAX_WER, `"${heard.text}" (WER ${wer})`);
    } finally {
      c.destroy();
    }
  });
});
