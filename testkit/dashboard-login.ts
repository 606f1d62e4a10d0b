import assert from 'node:assert/strict';
import { finalizeEvent } from 'nostr-tools/pure';
import type { LoginChallenge, SessionInfo } from '../web/api-types.ts';

/** The login event a NIP-07 extension signs for a challenge (NIP-98's kind 27235 shape). */
export function signLogin(challenge: LoginChallenge, key: Uint8Array, nowSeconds: number) {
  return finalizeEvent(
    {
      kind: 27235,
      created_at: nowSeconds,
      tags: [
        ['u', challenge.url],
        ['method', 'POST'],
        ['challenge', challenge.challenge],
      ],
      content: '',
    },
    key,
  );
}

/**
 * Logs in to a dashboard at `base` as `key` the way the browser does (challenge, signed event, session
 * cookie); the cookie, the session, and the headers an owner's write carries.
 */
export async function loginToDashboard(
  base: string,
  key: Uint8Array,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<{ cookie: string; info: SessionInfo; headers: Record<string, string> }> {
  const challenge = (await (
    await fetch(`${base}/api/session/challenge`, { method: 'POST' })
  ).json()) as LoginChallenge;
  const event = signLogin(challenge, key, nowSeconds);
  const res = await fetch(`${base}/api/session`, { method: 'POST', body: JSON.stringify({ event }) });
  assert.equal(res.status, 200, await res.clone().text());
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const info = (await res.json()) as SessionInfo;
  return { cookie, info, headers: { Cookie: cookie, 'X-CSRF-Token': info.csrf ?? '' } };
}
