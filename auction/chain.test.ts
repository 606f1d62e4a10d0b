import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { chainHead, checkChain } from './chain.ts';

const hex = (label: string): string => createHash('sha256').update(label).digest('hex');
const sha = (a: string, b: string): string =>
  createHash('sha256')
    .update(Buffer.concat([Buffer.from(a, 'hex'), Buffer.from(b, 'hex')]))
    .digest('hex');

const OPEN = hex('open');
const a = { id: hex('a'), createdAt: 100, prev: OPEN };
const b = { id: hex('b'), createdAt: 101, prev: a.id };
const c = { id: hex('c'), createdAt: 101, prev: a.id };
const d = { id: hex('d'), createdAt: 105, prev: b.id };

describe('chainHead', () => {
  test('no commitment: the auction id', () => {
    assert.equal(chainHead(OPEN, []), OPEN);
  });

  test('sha256 of the previous head and the id, 32 bytes each, in (created_at, id) order', () => {
    const [first, second] = [b, c].sort((x, y) => (x.id < y.id ? -1 : 1));
    let h = sha(OPEN, a.id);
    h = sha(h, first?.id ?? '');
    h = sha(h, second?.id ?? '');
    h = sha(h, d.id);
    assert.equal(chainHead(OPEN, [a, b, c, d]), h);
  });

  test('deterministic and independent of the input order; a repeated id counts once', () => {
    const head = chainHead(OPEN, [a, b, c, d]);
    assert.equal(chainHead(OPEN, [d, c, b, a]), head);
    assert.equal(chainHead(OPEN, [c, a, d, b, a]), head);
    assert.match(head, /^[0-9a-f]{64}$/);
  });

  test('changes with the set, the auction and the timestamps', () => {
    const head = chainHead(OPEN, [a, b, c, d]);
    assert.notEqual(chainHead(OPEN, [a, b, c]), head);
    assert.notEqual(chainHead(hex('other'), [a, b, c, d]), head);
    assert.notEqual(chainHead(OPEN, [a, b, c, { ...d, createdAt: 99 }]), head);
  });

  test('rejects ids that are not 64 lowercase hex', () => {
    assert.throws(() => chainHead('x', []), RangeError);
    assert.throws(() => chainHead(OPEN, [{ id: a.id.toUpperCase(), createdAt: 1 }]), RangeError);
  });
});

describe('checkChain', () => {
  test('a clean chain has no problem, whatever the order', () => {
    assert.deepEqual(checkChain(OPEN, [a, b, c, d]), []);
    assert.deepEqual(checkChain(OPEN, [d, c, b, a]), []);
    assert.deepEqual(checkChain(OPEN, []), []);
  });

  test('a prev that is neither the auction nor a commitment of the set', () => {
    const stray = { id: hex('e'), createdAt: 106, prev: hex('elsewhere') };
    const problems = checkChain(OPEN, [a, b, stray]);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /neither the auction nor a commitment/);
    assert.ok(problems[0]?.includes(stray.id));
    // b's prev a is missing from the set
    assert.match(checkChain(OPEN, [b])[0] ?? '', /neither the auction nor a commitment/);
  });

  test('a prev created after the commitment (a backdated commitment)', () => {
    const backdated = { id: hex('f'), createdAt: 102, prev: d.id };
    const problems = checkChain(OPEN, [a, b, d, backdated]);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /created later \(created_at 105\)/);
  });

  test('a prev naming the commitment itself', () => {
    const self = { id: hex('g'), createdAt: 103, prev: hex('g') };
    assert.match(checkChain(OPEN, [self])[0] ?? '', /names itself/);
  });
});
