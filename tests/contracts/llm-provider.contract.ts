/**
 * The LlmProvider contract (llm/provider.ts). `llmProviderContract` registers the same node:test suite for
 * any implementation; tests/contracts/llm-provider.test.ts runs it against the scripted fake, Ollama and
 * OpenAI-compatible providers over loopback test servers, the in-process llama-cpp provider on a tiny GGUF,
 * and the cascade router.
 *
 * A provider under test must answer every call with at least a few streamed pieces (so that an abort can
 * land mid-answer) and may answer with anything; `makeBroken` builds one pointed at a bad endpoint or model.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CompletionRequest, LlmProvider } from '../../llm/provider.ts';
import { LlmUnavailableError } from '../../llm/provider.ts';

export interface LlmProviderContractOptions {
  /** A working provider (built once for the suite). */
  makeProvider: () => LlmProvider | Promise<LlmProvider>;
  /** A provider whose endpoint or model is wrong: every call must reject with an LlmUnavailableError. */
  makeBroken: () => LlmProvider | Promise<LlmProvider>;
  /** Releases what the factories started (servers, models); called after the suite. */
  cleanup?: () => Promise<void>;
  /** How soon an aborted call must reject (default 2000 ms). */
  abortWithinMs?: number;
}

const messages: CompletionRequest['messages'] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Name three colours.' },
];

export function llmProviderContract(label: string, options: LlmProviderContractOptions): void {
  describe(`LlmProvider contract: ${label}`, () => {
    let provider: LlmProvider;
    let broken: LlmProvider;
    before(async () => {
      provider = await options.makeProvider();
      broken = await options.makeBroken();
    });
    after(async () => {
      await provider?.close?.();
      await broken?.close?.();
      await options.cleanup?.();
    });

    test('completes with non-empty text, a provider and model name, and sane counts', async () => {
      const c = await provider.complete({ messages, maxTokens: 16 });
      assert.equal(typeof c.text, 'string');
      assert.ok(c.text.length > 0, 'non-empty text');
      assert.equal(typeof c.provider, 'string');
      assert.ok(c.provider.length > 0, 'a provider name');
      assert.equal(typeof c.model, 'string');
      assert.ok(c.model.length > 0, 'a model name');
      for (const n of [c.promptTokens, c.completionTokens, c.latencyMs]) {
        assert.ok(Number.isInteger(n) || Number.isFinite(n), `${n} is a number`);
        assert.ok(n >= 0, `${n} >= 0`);
      }
      assert.ok(Number.isInteger(c.promptTokens) && Number.isInteger(c.completionTokens));
    });

    test('streams pieces through onToken whose concatenation is the text', async () => {
      const pieces: string[] = [];
      const c = await provider.complete({ messages, maxTokens: 16, onToken: (t) => pieces.push(t) });
      assert.ok(pieces.length > 0, 'at least one piece streamed');
      assert.ok(
        pieces.every((p) => typeof p === 'string'),
        'pieces are strings',
      );
      assert.equal(pieces.join(''), c.text);
    });

    test('is reusable: consecutive calls each answer', async () => {
      for (let i = 0; i < 3; i++)
        assert.ok((await provider.complete({ messages, maxTokens: 4 })).text.length > 0);
    });

    test('an already-aborted signal rejects with an AbortError', async () => {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(provider.complete({ messages, signal: ac.signal }), { name: 'AbortError' });
    });

    test('an abort mid-answer rejects promptly with an AbortError, and the provider still works after', async () => {
      const ac = new AbortController();
      let abortedAt = 0;
      const call = provider.complete({
        messages,
        maxTokens: 4000,
        signal: ac.signal,
        onToken: () => {
          if (abortedAt) return;
          abortedAt = Date.now();
          ac.abort();
        },
      });
      await assert.rejects(call, { name: 'AbortError' });
      assert.ok(abortedAt > 0, 'a piece was streamed before the abort');
      const took = Date.now() - abortedAt;
      assert.ok(took < (options.abortWithinMs ?? 2000), `rejected ${took} ms after the abort`);
      assert.ok((await provider.complete({ messages, maxTokens: 4 })).text.length > 0);
    });

    test('a bad endpoint or model rejects with a clear LlmUnavailableError', async () => {
      await assert.rejects(broken.complete({ messages, maxTokens: 4 }), (e: unknown) => {
        assert.ok(e instanceof LlmUnavailableError, `an LlmUnavailableError, got ${String(e)}`);
        assert.ok(e.message.length > 20, `a message that explains: ${e.message}`);
        return true;
      });
    });

    test('close is idempotent', async () => {
      const extra = await options.makeProvider();
      await extra.close?.();
      await extra.close?.();
    });
  });
}
