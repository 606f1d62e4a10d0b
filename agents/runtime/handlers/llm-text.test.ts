import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../core/clock.ts';
import { silentLogger } from '../../../core/logger.ts';
import {
  type HandlerContext,
  type JobInput,
  JobInputError,
  type ResolvedInput,
} from '../../../dvm/handler.ts';
import { type Completion, type CompletionRequest, LlmUnavailableError } from '../../../llm/provider.ts';
import {
  createTextGenerationHandler,
  createTranslationHandler,
  DEFAULT_SYSTEM_PROMPT,
  textGeneration,
  translation,
  translationSystemPrompt,
} from './llm-text.ts';

type Request = Omit<CompletionRequest, 'signal'>;

interface Scripted {
  text: string;
  /** Pieces streamed through onToken before answering; the clock advances `stepMs` before each. */
  stream?: string[];
  stepMs?: number;
}

function completion(text: string): Completion {
  return { text, provider: 'fake', model: 'fake-1', promptTokens: 3, completionTokens: 5, latencyMs: 7 };
}

/** A HandlerContext whose model answers from a queue and records every call and progress note. */
function fakeContext(queue: (Scripted | Error)[], clock = new ManualClock()) {
  const calls: { key: string; request: Request }[] = [];
  const progress: string[] = [];
  const ctx: HandlerContext = {
    async llm(key, request) {
      calls.push({ key, request });
      const next = queue.shift();
      if (next === undefined) throw new Error('no completion queued');
      if (next instanceof Error) throw next;
      for (const piece of next.stream ?? []) {
        clock.advance(next.stepMs ?? 0);
        request.onToken?.(piece);
      }
      return completion(next.text);
    },
    progress: (message) => progress.push(message),
    signal: new AbortController().signal,
    logger: silentLogger,
  };
  return { ctx, calls, progress, clock };
}

function text(t: string): ResolvedInput {
  return { type: 'text', data: t, marker: '', text: t, contentType: '' };
}

function job(kind: number, inputs: ResolvedInput[], params: Record<string, string> = {}): JobInput {
  return { id: 'j1', kind, customer: 'c', inputs, params, output: '' };
}

/** The request without its onToken callback, for deepEqual. */
function plain(request: Request | undefined): Omit<Request, 'onToken'> {
  assert.ok(request);
  const { onToken, ...rest } = request;
  assert.equal(typeof onToken, 'function');
  return rest;
}

test('the handlers describe themselves', () => {
  assert.deepEqual(
    [textGeneration.name, textGeneration.kinds, textGeneration.needsLlm],
    ['text-generation', [5050], true],
  );
  assert.deepEqual(
    [translation.name, translation.kinds, translation.needsLlm],
    ['translation', [5002], true],
  );
});

test('text generation: one call keyed "main", the inputs as prompt, no params sent when none given', async () => {
  const { ctx, calls } = fakeContext([{ text: '  A haiku.\n' }]);
  const out = await textGeneration.run(
    job(5050, [text('Write a haiku'), text(' '), text('about bees')]),
    ctx,
  );
  assert.deepEqual(out, { content: 'A haiku.' });
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.key, 'main');
  assert.deepEqual(plain(calls[0]?.request), {
    messages: [
      { role: 'system', content: DEFAULT_SYSTEM_PROMPT },
      { role: 'user', content: 'Write a haiku\n\nabout bees' },
    ],
  });
});

test('text generation: max_tokens, temperature and system params are mapped', async () => {
  const { ctx, calls } = fakeContext([{ text: 'ok' }]);
  await textGeneration.run(
    job(5050, [text('hi')], { max_tokens: '256', temperature: '0.7', system: ' Answer in French. ' }),
    ctx,
  );
  assert.deepEqual(plain(calls[0]?.request), {
    messages: [
      { role: 'system', content: `${DEFAULT_SYSTEM_PROMPT}\n\nAnswer in French.` },
      { role: 'user', content: 'hi' },
    ],
    maxTokens: 256,
    temperature: 0.7,
  });
  const edges = fakeContext([{ text: 'ok' }, { text: 'ok' }]);
  await textGeneration.run(job(5050, [text('hi')], { max_tokens: '32768', temperature: '0' }), edges.ctx);
  await textGeneration.run(job(5050, [text('hi')], { max_tokens: '1', temperature: '2' }), edges.ctx);
  assert.deepEqual(
    edges.calls.map((c) => [c.request.maxTokens, c.request.temperature]),
    [
      [32768, 0],
      [1, 2],
    ],
  );
});

test('personas get their own name and system prompt from the factory', async () => {
  const writer = createTextGenerationHandler({ name: 'writer', systemPrompt: 'You are a novelist.' });
  const coder = createTextGenerationHandler({ name: 'coder', systemPrompt: 'You write TypeScript.' });
  assert.equal(writer.name, 'writer');
  assert.equal(coder.name, 'coder');
  assert.deepEqual(coder.kinds, [5050]);
  const { ctx, calls } = fakeContext([{ text: 'a' }, { text: 'b' }]);
  await writer.run(job(5050, [text('x')]), ctx);
  await coder.run(job(5050, [text('x')], { system: 'Use ESM.' }), ctx);
  assert.deepEqual(
    calls.map((c) => c.request.messages[0]?.content),
    ['You are a novelist.', 'You write TypeScript.\n\nUse ESM.'],
  );
  assert.equal(createTextGenerationHandler({ systemPrompt: '  ' }).name, 'text-generation');
});

