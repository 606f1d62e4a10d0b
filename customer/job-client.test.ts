import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { buildFeedback } from '../dvm/feedback.ts';
import { ECHO_KIND } from '../dvm/kinds.ts';
import { decryptJobRequest, parseJobRequest } from '../dvm/request.ts';
import { buildResult } from '../dvm/result.ts';
import { generateLocalSigner, type LocalSigner } from '../identity/signer.ts';
import { MemoryLightning, MemoryWallet } from '../payments/memory-wallet.ts';
import { RelayClient } from '../relay/client.ts';
import { startTestRelay, type TestRelay } from '../testkit/relay.ts';
import { JobClient } from './job-client.ts';
import { JobPayer } from './payer.ts';

/**
 * The customer library against a real relay, with a scripted provider on its own connection: what it
 * publishes is what any DVM would publish.
 */

let relay: TestRelay;
let providerClient: RelayClient;
const provider = generateLocalSigner();
const stranger = generateLocalSigner();

/** Answers each request addressed to the provider: `answer` publishes what it builds, in order. */
function serve(answer: (request: NostrEvent, publish: (e: NostrEvent) => Promise<void>) => Promise<void>): {
  stop(): void;
} {
  const sub = providerClient.subscribe([{ kinds: [ECHO_KIND, 5999], '#p': [provider.pubkey] }], {
    onEvent: (request) => {
      void answer(request, (e) => providerClient.publish(e)).catch(() => {});
    },
  });
  return { stop: () => sub.close() };
}

