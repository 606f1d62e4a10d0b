/**
 * The talk button's end-to-end tests: a real `timmy start` with the shipped engines, and Debian chromium whose
 * fake microphone plays a WAV flite spoke, once, from the moment the page opens it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npubEncode } from 'nostr-tools/nip19';
import { getPublicKey } from 'nostr-tools/pure';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable, injectNip07 } from '../../testkit/browser.ts';
import { FliteTts } from '../../voice/flite-tts.ts';
import { pocketsphinxMissing } from '../../voice/pocketsphinx-stt.ts';
import { findExecutable } from '../../voice/subprocess.ts';
import { encodeWav, parseWav, tone } from '../../voice/wav.ts';
import { FAST_KEYS, firstJson, type Running, spawnTimmy, tempDataDir } from '../cli/harness.ts';

/** Generous: a loaded 2-core machine builds the assets, decodes speech and renders in software. */
export const WAIT = 90_000;

const missing = [
  ...(chromiumAvailable() ? [] : ['chromium']),
  ...pocketsphinxMissing(),
  ...(findExecutable('flite') ? [] : ['flite']),
];
export const skipWithoutVoice = missing.length > 0 ? `not installed: ${missing.join(', ')}` : false;

const LOOPBACK = /^(https?|wss?):\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i;

export interface TalkInstance {
  url: string;
  /** Chromium whose microphone says `text`. */
  browser: Browser;
  /** A page of that browser logged in (NIP-07) as `owner`, on /chat; what it tried off loopback, its errors. */
  chatPage(): Promise<{ page: Page; offOrigin: string[]; errors: string[] }>;
  close(): Promise<void>;
}

export async function startTalkInstance(owner: Uint8Array, text: string): Promise<TalkInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'timmy-talk-e2e-'));
  const speech = parseWav(await new FliteTts().synthesize(text)).samples;
  const lead = tone(0.8).samples;
  const tail = tone(2.5).samples;
  const all = new Int16Array(lead.length + speech.length + tail.length);
  all.set(lead);
  all.set(speech, lead.length);
  all.set(tail, lead.length + speech.length);
  const wav = join(dir, 'speech.wav');
  await writeFile(wav, encodeWav({ sampleRate: 16_000, samples: all }));
  const instance: Running = spawnTimmy(['start', '--json'], {
    TIMMY_DATA_DIR: await tempDataDir(),
    TIMMY_RELAY_PORT: '0',
    TIMMY_HTTP_PORT: '0',
    TIMMY_DASHBOARD_OWNERS: npubEncode(getPublicKey(owner)),
    ...FAST_KEYS,
  });
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    instance.child.kill('SIGTERM');
    await instance.exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const url = String((await firstJson(instance)).httpUrl);
    const b = await chromium.launch({
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
    browser = b;
    return {
      url,
      browser: b,
      close,
      chatPage: async () => {
        const context = await b.newContext({ viewport: { width: 1100, height: 900 } });
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
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Holds the talk button until the first words are heard, then lets go. */
export async function holdAndSpeak(page: Page): Promise<void> {
  const button = page.getByRole('button', { name: /Hold to talk/ });
  await button.waitFor({ timeout: WAIT });
  // Enabled once the page knows voice works here (GET /api/voice) and who is logged in.
  await page.locator('timmy-talk[data-state="idle"]').waitFor({ timeout: WAIT });
  const box = await button.boundingBox();
  assert.ok(box);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  // The VAD closes a phrase at the pause after it: its words appear while the button is held.
  await page.getByText('Hearing:').waitFor({ timeout: WAIT });
  await page.mouse.up();
}
