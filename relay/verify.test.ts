import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  finalizeEvent,
  generateSecretKey,
  getEventHash,
  verifyEvent as nostrToolsVerify,
} from 'nostr-tools/pure';
import type { NostrEvent } from '../core/nostr.ts';
import { pushVerifyItem, serializeEvent, verifyEvent, verifyFlat } from './verify.ts';

const sk = generateSecretKey();
const sign = (content: string, tags: string[][] = []): NostrEvent =>
  finalizeEvent({ kind: 1, created_at: 1_700_000_000, tags, content }, sk);

/** nostr-tools' own verdict, on a JSON copy (spread would copy its cached verifiedSymbol too). */
function reference(e: NostrEvent): boolean {
  return nostrToolsVerify(JSON.parse(JSON.stringify(e)) as NostrEvent);
}

function flip(hex: string, at: number): string {
  const c = hex[at] === '0' ? '1' : '0';
  return hex.slice(0, at) + c + hex.slice(at + 1);
}

test('serialisation hashes to the same id as nostr-tools', () => {
  for (const content of [
    '',
    'plain',
    'quote " backslash \\ newline \n tab \t',
    'unicode ✓ 🎉 \u0000 \u2028',
  ]) {
    const e = sign(content, [['t', content]]);
    assert.equal(getEventHash(e), e.id);
    assert.equal(typeof serializeEvent(e), 'string');
    assert.equal(verifyEvent(e), 'ok');
  }
});

test('agrees with nostr-tools on valid and tampered events', () => {
  const events: NostrEvent[] = [];
  for (let i = 0; i < 40; i++) {
    const e = sign(`event ${i} ${'✓'.repeat(i)}`, [['p', 'a'.repeat(64)]]);
    events.push(e);
    events.push({ ...e, content: `${e.content}!` });
    events.push({ ...e, sig: flip(e.sig, i % 128) });
    events.push({ ...e, pubkey: flip(e.pubkey, i % 64) });
    events.push({ ...e, created_at: e.created_at + 1 });
    events.push({ ...e, tags: [] });
  }
  const items: string[] = [];
  for (const e of events) pushVerifyItem(items, e);
  const codes = verifyFlat(items);
  events.forEach((e, i) => {
    assert.equal(codes[i] === 0, reference(e), `event ${i}`);
    assert.equal(verifyEvent(e) === 'ok', reference(e), `event ${i} alone`);
  });
});

test('tells a wrong id from a wrong signature', () => {
  const e = sign('x');
  assert.equal(verifyEvent({ ...e, content: 'y' }), 'bad-id');
  assert.equal(verifyEvent({ ...e, sig: flip(e.sig, 5) }), 'bad-sig');
  // A signature of another event, with that event's id: the id matches nothing here.
  const other = sign('other');
  assert.equal(verifyEvent({ ...e, sig: other.sig }), 'bad-sig');
  // A pubkey that is not a curve point.
  const offCurve = { ...e, pubkey: 'f'.repeat(64) };
  const id = getEventHash(offCurve);
  assert.equal(verifyEvent({ ...offCurve, id }), 'bad-sig');
});

test('one bad signature in a batch fails only that event', () => {
  const events = Array.from({ length: 10 }, (_, i) => sign(`b${i}`));
  events[3] = { ...(events[3] as NostrEvent), sig: flip((events[3] as NostrEvent).sig, 100) };
  const items: string[] = [];
  for (const e of events) pushVerifyItem(items, e);
  assert.deepEqual([...verifyFlat(items)], [0, 0, 0, 2, 0, 0, 0, 0, 0, 0]);
});
