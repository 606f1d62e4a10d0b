import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import { MemoryLogger, silentLogger } from '../core/logger.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { type Completion, type CompletionRequest, LlmUnavailableError } from './provider.ts';
import { type CallSample, CascadeRouter, NO_PROVIDER_MESSAGE } from './router.ts';
import { ScriptedProvider } from './scripted.ts';

const messages = [{ role: 'user' as const, content: 'hello' }];

function setup(names: string[], opts: { timeoutMs?: number; threshold?: number; cooldownMs?: number } = {}) {
  const clock = new ManualClock();
  const samples: CallSample[] = [];
  const providers = names.map((name) => new ScriptedProvider({ name, model: `${name}-model` }));
  const router = new CascadeRouter({
    entries: providers.map((provider) => ({
      provider,
      timeoutMs: opts.timeoutMs ?? 5000,
      breaker: new CircuitBreaker({
        failureThreshold: opts.threshold ?? 2,
        cooldownMs: opts.cooldownMs ?? 30_000,
        halfOpenSuccesses: 1,
        clock,
      }),
    })),
    logger: silentLogger,
    clock,
    onCall: (s) => samples.push(s),
  });
  return { clock, samples, providers, router };
}

test('no providers: LlmUnavailableError telling how to enable one', async () => {
  const router = new CascadeRouter({ entries: [], logger: silentLogger });
  await assert.rejects(router.complete({ messages }), (e: unknown) => {
    assert.ok(e instanceof LlmUnavailableError);
    assert.equal(e.message, NO_PROVIDER_MESSAGE);
    for (const v of [
      'TIMMY_LLM_OLLAMA_URL',
      'TIMMY_LLM_OPENAI_URL',
      'TIMMY_LLM_LLAMA_CPP_MODEL_PATH',
      'docs/llm.md',
    ])
      assert.ok(e.message.includes(v));
    return true;
  });
});

test('the first provider answers; the completion names it; stats and samples are recorded', async () => {
  const { router, providers, samples } = setup(['a', 'b']);
  providers[0]?.queue({ text: 'hi', promptTokens: 3, completionTokens: 2 });
  const c = await router.complete({ messages });
  assert.equal(c.text, 'hi');
  assert.equal(c.provider, 'a');
  assert.equal(c.model, 'a-model');
  assert.equal(providers[1]?.calls.length, 0);
  const [a] = router.stats();
  assert.equal(a?.calls, 1);
  assert.equal(a?.successes, 1);
  assert.equal(a?.promptTokens, 3);
  assert.equal(a?.completionTokens, 2);
  assert.equal(a?.latency.count, 1);
  assert.deepEqual(samples, [
    {
      provider: 'a',
      ok: true,
      outcome: 'ok',
      latencyMs: 0,
      model: 'a-model',
      promptTokens: 3,
      completionTokens: 2,
    },
  ]);
});

test('falls through on an error and on garbage', async () => {
  const { router, providers, samples } = setup(['a', 'b', 'c']);
  providers[0]?.queue({ error: 'connection refused' });
  providers[1]?.queue({ garbage: true });
  providers[2]?.queue('from c');
  const c = await router.complete({ messages });
  assert.equal(c.provider, 'c');
  assert.deepEqual(
    samples.map((s) => [s.provider, s.outcome]),
    [
      ['a', 'error'],
      ['b', 'error'],
      ['c', 'ok'],
    ],
  );
  assert.match(samples[1]?.error ?? '', /unparseable/);
  assert.equal(router.stats()[1]?.lastError, 'unparseable answer (scripted garbage)');
});

test('a hanging provider times out and the next answers', async () => {
  const { router, providers, samples } = setup(['slow', 'fast'], { timeoutMs: 50 });
  providers[0]?.queue({ hang: true });
  providers[1]?.queue('quick');
  const t = Date.now();
  const c = await router.complete({ messages });
  assert.equal(c.text, 'quick');
  assert.ok(Date.now() - t < 2000);
  assert.equal(samples[0]?.outcome, 'timeout');
  const slow = router.stats()[0];
  assert.equal(slow?.timeouts, 1);
  assert.equal(slow?.failures, 1);
  assert.equal(slow?.lastError, 'timeout after 50 ms');
  // The provider itself saw its call aborted.
  assert.equal(providers[0]?.calls[0]?.signal?.aborted, true);
});

test('all failing: LlmUnavailableError listing every attempt', async () => {
  const { router, providers } = setup(['a', 'b'], { timeoutMs: 30 });
  providers[0]?.queue({ error: 'a: model not found' });
  providers[1]?.queue({ hang: true });
  await assert.rejects(router.complete({ messages }), (e: unknown) => {
    assert.ok(e instanceof LlmUnavailableError);
    assert.deepEqual(e.attempts, ['a: model not found', 'b: timeout after 30 ms']);
    assert.match(e.message, /no language model could answer: a: model not found; b: timeout/);
    return true;
  });
});

