import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { parseClientMessage, peekEventId, relayMessage, validateEvent, withPrefix } from './messages.ts';

const event = finalizeEvent(
  { kind: 1, created_at: 1_700_000_000, tags: [['t', 'x']], content: 'hi' },
  generateSecretKey(),
);
const plain = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;

test('parses every client message type', () => {
  assert.deepEqual(parseClientMessage(JSON.stringify(['EVENT', plain])), {
    ok: true,
    message: { type: 'EVENT', event: plain },
  });
  assert.deepEqual(parseClientMessage(JSON.stringify(['AUTH', plain])), {
    ok: true,
    message: { type: 'AUTH', event: plain },
  });
  assert.deepEqual(parseClientMessage('["REQ","s",{"kinds":[1]},{"#e":["a"]}]'), {
    ok: true,
    message: { type: 'REQ', subId: 's', filters: [{ kinds: [1] }, { '#e': ['a'] }] },
  });
  assert.deepEqual(parseClientMessage('["COUNT","c",{}]'), {
    ok: true,
    message: { type: 'COUNT', subId: 'c', filters: [{}] },
  });
  assert.deepEqual(parseClientMessage('["CLOSE","s"]'), { ok: true, message: { type: 'CLOSE', subId: 's' } });
});

test('messages that cannot be answered otherwise get a NOTICE', () => {
  for (const text of [
    '',
    'not json',
    '{"a":1}',
    '[]',
    '[1,2]',
    '["HELLO"]',
    '["EVENT"]',
    '["EVENT",{},{}]',
    '["EVENT",{"id":"nothex"}]',
    '["EVENT",[]]',
    '["REQ"]',
    '["REQ",5,{}]',
    '["REQ","",{}]',
    `["REQ","${'x'.repeat(65)}",{}]`,
    '["CLOSE"]',
    '["CLOSE",1]',
    '["COUNT",null,{}]',
  ]) {
    const r = parseClientMessage(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) {
      assert.equal(r.rejection.reply, 'NOTICE', text);
      assert.match(r.rejection.message, /^invalid: /, text);
    }
  }
});

test('a malformed event with a readable id gets OK false invalid:', () => {
  const bad: [string, unknown][] = [
    ['pubkey', 'ABC'],
    ['pubkey', event.pubkey.toUpperCase()],
    ['sig', 'f'.repeat(127)],
    ['sig', 12],
    ['kind', -1],
    ['kind', 65536],
    ['kind', 1.5],
    ['kind', '1'],
    ['created_at', 1.5],
    ['created_at', -1],
    ['created_at', '1700000000'],
    ['created_at', 1e300],
    ['content', null],
    ['content', 5],
    ['tags', {}],
    ['tags', [['a', 1]]],
    ['tags', ['a']],
    ['tags', null],
  ];
  for (const [field, value] of bad) {
    const r = parseClientMessage(JSON.stringify(['EVENT', { ...plain, [field]: value }]));
    assert.equal(r.ok, false, `${field}=${JSON.stringify(value)}`);
    if (!r.ok) {
      assert.deepEqual(r.rejection.reply, 'OK');
      assert.match(r.rejection.message, /^invalid: /);
      if (r.rejection.reply === 'OK') assert.equal(r.rejection.id, event.id);
    }
  }
});

test('REQ and COUNT with bad filters get CLOSED invalid:', () => {
  for (const text of [
    '["REQ","s"]',
    '["REQ","s",{"kinds":["1"]}]',
    '["COUNT","s",{"search":"x"}]',
    '["REQ","s",{},5]',
  ]) {
    const r = parseClientMessage(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) {
      assert.equal(r.rejection.reply, 'CLOSED', text);
      if (r.rejection.reply === 'CLOSED') assert.equal(r.rejection.subId, 's');
      assert.match(r.rejection.message, /^invalid: /);
    }
  }
});

test('validateEvent keeps only the NIP-01 fields', () => {
  const r = validateEvent({ ...plain, extra: 1, seenOn: ['x'] });
  assert.equal(r.ok, true);
  if (r.ok)
    assert.deepEqual(Object.keys(r.event).sort(), [
      'content',
      'created_at',
      'id',
      'kind',
      'pubkey',
      'sig',
      'tags',
    ]);
});

test('peekEventId reads the id of a large EVENT without parsing it', () => {
  const big = JSON.stringify(['EVENT', { ...plain, content: 'x'.repeat(10_000) }]);
  assert.equal(peekEventId(big), event.id);
  assert.equal(peekEventId(JSON.stringify(['REQ', 's', { ids: [event.id] }])), undefined);
  const tricky = JSON.stringify(['EVENT', { content: `"id":"${'a'.repeat(64)}"`, id: event.id }]);
  assert.equal(peekEventId(tricky), event.id);
});

test('relay messages serialise as NIP-01 arrays', () => {
  assert.equal(relayMessage.ok('ab', false, 'invalid: x'), '["OK","ab",false,"invalid: x"]');
  assert.equal(relayMessage.count('c', 3), '["COUNT","c",{"count":3}]');
  assert.deepEqual(JSON.parse(relayMessage.event('s"1', JSON.stringify(plain))), ['EVENT', 's"1', plain]);
});

test('withPrefix keeps a NIP-01 prefix and adds one otherwise', () => {
  assert.equal(withPrefix('auth-required: again', 'invalid'), 'auth-required: again');
  assert.equal(withPrefix('bad challenge', 'invalid'), 'invalid: bad challenge');
  assert.equal(withPrefix('note: something', 'error'), 'error: note: something');
});
