/**
 * Without the voice engines the voice agent is not started, one log line says why, and the rest of the
 * network answers an outside client (docs/voice.md, "Voice jobs on Nostr").
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { composeVoice } from '../../cli/compose-voice.ts';
import { configSchema } from '../../core/config.ts';
import { dataFile } from '../../core/data-dir.ts';
import { MemoryLogger, silentLogger } from '../../core/logger.ts';
import { personas, removeDir, startTestNetwork } from '../../testkit/network.ts';
import { startTestRelay } from '../../testkit/relay.ts';
import { untilAsync } from '../../testkit/until-async.ts';
import { MediaStore } from '../../web/media-store.ts';
import { OutsideClient, VOX } from './voice-client.ts';

describe('without the voice engines the voice agent is not started; one log line says why; the rest works', () => {
  test('engines missing: the line names what to install; echo still answers; vox announces nothing', async () => {
    const relay = await startTestRelay();
    const dataDir = await mkdtemp(join(tmpdir(), 'timmy-novoice-'));
    const path = process.env.PATH;
    process.env.PATH = join(dataDir, 'no-such-bin');
    let voice: Awaited<ReturnType<typeof composeVoice>>;
    try {
      voice = await composeVoice({
        config: configSchema.parse({}),
        logger: silentLogger,
        media: new MediaStore({ dir: dataFile(dataDir, 'media'), logger: silentLogger }),
        baseUrl: () => 'http://127.0.0.1:1',
      });
    } finally {
      process.env.PATH = path;
    }
    assert.ok('unavailable' in voice);
    const logger = new MemoryLogger();
    const net = await startTestNetwork({
      relayUrl: relay.url,
      dataDir,
      agents: personas([
        { name: 'echo', serves: [{ kind: 5700, handler: 'echo' }] },
        { name: 'vox', serves: VOX },
      ]),
      voice,
      logger,
    });
    const client = await OutsideClient.connect(relay.url);
    try {
      const lines = logger.records.filter((r) => /voice agent/.test(r.msg));
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.match(
        lines[0]?.msg ?? '',
        /^voice agent "vox" not started: pocketsphinx is not available: .*install it with: apt-get install pocketsphinx pocketsphinx-en-us \(docs\/voice\.md\)$/,
      );
      const echo = await client.job(5700, [['i', 'still here', 'text']]);
      assert.equal(echo.result?.content, 'still here');
      await untilAsync(
        async () => (await client.announcements(net.pubkeyOf('echo'))).length > 0,
        10_000,
        'echo announced',
      );
      assert.deepEqual(await client.announcements(net.pubkeyOf('vox')), []);
    } finally {
      client.close();
      await net.stop();
      await relay.close();
      await removeDir(dataDir);
    }
  });

  test('no voice handlers given (`timmy agents run`): the line says voice agents run in `timmy start`', async () => {
    const relay = await startTestRelay();
    const logger = new MemoryLogger();
    const net = await startTestNetwork({
      relayUrl: relay.url,
      agents: personas([{ name: 'vox', serves: VOX }]),
      logger,
    });
    try {
      const lines = logger.records.filter((r) => /voice agent/.test(r.msg)).map((r) => r.msg);
      assert.deepEqual(lines, [
        'voice agent "vox" not started: voice agents run in `timmy start`, which serves their audio (docs/voice.md)',
      ]);
    } finally {
      await net.stop();
      await relay.close();
      await removeDir(net.dataDir);
    }
  });
});
