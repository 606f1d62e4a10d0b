import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateLocalSigner } from './signer.ts';
import { checkEventSignature, checkSignedEvent, parseEventShape } from './verify-event.ts';

const signer = generateLocalSigner();
const sign = () =>
  signer.signEvent({ kind: 1, created_at: 1_700_000_000, tags: [['t', 'a']], content: 'hello' });

describe('parseEventShape', () => {
  it('copies a well-formed event into a fresh object (extra fields dropped)', async () => {
    const e = await sign();
    const r = parseEventShape({ ...JSON.parse(JSON.stringify(e)), extra: 1 });
    assert.ok(r.ok);
    assert.deepEqual(r.event, JSON.parse(JSON.stringify(e)));
    assert.equal(Object.keys(r.event).length, 7);
  });

  it('names the first field that is wrong', async () => {
    const e = JSON.parse(JSON.stringify(await sign())) as Record<string, unknown>;
    const cases: [unknown, RegExp][] = [
      [null, /not an event object/],
      [[e], /not an event object/],
      [{ ...e, id: (e.id as string).toUpperCase() }, /^id/],
      [{ ...e, pubkey: 'npub1x' }, /^pubkey/],
      [{ ...e, sig: 'ab' }, /^sig/],
      [{ ...e, kind: 1.5 }, /^kind/],
      [{ ...e, kind: 70000 }, /^kind/],
      [{ ...e, created_at: -1 }, /^created_at/],
      [{ ...e, created_at: '1' }, /^created_at/],
      [{ ...e, content: 1 }, /^content/],
      [{ ...e, tags: [['t', 1]] }, /^tags/],
      [{ ...e, tags: 'x' }, /^tags/],
    ];
    for (const [value, re] of cases) {
      const r = parseEventShape(value);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, re);
    }
  });
});

describe('checkEventSignature / checkSignedEvent', () => {
  it('passes a genuine event', async () => {
    const e = await sign();
    assert.equal(checkEventSignature(e), undefined);
    assert.ok(checkSignedEvent(JSON.parse(JSON.stringify(e))).ok);
  });

  it('fails a modified event even when nostr-tools cached it as verified', async () => {
    const e = await sign(); // finalizeEvent marks the object as verified
    e.content = 'changed';
    assert.equal(checkEventSignature(e), 'id does not match the event content');
    assert.deepEqual(checkSignedEvent(e), { ok: false, reason: 'id does not match the event content' });
  });

  it('fails a wrong signature', async () => {
    const e = await sign();
    const other = await signer.signEvent({ kind: 1, created_at: 1, tags: [], content: 'other' });
    assert.equal(checkEventSignature({ ...e, sig: other.sig }), 'bad signature');
  });
});
