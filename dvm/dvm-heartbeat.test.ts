import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NostrEvent } from '../core/nostr.ts';
import { isReplaceableKind } from '../core/nostr.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import {
  buildDvmHeartbeat,
  DVM_HEARTBEAT_KIND,
  DvmHeartbeatError,
  dvmHeartbeatFresh,
  parseDvmHeartbeat,
} from './dvm-heartbeat.ts';
import { DvmEventError } from './kinds.ts';

const agent = generateLocalSigner();
const T = 1_700_000_000;
const signed = (tags: string[][], content = ''): Promise<NostrEvent> =>
  agent.signEvent({ kind: DVM_HEARTBEAT_KIND, created_at: T, tags, content });

describe('DVM heartbeat (kind 11998)', () => {
  test('a replaceable kind; d, NIP-40 expiration after two intervals, JSON status', () => {
    assert.ok(isReplaceableKind(DVM_HEARTBEAT_KIND));
    const t = buildDvmHeartbeat({
      d: 'timmy-seer',
      intervalSeconds: 300,
      load: 1,
      capacity: 4,
      createdAt: T,
    });
    assert.equal(t.kind, 11998);
    assert.equal(t.created_at, T);
    assert.deepEqual(t.tags, [
      ['d', 'timmy-seer'],
      ['expiration', String(T + 600)],
    ]);
    assert.deepEqual(JSON.parse(t.content), { status: 'online', load: 1, capacity: 4 });
    const full = buildDvmHeartbeat({ d: 'x', intervalSeconds: 60, load: 4, capacity: 4, createdAt: T });
    assert.equal((JSON.parse(full.content) as { status: string }).status, 'busy');
  });

  test('round trip', async () => {
    const e = await agent.signEvent(
      buildDvmHeartbeat({ d: 'timmy-seer', intervalSeconds: 300, load: 2, capacity: 4, createdAt: T }),
    );
    assert.deepEqual(parseDvmHeartbeat(e), {
      pubkey: agent.pubkey,
      d: 'timmy-seer',
      at: T,
      expiresAt: T + 600,
      status: 'online',
      load: 2,
      capacity: 4,
    });
  });

  test("other software's beats: plain content, no expiration", async () => {
    const beat = parseDvmHeartbeat(await signed([['d', 'their-dvm']], 'alive'));
    assert.equal(beat.status, '');
    assert.equal(beat.expiresAt, undefined);
    assert.equal(beat.load, undefined);
    assert.ok(dvmHeartbeatFresh(beat, T + 900));
    assert.ok(!dvmHeartbeatFresh(beat, T + 901));
  });

  test('fresh until it expires', () => {
    const beat = { pubkey: agent.pubkey, d: 'd', at: T, expiresAt: T + 600, status: 'online' };
    assert.ok(dvmHeartbeatFresh({ ...beat, load: 0, capacity: undefined }, T + 599));
    assert.ok(!dvmHeartbeatFresh({ ...beat, load: 0, capacity: undefined }, T + 600));
  });

  test('refuses another kind, a missing d, a malformed expiration', async () => {
    const refuses = (e: NostrEvent, re: RegExp) =>
      assert.throws(
        () => parseDvmHeartbeat(e),
        (err: unknown) =>
          err instanceof DvmHeartbeatError && err instanceof DvmEventError && re.test(err.message),
      );
    refuses({ ...(await signed([['d', 'x']])), kind: 20600 }, /not a DVM heartbeat/);
    refuses(await signed([]), /needs a d tag/);
    refuses(await signed([['d', '']]), /needs a d tag/);
    refuses(
      await signed([
        ['d', 'x'],
        ['expiration', 'soon'],
      ]),
      /expiration tag must hold unix seconds/,
    );
  });

  test('the builder refuses an empty d, a bad interval or count', () => {
    assert.throws(() => buildDvmHeartbeat({ d: '', intervalSeconds: 300, load: 0 }), RangeError);
    assert.throws(() => buildDvmHeartbeat({ d: 'x', intervalSeconds: 0, load: 0 }), RangeError);
    assert.throws(() => buildDvmHeartbeat({ d: 'x', intervalSeconds: 1.5, load: 0 }), RangeError);
    assert.throws(() => buildDvmHeartbeat({ d: 'x', intervalSeconds: 300, load: -1 }), RangeError);
    assert.throws(
      () => buildDvmHeartbeat({ d: 'x', intervalSeconds: 300, load: 0, capacity: 0.5 }),
      RangeError,
    );
  });
});
