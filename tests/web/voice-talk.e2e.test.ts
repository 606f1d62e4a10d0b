/**
 * The chat page's talk button, used the way a person does, against a real `timmy start` with the shipped
 * engines (pocketsphinx, flite, the silero VAD): chromium's fake microphone plays flite's "What is the status?";
 * the test holds the button down, sees the transcript form, lets go, sees the answer and that its audio was
 * played. Bad input on the same socket (no session, garbage, an oversized frame, a foreign origin) closes
 * with a code that says why, and the server keeps serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSecretKey } from 'nostr-tools/pure';
import WebSocket from 'ws';
import { screenshot } from '../../testkit/browser.ts';
import { loginToDashboard } from '../../testkit/dashboard-login.ts';
import {
  holdAndSpeak,
  skipWithoutVoice,
  startTalkInstance,
  type TalkInstance,
  WAIT,
} from './voice-harness.ts';

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

describe('the talk button', { skip: skipWithoutVoice }, () => {
  const owner = generateSecretKey();
  let t: TalkInstance;
  before(async () => {
    t = await startTalkInstance(owner, 'What is the status?');
  });
  after(async () => {
    await t?.close();
  });

  test('hold, speak "What is the status?", release: the transcript forms, Timmy answers aloud', async () => {
    const { page, offOrigin, errors } = await t.chatPage();
    await holdAndSpeak(page);
    await page.getByText('You said:').waitFor({ timeout: WAIT });
    const heard = await page.locator('timmy-talk .transcript').textContent();
    assert.match(heard ?? '', /what is the status/);
    await page.getByText(/agents are alive/).waitFor({ timeout: WAIT });
    await page.getByText(/spoke [1-9]\d* of \d+ sentences/).waitFor({ timeout: WAIT });
    assert.ok(Number(await page.locator('timmy-talk').getAttribute('data-played')) >= 1);
    await screenshot(page, 'voice-talk');
    assert.deepEqual(offOrigin, []);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('bad input on the socket closes it with a clear code; the server keeps serving', async () => {
    const ws = `${t.url.replace('http', 'ws')}/api/voice`;
    const anon = await closeOf(ws, {});
    assert.deepEqual(anon, { code: 4401, reason: 'log in first (NIP-07)', ready: false });
    const { cookie } = await loginToDashboard(t.url, owner);
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
    // Still serving: the status route answers and a logged-in socket is ready.
    const status = (await (await fetch(`${t.url}/api/voice`)).json()) as { enabled: boolean };
    assert.equal(status.enabled, true);
    const fine = await closeOf(ws, { Cookie: cookie }, (s) => s.close(1000, 'bye'));
    assert.deepEqual(fine, { code: 1000, reason: 'bye', ready: true });
  });
});