test('the breaker opens after N failures, calls skip it, and after the cool-down a probe closes it', async () => {
  const { router, providers, clock } = setup(['flaky', 'backup'], { threshold: 2, cooldownMs: 10_000 });
  const [flaky, backup] = providers as [ScriptedProvider, ScriptedProvider];
  flaky.queue({ error: 'down' }, { error: 'down' });
  backup.queue('b1', 'b2', 'b3', 'b4');
  assert.equal((await router.complete({ messages })).provider, 'backup');
  assert.equal((await router.complete({ messages })).provider, 'backup');
  assert.equal(router.stats()[0]?.breaker.state, 'open');
  assert.equal((await router.complete({ messages })).provider, 'backup');
  assert.equal(flaky.calls.length, 2, 'skipped while open');
  assert.equal(router.stats()[0]?.skipped, 1);
  clock.advance(9_999);
  await router.complete({ messages });
  assert.equal(flaky.calls.length, 2);
  clock.advance(1);
  flaky.queue('back');
  const c = await router.complete({ messages });
  assert.equal(c.provider, 'flaky', 'the probe went through');
  assert.equal(router.stats()[0]?.breaker.state, 'closed');
});

test('skipped providers appear in the attempts when every circuit is open', async () => {
  const { router, providers } = setup(['only'], { threshold: 1, cooldownMs: 5000 });
  providers[0]?.queue({ error: 'down' });
  await assert.rejects(router.complete({ messages }), LlmUnavailableError);
  await assert.rejects(router.complete({ messages }), (e: unknown) => {
    assert.ok(e instanceof LlmUnavailableError);
    assert.match(e.attempts[0] ?? '', /only: skipped, circuit open .*next try in 5 s/);
    return true;
  });
});

test("caller abort rejects promptly with an AbortError and is nobody's failure", async () => {
  const { router, providers, samples } = setup(['a', 'b'], { threshold: 1 });
  providers[0]?.queue({ hang: true });
  providers[1]?.queue('never');
  const ac = new AbortController();
  const p = router.complete({ messages, signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  const t = Date.now();
  await assert.rejects(p, { name: 'AbortError' });
  assert.ok(Date.now() - t < 1000);
  const [a] = router.stats();
  assert.equal(a?.failures, 0);
  assert.equal(a?.aborted, 1);
  assert.equal(a?.breaker.state, 'closed');
  assert.equal(providers[1]?.calls.length, 0, 'no fall-through after an abort');
  assert.equal(samples[0]?.outcome, 'aborted');
  const done = new AbortController();
  done.abort();
  await assert.rejects(router.complete({ messages, signal: done.signal }), { name: 'AbortError' });
});

test('an aborted half-open probe frees the probe slot', async () => {
  const { router, providers, clock } = setup(['a'], { threshold: 1, cooldownMs: 100 });
  providers[0]?.queue({ error: 'x' }, { hang: true }, 'ok');
  await assert.rejects(router.complete({ messages }));
  clock.advance(100);
  const ac = new AbortController();
  const p = router.complete({ messages, signal: ac.signal });
  ac.abort();
  await assert.rejects(p, { name: 'AbortError' });
  assert.equal((await router.complete({ messages })).text, 'ok');
});

test('streaming passes through; a failure after streamed tokens does not fall through', async () => {
  const { router, providers } = setup(['a', 'b']);
  providers[0]?.queue({ chunks: ['x', 'y'] }, { chunks: ['par', 'tial'], error: 'connection reset' });
  providers[1]?.queue('b answer');
  const seen: string[] = [];
  const ok = await router.complete({ messages, onToken: (t) => seen.push(t) });
  assert.equal(ok.text, 'xy');
  assert.deepEqual(seen, ['x', 'y']);
  seen.length = 0;
  await assert.rejects(router.complete({ messages, onToken: (t) => seen.push(t) }), (e: unknown) => {
    assert.ok(e instanceof LlmUnavailableError);
    assert.match(e.message, /a: connection reset \(after streaming part of its answer/);
    return true;
  });
  assert.deepEqual(seen, ['par', 'tial']);
  assert.equal(providers[1]?.calls.length, 0);
});

test('a provider that ignores its signal is still cut off at the deadline, and its late tokens are dropped', async () => {
  const clock = new ManualClock();
  const breaker = () =>
    new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1, halfOpenSuccesses: 1, clock });
  const deaf = {
    name: 'deaf',
    complete: (req: CompletionRequest): Promise<Completion> => {
      setTimeout(() => req.onToken?.('late'), 150);
      return new Promise<Completion>(() => {});
    },
  };
  const b = new ScriptedProvider({ name: 'b' }).queue({ chunks: ['on', 'time'] });
  const router = new CascadeRouter({
    entries: [
      { provider: deaf, timeoutMs: 40, breaker: breaker() },
      { provider: b, timeoutMs: 1000, breaker: breaker() },
    ],
    logger: silentLogger,
    clock,
  });
  const seen: string[] = [];
  const c = await router.complete({ messages, onToken: (t) => seen.push(t) });
  assert.equal(c.provider, 'b');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(seen, ['on', 'time']);
});

test('a throwing onCall hook is logged, not fatal; close closes every provider once', async () => {
  const logger = new MemoryLogger();
  const p = new ScriptedProvider({ defaultAnswer: 'ok' });
  const router = new CascadeRouter({
    entries: [
      {
        provider: p,
        timeoutMs: 1000,
        breaker: new CircuitBreaker({
          failureThreshold: 1,
          cooldownMs: 1,
          halfOpenSuccesses: 1,
          clock: new ManualClock(),
        }),
      },
    ],
    logger,
    onCall: () => {
      throw new Error('metrics broke');
    },
  });
  assert.equal((await router.complete({ messages })).text, 'ok');
  assert.ok(logger.records.some((r) => r.msg === 'llm onCall hook threw'));
  assert.deepEqual(router.providers, [p]);
  await router.close();
  await router.close();
  assert.equal(p.closed, true);
});
