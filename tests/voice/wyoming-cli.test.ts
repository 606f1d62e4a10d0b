import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { pocketsphinxMissing } from '../../voice/pocketsphinx-stt.ts';
import { findExecutable } from '../../voice/subprocess.ts';
import { wordErrorRate } from '../../voice/wer.ts';
import { type Running, runTimmy, spawnTimmy, tempDataDir } from '../cli/harness.ts';
import { WyomingClient } from './wyoming-client.ts';

const missing = [...pocketsphinxMissing(), ...(findExecutable('flite') ? [] : ['flite'])];

async function line(r: Running, pattern: RegExp, timeoutMs = 90_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = r.stdout().match(pattern);
    if (m) return m;
    if (r.child.exitCode !== null) throw new Error(`timmy exited ${r.child.exitCode}: ${r.stderr()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} on stdout; stderr: ${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('timmy voice serve --wyoming, through the real binary', { timeout: 240_000 }, () => {
  let dataDir = '';
  before(async () => {
    dataDir = await tempDataDir();
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('a port that is not one exits 2 before anything starts', async () => {
    const r = await runTimmy(['voice', 'serve', '--wyoming', '70000', '--data-dir', dataDir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--wyoming: "70000" is not a port/);
  });

  it('port 0: prints the port it chose, answers a Wyoming client, stops on Ctrl+C', {
    skip: missing.length > 0 && `not installed: ${missing.join(', ')}`,
  }, async (t) => {
    const r = spawnTimmy(['voice', 'serve', '--wyoming', '0', '--data-dir', dataDir]);
    try {
      const m = await line(r, /Wyoming server listening on tcp:\/\/127\.0\.0\.1:(\d+)\n/);
      const port = Number(m[1]);
      assert.ok(port > 0);
      await line(r, /Press Ctrl\+C to stop\.\n/); // the last line printed
      assert.match(r.stdout(), /speech to text: pocketsphinx:en-us; text to speech: flite:slt/);
      assert.match(r.stdout(), /Add integration > Wyoming Protocol, host 127\.0\.0\.1, port \d+/);
      const c = await WyomingClient.connect(port);
      try {
        const info = await c.describe();
        assert.equal(info.type, 'info');
        assert.deepEqual(
          (info.data.asr as { models: { name: string }[] }[]).map((p) => p.models[0]?.name),
          ['pocketsphinx:en-us'],
        );
        const said = 'what is the status of the network';
        const speech = await c.synthesize(said);
        assert.ok('pcm' in speech, JSON.stringify(speech));
        const heard = await c.transcribe(speech.pcm);
        assert.equal(heard.type, 'transcript', JSON.stringify(heard.data));
        const wer = wordErrorRate(said, String(heard.data.text));
        t.diagnostic(`said "${said}", heard "${heard.data.text}" (WER ${wer})`);
        assert.ok(wer <= 0.34, `heard "${heard.data.text}"`);
      } finally {
        c.destroy();
      }
      r.child.kill('SIGINT');
      assert.equal(await r.exited, 0, r.stderr());
    } finally {
      r.child.kill('SIGKILL');
    }
  });
});
