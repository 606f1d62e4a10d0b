import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configSchema } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import type { HandlerContext } from '../dvm/handler.ts';
import { FakeStt } from '../voice/fake-stt.ts';
import { FakeTts } from '../voice/fake-tts.ts';
import { MediaStore } from '../web/media-store.ts';
import { composeVoice } from './compose-voice.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const ctx: HandlerContext = {
  llm: () => Promise.reject(new Error('no model')),
  progress: () => {},
  signal: new AbortController().signal,
  logger: silentLogger,
};

async function media(): Promise<MediaStore> {
  const dir = await mkdtemp(join(tmpdir(), 'timmy-compose-voice-'));
  dirs.push(dir);
  return new MediaStore({ dir: join(dir, 'media'), logger: silentLogger });
}

test('with engines: both voice handlers, and kind 5000 text extraction upgraded to transcribe too', async () => {
  const store = await media();
  let base = 'http://first.example:8080/';
  const voice = await composeVoice({
    config: configSchema.parse({}),
    logger: silentLogger,
    media: store,
    baseUrl: () => base,
    stt: new FakeStt(),
    tts: new FakeTts(),
  });
  assert.ok('handlers' in voice);
  assert.deepEqual([...voice.handlers.keys()], ['speech-to-text', 'text-to-speech', 'text-extraction']);
  assert.equal(voice.handlers.get('text-extraction'), voice.handlers.get('speech-to-text'));
  base = 'http://lan.example:8080'; // read when a job runs: the server's address is known only once it listens
  const tts = voice.handlers.get('text-to-speech');
  const out = await tts?.run(
    {
      id: 'j',
      kind: 5250,
      customer: 'c',
      inputs: [{ type: 'text', data: 'hi', marker: '', text: 'hi', contentType: '' }],
      params: {},
      output: '',
    },
    ctx,
  );
  const match = /^http:\/\/lan\.example:8080\/media\/([0-9a-f]{64}\.wav)$/.exec(out?.content ?? '');
  assert.ok(match, out?.content);
  const file = await readFile(join(store.dir, match[1] as string));
  assert.equal(file.subarray(0, 4).toString('latin1'), 'RIFF');
});

test('without engines: why, naming what to install', async () => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent-timmy-test';
  try {
    const voice = await composeVoice({
      config: configSchema.parse({}),
      logger: silentLogger,
      media: await media(),
      baseUrl: () => 'http://127.0.0.1:1',
    });
    assert.ok('unavailable' in voice);
    assert.match(
      voice.unavailable,
      /^pocketsphinx is not available: .*apt-get install pocketsphinx pocketsphinx-en-us$/,
    );
  } finally {
    process.env.PATH = path;
  }
});