/** Resolves once `check` holds (polled), or rejects after a generous bound. */
async function until(check: () => boolean, what: string, boundMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > boundMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const text = (data: string) => ({ data, type: 'text' as const });

function customer(): { client: JobClient; conn: RelayClient; signer: LocalSigner } {
  const conn = new RelayClient({ url: relay.url, logger: silentLogger });
  const signer = generateLocalSigner();
  return { client: new JobClient({ relay: conn, signer }), conn, signer };
}

before(async () => {
  relay = await startTestRelay({
    // Kind 5999 requests are refused, to see the client report a refused publish.
    policies: [
      (input, next) =>
        input.event.kind === 5999 ? { action: 'reject', message: 'blocked: no 5999 here' } : next(),
    ],
  });
  providerClient = new RelayClient({ url: relay.url, logger: silentLogger });
});

after(async () => {
  providerClient.close();
  await relay.close();
});

describe('JobClient', () => {
  test('follows feedback to the result', async () => {
    const server = serve(async (r, publish) => {
      await publish(
        await provider.signEvent(buildFeedback({ request: r, status: 'processing', message: 'on it' })),
      );
      const content = `echo: ${parseJobRequest(r).inputs[0]?.data}`;
      await publish(await provider.signEvent(buildResult({ request: r, content })));
    });
    const { client, conn } = customer();
    const seen: string[] = [];
    try {
      const out = await client.submit(
        { kind: ECHO_KIND, inputs: [text('hi')], provider: provider.pubkey },
        { timeoutMs: 20_000, onFeedback: (_e, f) => seen.push(`${f?.status}: ${f?.message}`) },
      );
      assert.equal(out.content, 'echo: hi');
      assert.equal(out.result?.pubkey, provider.pubkey);
      assert.equal(out.error, undefined);
      assert.equal(out.timedOut, false);
      assert.deepEqual(seen, ['processing: on it']);
    } finally {
      server.stop();
      conn.close();
    }
  });

  test('an encrypted request can be read only by its provider, and its encrypted result by the customer', async () => {
    const server = serve(async (r, publish) => {
      const readable = parseJobRequest(await decryptJobRequest(r, provider));
      const secret = `secret answer to ${readable.inputs[0]?.data} (${readable.params.tone})`;
      const content = await provider.nip44.encrypt(r.pubkey, secret);
      await publish(await provider.signEvent(buildResult({ request: r, content, encrypted: true })));
    });
    const { client, conn } = customer();
    try {
      const request = await client.sign({
        kind: ECHO_KIND,
        inputs: [text('the plan')],
        params: [['tone', 'dry']],
        provider: provider.pubkey,
        encrypt: true,
      });
      assert.ok(!request.content.includes('the plan') && !JSON.stringify(request.tags).includes('the plan'));
      await assert.rejects(decryptJobRequest(request, stranger), /does not decrypt|not addressed|decrypt/i);
      const out = await client.follow(request, { timeoutMs: 20_000 }, true);
      assert.equal(out.content, 'secret answer to the plan (dry)');
      assert.notEqual(out.result?.content, out.content, 'the result travelled encrypted');
    } finally {
      server.stop();
      conn.close();
    }
  });

  test('pays the provider’s invoice once, ignores a stranger’s, and reports the payment settled', async () => {
    const lightning = new MemoryLightning();
    const providerWallet = new MemoryWallet({ network: lightning });
    const strangerWallet = new MemoryWallet({ network: lightning });
    const wallet = new MemoryWallet({ network: lightning, balanceMsats: 50_000 });
    const server = serve(async (r, publish) => {
      const ask = async (signer: LocalSigner, w: MemoryWallet) => {
        const { invoice } = await w.makeInvoice({ amountMsats: 2000 });
        const f = buildFeedback({
          request: r,
          status: 'payment-required',
          message: 'pay',
          amountMsats: 2000,
          bolt11: invoice,
        });
        return signer.signEvent(f);
      };
      const mine = await ask(provider, providerWallet);
      await publish(await ask(stranger, strangerWallet));
      await publish(mine);
      await publish(mine); // asked again: paid once
      await until(() => providerWallet.balanceMsats === 2000, 'the payment');
      await publish(await provider.signEvent(buildResult({ request: r, content: 'paid for' })));
    });
    const payer = new JobPayer({ wallet, budgetMsats: 10_000, payees: new Set([provider.pubkey]) });
    const { client, conn } = customer();
    try {
      const out = await client.submit(
        { kind: ECHO_KIND, inputs: [text('pay me')], provider: provider.pubkey },
        { timeoutMs: 20_000, settleMs: 5000, payer },
      );
      assert.equal(out.content, 'paid for');
      assert.equal(out.payments.length, 1, 'one payment: the stranger is not paid, a repeated ask neither');
      assert.equal(out.payments[0]?.state, 'paid');
      assert.equal(providerWallet.balanceMsats, 2000);
      assert.equal(strangerWallet.balanceMsats, 0);
      assert.equal(wallet.balanceMsats, 48_000);
    } finally {
      server.stop();
      conn.close();
    }
  });

  test('a payment above the budget ends the job with the reason, and nothing is paid', async () => {
    const lightning = new MemoryLightning();
    const providerWallet = new MemoryWallet({ network: lightning });
    const wallet = new MemoryWallet({ network: lightning, balanceMsats: 50_000 });
    const server = serve(async (r, publish) => {
      const { invoice } = await providerWallet.makeInvoice({ amountMsats: 20_000 });
      const f = buildFeedback({
        request: r,
        status: 'payment-required',
        message: '',
        amountMsats: 20_000,
        bolt11: invoice,
      });
      await publish(await provider.signEvent(f));
    });
    const payer = new JobPayer({ wallet, budgetMsats: 10_000, payees: new Set([provider.pubkey]) });
    const { client, conn } = customer();
    try {
      const out = await client.submit(
        { kind: ECHO_KIND, inputs: [text('too dear')], provider: provider.pubkey, bidMsats: 10_000 },
        { timeoutMs: 20_000, payer },
      );
      assert.match(out.error ?? '', /asks for 20 sats, above the budget of 10000 msats/);
      assert.equal(out.payments[0]?.state, 'refused');
      assert.equal(wallet.balanceMsats, 50_000);
    } finally {
      server.stop();
      conn.close();
    }
  });

  test('an error feedback ends the job; a malformed result from anyone is ignored', async () => {
    const server = serve(async (r, publish) => {
      const fake = await stranger.signEvent({
        kind: r.kind + 1000,
        created_at: Math.floor(Date.now() / 1000),
        tags: [['e', r.id]], // no request tag, no customer: not a NIP-90 result
        content: 'forged',
      });
      await publish(fake);
      await publish(
        await provider.signEvent(buildFeedback({ request: r, status: 'error', message: 'no such thing' })),
      );
    });
    const { client, conn } = customer();
    try {
      const out = await client.submit(
        { kind: ECHO_KIND, inputs: [text('x')], provider: provider.pubkey },
        { timeoutMs: 20_000 },
      );
      assert.equal(out.result, undefined);
      assert.equal(out.error, 'no such thing');
    } finally {
      server.stop();
      conn.close();
    }
  });

  test('a request the relay refuses ends at once with the relay’s reason', async () => {
    const { client, conn } = customer();
    try {
      const out = await client.submit({ kind: 5999, inputs: [text('x')] }, { timeoutMs: 20_000 });
      assert.match(out.error ?? '', /^the relay refused the request: blocked: no 5999 here/);
    } finally {
      conn.close();
    }
  });

  test('no answer: timed out; a signal: aborted', async () => {
    const { client, conn } = customer();
    try {
      const quiet = await client.submit({ kind: ECHO_KIND, inputs: [text('anyone?')] }, { timeoutMs: 300 });
      assert.equal(quiet.timedOut, true);
      const controller = new AbortController();
      const pending = client.submit(
        { kind: ECHO_KIND, inputs: [text('never mind')] },
        { timeoutMs: 60_000, signal: controller.signal },
      );
      controller.abort();
      const stopped = await pending;
      assert.equal(stopped.aborted, true);
      assert.equal(stopped.timedOut, false);
    } finally {
      conn.close();
    }
  });
});
