import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NostrEvent } from '../core/nostr.ts';
import { checkEventRules } from './event-rules.ts';
import { DEFAULT_LIMITS } from './limits.ts';

const now = 1_700_000_000;
const base: NostrEvent = {
  id: 'a'.repeat(64),
  pubkey: 'b'.repeat(64),
  sig: 'c'.repeat(128),
  kind: 1,
  created_at: now,
  tags: [],
  content: '',
};
const limits = { ...DEFAULT_LIMITS, maxEventTags: 3, maxContentBytes: 10, createdAtFutureSeconds: 60 };

test('passes an ordinary event', () => {
  assert.equal(checkEventRules(base, limits, now), undefined);
  assert.equal(
    checkEventRules({ ...base, created_at: now + 60, content: '1234567890' }, limits, now),
    undefined,
  );
});

test('each rule answers invalid:', () => {
  const cases: [Partial<NostrEvent>, RegExp][] = [
    [{ tags: [['a'], ['b'], ['c'], ['d']] }, /^invalid: too many tags/],
    [{ content: '12345678901' }, /^invalid: content/],
    [{ content: '✓✓✓✓' }, /^invalid: content/], // 4 characters, 12 bytes
    [{ created_at: now + 61 }, /^invalid: created_at is more than 60 seconds in the future/],
    [{ tags: [['expiration', String(now)]] }, /^invalid: event has expired/],
    [{ tags: [['expiration', String(now - 1)]] }, /^invalid: event has expired/],
    [{ kind: 22242 }, /^invalid: kind 22242 events go in AUTH messages/],
  ];
  for (const [patch, re] of cases)
    assert.match(checkEventRules({ ...base, ...patch }, limits, now) ?? '', re);
});

test('the past limit applies only when set; a future expiration passes', () => {
  assert.equal(checkEventRules({ ...base, created_at: 0 }, limits, now), undefined);
  assert.match(
    checkEventRules({ ...base, created_at: now - 11 }, { ...limits, createdAtPastSeconds: 10 }, now) ?? '',
    /^invalid: created_at is more than 10 seconds in the past/,
  );
  assert.equal(checkEventRules({ ...base, tags: [['expiration', String(now + 1)]] }, limits, now), undefined);
  assert.equal(checkEventRules({ ...base, tags: [['expiration', 'soon']] }, limits, now), undefined);
});
