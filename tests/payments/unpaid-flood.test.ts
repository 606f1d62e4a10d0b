import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NostrEvent } from '../../core/nostr.ts';
import { ECHO_KIND, FEEDBACK_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { generateLocalSigner, type LocalSigner } from '../../identity/signer.ts';
import { until } from '../../testkit/raw-client.ts';
import { untilAsync } from '../../testkit/until-async.ts';
import { memoryWorlds, text, type World } from './memory-world.ts';

/**
 * Issue 12, finding 6: requests nobody pays cost the instance a wallet call each, an escrow, and lookups
 * until they expire. A flood from one key and from many fresh keys, beside a customer who pays: the flood is
 * held to the limits (`rate-limited:` at once, no invoice made), the lookups stay within a bounded number a
 * round, and the paying customer's jobs go through as if nothing were happening.
 */
describe('a flood of unpaid requests beside a paying customer', () => {
  const world = memoryWorlds();

  const limits = {
    maxUnpaidInvoicesPerCustomer: 3,
    maxUnpaidInvoices: 12,
    walletRetryMs: 200,
    walletLookups: { perRound: 4, maxDelayMs: 60_000 },
    // No invoices made ahead (agents/desk/invoice-pool.ts): this test counts the invoices made for requests.
    invoicePool: 0,
  };

  /** The desk's last word on each request: 'payment-required', or the error's text. */
  async function answers(w: World, requests: readonly NostrEvent[]): Promise<Map<string, string>> {
    const desk = w.net.pubkeyOf('timmy');
    const out = new Map<string, string>();
    const feedback = await w.customer.client.query(
      [{ kinds: [FEEDBACK_KIND], authors: [desk], '#e': requests.map((r) => r.id) }],
      { timeoutMs: 20_000 },
    );
    for (const e of feedback) {
      const status = e.tags.find((t) => t[0] === 'status');
      const id = e.tags.find((t) => t[0] === 'e')?.[1] ?? '';
      if (status?.[1] === 'payment-required') out.set(id, 'payment-required');
      else if (status?.[1] === 'error') out.set(id, status[2] || e.content);
    }
    return out;
  }

  async function flood(w: World, signers: readonly LocalSigner[]): Promise<NostrEvent[]> {
    const requests = await Promise.all(
      signers.map((s, i) => s.signEvent(buildJobRequest({ kind: ECHO_KIND, inputs: [text(`unpaid ${i}`)] }))),
    );
    await Promise.all(requests.map((r) => w.customer.client.publish(r)));
    return requests;
  }

  const count = (m: Map<string, string>, pattern: RegExp) =>
    [...m.values()].filter((v) => pattern.test(v)).length;

  test('the flood is held to the limits, lookups stay bounded, and the paying customer is served', async () => {
    const w = await world({ config: limits });
    // The paying customer has paid here before.
    const first = await w.customer.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('hello')] }));
    assert.equal(first.result?.content, 'hello');

    // One key asks for 8 jobs it will not pay: 3 invoices, then `rate-limited` at once.
    const hog = generateLocalSigner();
    const fromHog = await flood(
      w,
      Array.from({ length: 8 }, () => hog),
    );
    await untilAsync(
      async () => (await answers(w, fromHog)).size === 8,
      60_000,
      'the desk answers every request',
    );
    const hogAnswers = await answers(w, fromHog);
    assert.equal(count(hogAnswers, /^payment-required$/), 3, JSON.stringify([...hogAnswers.values()]));
    assert.equal(count(hogAnswers, /^rate-limited: you have 3 unpaid invoices open/), 5);

    // Twenty fresh keys: the instance takes 12 unpaid invoices in all from strangers, then refuses.
    const fresh = await flood(
      w,
      Array.from({ length: 20 }, () => generateLocalSigner()),
    );
    await untilAsync(
      async () => (await answers(w, fresh)).size === 20,
      60_000,
      'the desk answers every request',
    );
    const freshAnswers = await answers(w, fresh);
    assert.equal(count(freshAnswers, /^payment-required$/), 9, JSON.stringify([...freshAnswers.values()]));
    assert.equal(count(freshAnswers, /^rate-limited: this instance has 12 unpaid invoices open/), 11);
    assert.equal(w.treasury.escrows.unpaid(), 12);
    const invoicesMade = w.wallet.calls.filter((c) => /^make(_hold)?_invoice$/.test(c.method)).length;
    assert.equal(invoicesMade, 1 + 12, 'no invoice was made for a refused request');

    // The instance is at its limit for strangers; the customer who pays is not held back by it.
    const second = await w.customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('still served')] }),
      60_000,
    );
    assert.equal(second.error, undefined);
    assert.equal(second.result?.content, 'still served');

    // The 12 open invoices cost at most `perRound` lookups a round, and a round runs at most once every
    // walletRetryMs: over a window of 20 lookups (however long a loaded machine takes), no more than that.
    const lookupCount = () => w.wallet.calls.filter((c) => c.method === 'lookup_invoice').length;
    const before = lookupCount();
    const started = Date.now();
    await until(() => lookupCount() - before >= 20, 60_000, '20 lookups');
    const elapsed = Date.now() - started;
    const lookups = lookupCount() - before;
    // Rounds that can fall in the window: one per interval, one already running, one just due.
    const rounds = Math.floor(elapsed / limits.walletRetryMs) + 2;
    assert.ok(
      lookups <= rounds * limits.walletLookups.perRound,
      `${lookups} lookups in ${elapsed} ms (at most ${rounds} rounds of ${limits.walletLookups.perRound})`,
    );
  });

  test('a stranger who has never paid gets a clear `rate-limited` while strangers fill the limit', async () => {
    const w = await world({ config: { ...limits, maxUnpaidInvoices: 2 } });
    const fresh = await flood(
      w,
      Array.from({ length: 2 }, () => generateLocalSigner()),
    );
    await untilAsync(
      async () => (await answers(w, fresh)).size === 2,
      60_000,
      'the desk answers every request',
    );
    const out = await w.customer.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('new here')] }));
    assert.match(out.error ?? '', /^rate-limited: this instance has 2 unpaid invoices open \(at most 2\)/);
    assert.equal(out.payments.length, 0, 'nothing to pay');
  });
});