test('bad params and a missing prompt are customer errors, and the model is not called', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ max_tokens: '0' }, /"max_tokens"/],
    [{ max_tokens: '100000' }, /"max_tokens"/],
    [{ max_tokens: '1.5' }, /"max_tokens"/],
    [{ max_tokens: 'lots' }, /"max_tokens"/],
    [{ temperature: '-0.1' }, /"temperature"/],
    [{ temperature: '2.5' }, /"temperature"/],
    [{ temperature: 'hot' }, /"temperature"/],
    [{ temperature: 'NaN' }, /"temperature"/],
    [{ temperature: 'Infinity' }, /"temperature"/],
  ];
  const { ctx, calls } = fakeContext([]);
  for (const [params, re] of cases) {
    await assert.rejects(
      textGeneration.run(job(5050, [text('hi')], params), ctx),
      (e: unknown) => e instanceof JobInputError && re.test(e.message),
      JSON.stringify(params),
    );
  }
  for (const inputs of [[], [text(''), text('  \n')]]) {
    await assert.rejects(
      textGeneration.run(job(5050, inputs), ctx),
      (e: unknown) => e instanceof JobInputError && /needs a prompt/.test(e.message),
    );
  }
  assert.equal(calls.length, 0);
});

test('an empty answer is a plain error; a leading reasoning block is dropped', async () => {
  const { ctx } = fakeContext([
    { text: ' \n ' },
    { text: '<think>hmm</think>' },
    { text: '<think>\nplan\n</think>\n\nDone.' },
  ]);
  for (let i = 0; i < 2; i++) {
    await assert.rejects(
      textGeneration.run(job(5050, [text('hi')]), ctx),
      (e: unknown) =>
        e instanceof Error &&
        !(e instanceof JobInputError) &&
        e.message === 'the model returned an empty answer',
    );
  }
  assert.equal((await textGeneration.run(job(5050, [text('hi')]), ctx)).content, 'Done.');
});

test('LlmUnavailableError propagates unchanged from both handlers', async () => {
  const unavailable = new LlmUnavailableError('no model: run `timmy llm enable`', [
    'ollama: connection refused',
  ]);
  const { ctx, calls } = fakeContext([unavailable, unavailable]);
  await assert.rejects(textGeneration.run(job(5050, [text('hi')]), ctx), (e: unknown) => e === unavailable);
  await assert.rejects(
    translation.run(job(5002, [text('hi')], { language: 'es' }), ctx),
    (e: unknown) => e === unavailable,
  );
  assert.equal(calls.length, 2);
});

test('progress is reported while streaming, at most every 2 seconds', async () => {
  const clock = new ManualClock();
  const handler = createTextGenerationHandler({ clock });
  const { ctx, progress } = fakeContext(
    [{ text: 'abcdefghij', stream: 'abcdefghij'.split(''), stepMs: 500 }],
    clock,
  );
  await handler.run(job(5050, [text('letters')]), ctx);
  // Tokens at 0.5 s, 1 s, ... 5 s: notes at 2 s (4 characters) and 4 s (8 characters).
  assert.deepEqual(progress, ['writing: 4 characters so far', 'writing: 8 characters so far']);

  const fast = fakeContext([{ text: 'abc', stream: ['a', 'b', 'c'], stepMs: 10 }], clock);
  await createTextGenerationHandler({ clock }).run(job(5050, [text('x')]), fast.ctx);
  assert.deepEqual(fast.progress, []);
});

test('translation: one call keyed "main", a translate-only system prompt, the text as user message', async () => {
  const { ctx, calls } = fakeContext([{ text: ' Buenos días \n' }]);
  const out = await translation.run(job(5002, [text('Good morning')], { language: 'es' }), ctx);
  assert.deepEqual(out, { content: 'Buenos días' });
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.key, 'main');
  assert.deepEqual(plain(calls[0]?.request), {
    messages: [
      { role: 'system', content: translationSystemPrompt('Spanish') },
      { role: 'user', content: 'Good morning' },
    ],
    temperature: 0.2,
  });
  const system = translationSystemPrompt('Spanish');
  assert.match(system, /into Spanish/);
  assert.match(system, /Output only the translation/);
});

test('translation: language names and regional codes reach the prompt; max_tokens is mapped', async () => {
  const { ctx, calls } = fakeContext([{ text: 'a' }, { text: 'b' }, { text: 'c' }]);
  const handler = createTranslationHandler();
  await handler.run(job(5002, [text('x')], { language: 'French' }), ctx);
  await handler.run(job(5002, [text('x')], { language: 'pt-BR', max_tokens: '500' }), ctx);
  await handler.run(job(5002, [text('x')], { language: 'deutsch' }), ctx);
  assert.deepEqual(
    calls.map((c) => c.request.messages[0]?.content),
    [
      translationSystemPrompt('French'),
      translationSystemPrompt('Portuguese (pt-BR)'),
      translationSystemPrompt('German'),
    ],
  );
  assert.equal(calls[1]?.request.maxTokens, 500);
});

test('translation: a missing or bad language, or no text, is a customer error before any call', async () => {
  const { ctx, calls } = fakeContext([]);
  await assert.rejects(
    translation.run(job(5002, [text('hello')]), ctx),
    (e: unknown) =>
      e instanceof JobInputError &&
      /needs the target language/.test(e.message) &&
      e.message.includes('["param", "language", "es"]'),
  );
  await assert.rejects(
    translation.run(job(5002, [text('hello')], { language: 'xx' }), ctx),
    (e: unknown) => e instanceof JobInputError && /unknown language code "xx"/.test(e.message),
  );
  await assert.rejects(
    translation.run(job(5002, [], { language: 'es' }), ctx),
    (e: unknown) => e instanceof JobInputError && /needs the text to translate/.test(e.message),
  );
  await assert.rejects(
    translation.run(job(5002, [text('hi')], { language: 'es', max_tokens: '0' }), ctx),
    (e: unknown) => e instanceof JobInputError && /"max_tokens"/.test(e.message),
  );
  assert.equal(calls.length, 0);
});
