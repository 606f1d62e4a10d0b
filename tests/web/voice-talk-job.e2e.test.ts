/**
 * A job said to the talk button: chromium's fake microphone plays flite's "Repeat after me, hello world."
 * against a real `timmy start`; Timmy understands an echo job (kind 5700) and says so, and the chat page
 * submits it as a typed job (signed by the NIP-07 extension, paid from the demo wallet) and shows its result.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSecretKey } from 'nostr-tools/pure';
import { screenshot } from '../../testkit/browser.ts';
import {
  holdAndSpeak,
  skipWithoutVoice,
  startTalkInstance,
  type TalkInstance,
  WAIT,
} from './voice-harness.ts';

describe('a job said to the talk button', { skip: skipWithoutVoice }, () => {
  const owner = generateSecretKey();
  let t: TalkInstance;
  before(async () => {
    t = await startTalkInstance(owner, 'Repeat after me, hello world.');
  });
  after(async () => {
    await t?.close();
  });

  test('"Repeat after me, hello world": submitted by the chat page, paid, answered', async () => {
    const { page, offOrigin, errors } = await t.chatPage();
    await holdAndSpeak(page);
    await page.getByText(/Sending an echo job/).waitFor({ timeout: WAIT });
    const turn = page.locator('article.turn').filter({ hasText: '(spoken)' });
    await turn.getByText('an echo: hello world').waitFor({ timeout: WAIT });
    await turn.locator('.result').getByText('hello world').waitFor({ timeout: WAIT });
    await screenshot(page, 'voice-talk-job');
    assert.deepEqual(offOrigin, []);
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
