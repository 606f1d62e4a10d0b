import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NostrEvent } from '../core/nostr.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import { buildForward, ForwardError, parseForward } from './forward.ts';
import { FORWARD_KIND } from './kinds.ts';
import { buildJobRequest } from './request.ts';

const customer = generateLocalSigner();
const a = generateLocalSigner();
const b = generateLocalSigner();

async function request(): Promise<NostrEvent> {
  return customer.signEvent(buildJobRequest({ kind: 5001, inputs: [{ data: 'text', type: 'text' }] }));
}

async function forward(edit: (t: ReturnType<typeof buildForward>) => void = () => {}): Promise<NostrEvent> {
  const t = buildForward({
    request: await request(),
    to: b.pubkey,
    hops: 3,
    path: [a.pubkey],
    relays: ['ws://127.0.0.1:7777'],
  });
  edit(t);
  return a.signEvent(t);
}

test('a forward round-trips: the signed request, hops, path and relays', async () => {
  const event = await forward();
  assert.equal(event.kind, FORWARD_KIND);
  const f = parseForward(event);
  assert.equal(f.from, a.pubkey);
  assert.equal(f.to, b.pubkey);
  assert.equal(f.hops, 3);
  assert.deepEqual(f.path, [a.pubkey]);
  assert.deepEqual(f.relays, ['ws://127.0.0.1:7777']);
  assert.equal(f.request.pubkey, customer.pubkey);
  assert.equal(event.tags.find((t) => t[0] === 'e')?.[1], f.request.id);
});

test('malformed forwards are refused with the reason', async () => {
  const cases: [string, (t: ReturnType<typeof buildForward>) => void, RegExp][] = [
    [
      'a tampered request',
      (t) => {
        t.content = t.content.replace('"text"', '"TEXT"');
      },
      /embedded request: id does not match/,
    ],
    [
      'a request the e tag does not name',
      (t) => {
        const e = t.tags.find((x) => x[0] === 'e');
        if (e) e[1] = '0'.repeat(64);
      },
      /not the one the e tag names/,
    ],
    [
      'no hops left',
      (t) => {
        const h = t.tags.find((x) => x[0] === 'hops');
        if (h) h[1] = '0';
      },
      /bad hops/,
    ],
    [
      'a sender not last in the path',
      (t) => {
        t.tags.push(['path', b.pubkey]);
      },
      /sender is not last/,
    ],
    [
      'content that is not JSON',
      (t) => {
        t.content = 'nope';
      },
      /not the request as JSON/,
    ],
    [
      'two p tags',
      (t) => {
        t.tags.push(['p', a.pubkey]);
      },
      /exactly one p tag/,
    ],
  ];
  for (const [what, edit, reason] of cases) {
    const event = await forward(edit);
    assert.throws(
      () => parseForward(event),
      (err: unknown) => err instanceof ForwardError && reason.test(err.message),
      what,
    );
  }
  // An embedded event that is not a job request
  const note = await customer.signEvent({ kind: 1, created_at: 1, tags: [], content: 'hi' });
  const bad = await a.signEvent({
    kind: FORWARD_KIND,
    created_at: 1,
    tags: [
      ['e', note.id],
      ['p', b.pubkey],
      ['hops', '2'],
      ['path', a.pubkey],
    ],
    content: JSON.stringify(note),
  });
  assert.throws(() => parseForward(bad), /not a job request/);
});

test('the builder refuses what the parser would', async () => {
  const r = await request();
  assert.throws(
    () => buildForward({ request: r, to: b.pubkey, hops: 0, path: [a.pubkey], relays: [] }),
    /hops/,
  );
  assert.throws(
    () => buildForward({ request: r, to: 'x', hops: 1, path: [a.pubkey], relays: [] }),
    /to must/,
  );
  assert.throws(() => buildForward({ request: r, to: b.pubkey, hops: 1, path: [], relays: [] }), /path/);
});
