/**
 * The chat page's talk button, used the way a person does, against a real `timmy start` with the shipped
 * engines (pocketsphinx, flite, the silero VAD): chromium's fake microphone plays a WAV flite spoke ("How
 * are things?"); the test holds the button down, sees the transcript form, lets go, sees the answer and that
 * its audio was played. Bad input on the same socket (no session, garbage, an oversized frame) closes with a
 * code that says why, and the button works again afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { npubEncode } from 'nostr-tools/nip19';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { type Browser, chromium, type Page } from 'playwright-core';
import WebSocket from 'ws';
import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  chromiumAvailable,
  injectNip07,
  screenshot,
} from '../../testkit/browser.ts';
import { loginToDashboard } from '../../testkit/dashboard-login.ts';
import { FliteTts } from '../../voice/flite-tts.ts';
import { pocketsphinxMissing } from '../../voice/pocketsphinx-stt.ts';
import { findExecutable } from '../../voice/subprocess.ts';
import { encodeWav, parseWav, tone } from '../../voice/wav.ts';
import { FAST_KEYS, firstJson, type Running, spawnTimmy, tempDataDir } from '../cli/harness.ts';

const WAIT = 120_000;
const missing = [
  ...(chromiumAvailable() ? [] : ['chromium']),
  ...pocketsphinxMissing(),
  ...(findExecutable('flite') ? [] : ['flite']),
];
const LOOPBACK = /^(https?|wss?):\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i;

/** A WAV of flite saying `text`, with silence around it (the fake microphone plays it once). */
async function spokenWav(dir: string, text: string): Promise<string> {
  const speech = parseWav(await new FliteTts().synthesize(text)).samples;
  const before = tone(0.8).samples;
  const afterwards = tone(2.5).samples;
  const all = new Int16Array(before.length + speech.length + afterwards.length);
  all.set(before);
  all.set(speech, before.length);
  all.set(afterwards, before.length + speech.length);
  const file = join(dir, 'question.wav');
  await writeFile(file, encodeWav({ sampleRate: 16_000, samples: all }));
  return file;
}

function closeOf(url: string, headers: Record<string, string>, send?: (ws: WebSocket) => void) {
  return new Promise<{ code: number; reason: string; ready: boolean }>((resolve) => {
    const ws = new WebSocket(url, { headers });
    let ready = false;
    ws.on('message', (d, binary) => {
      if (!binary && JSON.parse(String(d)).type === 'ready') {
        ready = true;
        send?.(ws);
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), ready }));
  });
}

describe('the talk button', {
  skip: missing.length > 0 ? `not installed: ${missing.join(', ')}` : false,
}, () => {
  const owner = generateSecretKey();
  let dir: string;
  let instance: Running;
  let url: string;
  let browser: Browser;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'timmy-talk-e2e-'));
    const wav = await spokenWav(dir, 'How are things?');
    instance = spawnTimmy(['start', '--json'], {
      TIMMY_DATA_DIR: await tempDataDir(),
      TIMMY_RELAY_PORT: '0',
      TIMMY_HTTP_PORT: '0',
      TIMMY_DASHBOARD_OWNERS: npubEncode(getPublicKey(owner)),
      ...FAST_KEYS,
    });
    url = String((await firstJson(instance)).httpUrl);
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        ...CHROMIUM_ARGS,
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}%noloop`,
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    instance?.child.kill('SIGTERM');
    await instance?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  async function chatPage(): Promise<{ page: Page; offOrigin: string[]; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    await context.grantPermissions(['microphone'], { origin: url });
    const offOrigin: string[] = [];
    const errors: string[] = [];
    await context.route('**/*', async (route) => {
      const u = route.request().url();
      if (LOOPBACK.test(u) || u.startsWith('data:') || u.startsWith('blob:')) await route.continue();
      else {
        offOrigin.push(u);
        await route.abort('blockedbyclient');
      }
    });
    await injectNip07(context, owner);
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/`);
    await page.getByRole('button', { name: 'Log in with Nostr' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: WAIT });
    await page.goto(`${url}/chat`);
    return { page, offOrigin, errors };
  }

  test('hold, speak "How are things?", release: the transcript forms, Timmy answers aloud', {
    timeout: 300_000,
  }, async () => {
    const { page, offOrigin, errors } = await chatPage();
    const button = page.getByRole('button', { name: /Hold to talk/ });
    await button.waitFor({ timeout: WAIT });
    // Enabled once the page knows voice works here (GET /api/voice) and who is logged in.
    await page.locator('timmy-talk[data-state="idle"]').waitFor({ timeout: WAIT });
    const box = await button.boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    // The VAD closes the question's segment at the pause after it: its words appear while the button is held.
    await page.getByText('Hearing:').waitFor({ timeout: WAIT });
    await page.mouse.up();
    await page.getByText('You said:').waitFor({ timeout: WAIT });
    const heard = await page.locator('timmy-talk .transcript').innerText();
    assert.match(heard, /how are things/, heard);
    await page.getByText('how are things', { exact: false }).first().waitFor({ timeout: WAIT });
    await page.getByText(/agents are alive/).waitFor({ timeout: WAIT });
    await page.getByText(/spoke [1-9]\d* of \d+ sentences/).waitFor({ timeout: WAIT });
    const talk = page.locator('timmy-talk');
    assert.ok(Number(await talk.getAttribute('data-played')) >= 1);
    await screenshot(page, 'voice-talk');
    assert.deepEqual(offOrigin, []);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('bad input on the socket closes it with a clear code; the server keeps serving', async () => {
    const ws = `${url.replace('http', 'ws')}/api/voice`;
    const anon = await closeOf(ws, {});
    assert.deepEqual(anon, { code: 4401, reason: 'log in first (NIP-07)', ready: false });
    const { cookie } = await loginToDashboard(url, owner);
    const garbage = await closeOf(ws, { Cookie: cookie }, (s) => s.send(Buffer.from([1, 2, 3])));
    assert.equal(garbage.code, 4400);
    const notJson = await closeOf(ws, { Cookie: cookie }, (s) => s.send('{nope'));
    assert.equal(notJson.code, 4400);
    const big = await closeOf(ws, { Cookie: cookie }, (s) => {
      s.send('{"type":"start"}');
      s.send(Buffer.alloc(200_000));
    });
    assert.equal(big.code, 1009);
    const foreign = await closeOf(ws, { Cookie: cookie, Origin: 'https://evil.example' });
    assert.equal(foreign.code, 4403);
    // Still serving: a logged-in socket is ready, and the status route answers.
    const status = (await (await fetch(`${url}/api/voice`)).json()) as { enabled: boolean; vad?: string };
    assert.equal(status.enabled, true);
    const fine = await closeOf(ws, { Cookie: cookie }, (s) => s.close(1000, 'bye'));
    assert.deepEqual(fine, { code: 1000, reason: 'bye', ready: true });
  });
});
