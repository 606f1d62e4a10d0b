import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HTTPAuth, Label } from 'nostr-tools/kinds';
import {
  ASSIGNMENT_KIND,
  amountTag,
  ECHO_KIND,
  FEEDBACK_KIND,
  HANDLER_INFO_KIND,
  HEARTBEAT_KIND,
  hasProtocol,
  isHex64,
  isJobRequestKind,
  isJobResultKind,
  JOB_KINDS,
  JOB_REQUEST_MAX,
  JOB_REQUEST_MIN,
  JOB_RESULT_MAX,
  JOB_RESULT_MIN,
  jobKindInfo,
  MEMORY_SEARCH_KIND,
  parseNonNegativeInt,
  readAmountTag,
  requestKindFor,
  resultKindFor,
} from './kinds.ts';

test('kind constants match NIP-90, NIP-89 and the project-defined kinds', () => {
  assert.deepEqual(
    [JOB_REQUEST_MIN, JOB_REQUEST_MAX, JOB_RESULT_MIN, JOB_RESULT_MAX, FEEDBACK_KIND, HANDLER_INFO_KIND],
    [5000, 5999, 6000, 6999, 7000, 31990],
  );
  assert.deepEqual(
    [ECHO_KIND, MEMORY_SEARCH_KIND, ASSIGNMENT_KIND, HEARTBEAT_KIND],
    [5700, 5701, 7600, 20600],
  );
  // the project-defined kinds do not collide with kinds nostr-tools knows
  assert.notEqual(HEARTBEAT_KIND, HTTPAuth);
  assert.notEqual(ASSIGNMENT_KIND, Label);
});

test('the registry covers the kinds the agents serve, each fully described', () => {
  assert.deepEqual(
    JOB_KINDS.map((k) => k.kind),
    [5000, 5001, 5002, 5050, 5250, 5700, 5701],
  );
  const names = new Set<string>();
  for (const info of JOB_KINDS) {
    assert.ok(isJobRequestKind(info.kind));
    assert.ok(
      info.name && info.title && info.description && info.inputs && info.output,
      `${info.kind} described`,
    );
    assert.ok(!names.has(info.name), `name ${info.name} unique`);
    names.add(info.name);
    for (const p of info.params) assert.ok(p.name && p.description);
  }
  assert.equal(jobKindInfo(5050)?.needsLlm, true);
  assert.equal(jobKindInfo(ECHO_KIND)?.name, 'echo');
  assert.equal(jobKindInfo(ECHO_KIND)?.needsLlm, false);
  assert.equal(jobKindInfo(5999), undefined);
});

test('kind ranges and request/result mapping', () => {
  assert.ok(isJobRequestKind(5000) && isJobRequestKind(5999));
  assert.ok(!isJobRequestKind(4999) && !isJobRequestKind(6000) && !isJobRequestKind(5000.5));
  assert.ok(isJobResultKind(6000) && isJobResultKind(6999) && !isJobResultKind(7000));
  assert.equal(resultKindFor(5001), 6001);
  assert.equal(requestKindFor(6050), 5050);
  assert.throws(() => resultKindFor(7000), RangeError);
  assert.throws(() => requestKindFor(5001), /not a job result kind/);
});

test('shared helpers', () => {
  assert.ok(isHex64('a'.repeat(64)));
  assert.ok(!isHex64('A'.repeat(64)) && !isHex64('a'.repeat(63)) && !isHex64(undefined));
  assert.equal(parseNonNegativeInt('0'), 0);
  assert.equal(parseNonNegativeInt('21000'), 21000);
  for (const bad of ['', '-1', '1.5', '1e3', ' 1', '0x10', '99999999999999999', undefined])
    assert.equal(parseNonNegativeInt(bad), undefined, String(bad));
  assert.ok(hasProtocol('wss://relay.example', ['ws:', 'wss:']));
  assert.ok(!hasProtocol('https://relay.example', ['ws:', 'wss:']) && !hasProtocol('not a url', ['ws:']));
  assert.deepEqual(amountTag(1000), ['amount', '1000']);
  assert.deepEqual(amountTag(1000, 'lnbc1'), ['amount', '1000', 'lnbc1']);
  assert.throws(() => amountTag(-1), RangeError);
  assert.throws(() => amountTag(1.5), RangeError);
  const make = (m: string) => new Error(m);
  assert.deepEqual(readAmountTag([['amount', '5', 'lnbc']], make), { amountMsats: 5, bolt11: 'lnbc' });
  assert.deepEqual(readAmountTag([], make), {});
  assert.throws(() => readAmountTag([['amount', 'five']], make), /non-negative integer of millisats/);
});
