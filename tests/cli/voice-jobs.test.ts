import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { voiceEngines } from '../../voice/engines.ts';
import { PocketsphinxStt } from '../../voice/pocketsphinx-stt.ts';
import { wordErrorRate } from '../../voice/wer.ts';
import { FAST_KEYS, firstJson, runTimmy, spawnTimmy, tempDataDir } from './harness.ts';

const missing = voiceEngines().filter((e) => e.role !== 'tool' && !e.installed);
const skip =
  missing.length > 0 ? `voice engines missing: ${missing.map((e) => e.install).join('; ')}` : false;
const SAID = 'Turn off the lights in the kitchen.';

interface Submitted {
  result?: { from: string; content: string };
  feedback: { status: string }[];
}

/**
 * `timmy start` as a user runs it (docs/voice.md, "Voice jobs on Nostr"): vox answers a paid kind 5250 job with
 * a URL on the instance's own HTTP server, and a kind 5000 job reads that URL back (loopback allowed here).
 */
test('timmy start: speech from kind 5250 at /media/, transcribed back by kind 5000', { skip }, async () => {
  const dataDir = await tempDataDir();
  const env = {
    ...FAST_KEYS,
    TIMMY_DATA_DIR: dataDir,
    TIMMY_RELAY_PORT: '0',
    TIMMY_HTTP_PORT: '0',
    TIMMY_DVM_URL_INPUTS_ALLOW: '127.0.0.1',
  };
  const run = spawnTimmy(['start', '--json'], env);
  try {
    const info = await firstJson(run);
    const spoken = await runTimmy(['job', 'submit', '--kind', '5250', '--json', SAID], env);
    assert.equal(spoken.code, 0, spoken.stderr);
    const url = (JSON.parse(spoken.stdout) as Submitted).result?.content ?? '';
    assert.match(url, new RegExp(`^${String(info.httpUrl)}/media/[0-9a-f]{64}\\.wav$`));
    const got = await fetch(url);
    assert.equal(got.headers.get('content-type'), 'audio/wav');
    const heard = await new PocketsphinxStt().transcribe(new Uint8Array(await got.arrayBuffer()));
    assert.ok(wordErrorRate(SAID, heard.text) <= 0.34, heard.text);

    const read = await runTimmy(
      ['job', 'submit', '--kind', '5000', '--input-type', 'url', '--json', url],
      env,
    );
    assert.equal(read.code, 0, read.stderr);
    const out = JSON.parse(read.stdout) as Submitted;
    assert.ok(wordErrorRate(SAID, out.result?.content ?? '') <= 0.34, out.result?.content);
    assert.ok(
      out.feedback.some((f) => f.status === 'payment-required'),
      'a paid job',
    );
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
