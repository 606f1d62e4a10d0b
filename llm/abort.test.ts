import assert from 'node:assert/strict';
import { test } from 'node:test';
import { abortError, isAbortError, raceAbort, sleep, throwIfAborted, untilAborted } from './abort.ts';

test('abortError is an AbortError and keeps the reason when it is one', () => {
  const ac = new AbortController();
  ac.abort();
  const e = abortError(ac.signal);
  assert.ok(isAbortError(e));
  const own = new DOMException('mine', 'AbortError');
  const ac2 = new AbortController();
  ac2.abort(own);
  assert.equal(abortError(ac2.signal), own);
  const ac3 = new AbortController();
  ac3.abort(new Error('deadline'));
  assert.match(abortError(ac3.signal).message, /deadline/);
  assert.ok(!isAbortError(new Error('x')));
});

test('throwIfAborted only throws on a fired signal', () => {
  throwIfAborted(undefined);
  const ac = new AbortController();
  throwIfAborted(ac.signal);
  ac.abort();
  assert.throws(() => throwIfAborted(ac.signal), { name: 'AbortError' });
});

test('raceAbort passes results through and rejects at once on abort, even if the work ignores it', async () => {
  assert.equal(await raceAbort(Promise.resolve(1), undefined), 1);
  const ac = new AbortController();
  assert.equal(await raceAbort(Promise.resolve(2), ac.signal), 2);
  await assert.rejects(raceAbort(Promise.reject(new Error('boom')), ac.signal), /boom/);
  const never = new Promise<number>(() => {});
  const p = raceAbort(never, ac.signal);
  ac.abort();
  await assert.rejects(p, { name: 'AbortError' });
  await assert.rejects(raceAbort(Promise.reject(new Error('late')), ac.signal), { name: 'AbortError' });
});

test('sleep resolves after the delay and rejects promptly on abort', async () => {
  await sleep(1);
  const ac = new AbortController();
  const started = Date.now();
  const p = sleep(10_000, ac.signal);
  setTimeout(() => ac.abort(), 5);
  await assert.rejects(p, { name: 'AbortError' });
  assert.ok(Date.now() - started < 1000);
  const ac2 = new AbortController();
  const hang = untilAborted(ac2.signal);
  ac2.abort();
  await assert.rejects(hang, { name: 'AbortError' });
});
