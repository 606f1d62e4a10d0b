import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { MemoryLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import type { Publish } from '../core/transport.ts';
import { ProfilePublisher } from './profile-publisher.ts';

/** A scriptable Publish: fails with the queued errors first, then records what it publishes. */
class ScriptedPublish implements Publish {
  readonly published: NostrEvent[] = [];
  calls = 0;
  constructor(private readonly failures: string[] = []) {}
  async publish(event: NostrEvent): Promise<void> {
    this.calls++;
    const f = this.failures.shift();
    if (f !== undefined) throw new Error(f);
    this.published.push(event);
  }
}

const profile = (name: string): NostrEvent =>
  finalizeEvent({ kind: 0, created_at: 1, tags: [], content: JSON.stringify({ name }) }, generateSecretKey());

test('publishes every profile through its own connection', async () => {
  const a = new ScriptedPublish();
  const b = new ScriptedPublish();
  const p = new ProfilePublisher({ logger: new MemoryLogger() });
  const done = await p.publishAll([
    { name: 'a', event: profile('a'), via: a },
    { name: 'b', event: profile('b'), via: b },
  ]);
  assert.deepEqual(done, ['a', 'b']);
  assert.equal(a.published.length, 1);
  assert.equal(b.published.length, 1);
});

test('a relay that refuses or is down is retried with backoff until it works', async () => {
  const flaky = new ScriptedPublish(['connection refused', 'auth-required: please']);
  const logger = new MemoryLogger();
  const p = new ProfilePublisher({ logger, retryMs: 5 });
  const done = await p.publishAll([{ name: 'quill', event: profile('quill'), via: flaky }]);
  assert.deepEqual(done, []);
  const deadline = Date.now() + 10_000;
  while (flaky.published.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(flaky.published.length, 1);
  assert.equal(flaky.calls, 3);
  const warnings = logger.records.filter((r) => r.level === 'warn');
  assert.equal(warnings.length, 2);
  assert.equal(warnings[0]?.fields.reason, 'connection refused');
  assert.equal(warnings[1]?.fields.retryInMs, 10, 'the delay doubles');
  p.stop();
});

test('stop() ends the retries', async () => {
  const down = new ScriptedPublish(Array.from({ length: 100 }, () => 'down'));
  const p = new ProfilePublisher({ logger: new MemoryLogger(), retryMs: 5 });
  await p.publishAll([{ name: 'x', event: profile('x'), via: down }]);
  p.stop();
  const calls = down.calls;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(down.calls, calls);
});

test('a permanent refusal is logged once and not retried; duplicate: counts as published', async () => {
  const blocked = new ScriptedPublish(['blocked: kind 0 is not accepted here']);
  const dup = new ScriptedPublish(['duplicate: have a newer version']);
  const logger = new MemoryLogger();
  const p = new ProfilePublisher({ logger, retryMs: 5 });
  const done = await p.publishAll([
    { name: 'a', event: profile('a'), via: blocked },
    { name: 'b', event: profile('b'), via: dup },
  ]);
  assert.deepEqual(done, ['b']);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(blocked.calls, 1, 'not retried');
  assert.equal(logger.records.filter((r) => r.level === 'error').length, 1);
  assert.equal(logger.records.filter((r) => r.level === 'warn').length, 0);
  p.stop();
});
