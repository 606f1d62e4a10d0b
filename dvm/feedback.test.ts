import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NostrEvent } from '../core/nostr.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import {
  buildFeedback,
  FEEDBACK_STATUSES,
  FeedbackError,
  normalizeFeedbackStatus,
  parseFeedback,
} from './feedback.ts';
import { DvmEventError, FEEDBACK_KIND } from './kinds.ts';
import { buildJobRequest } from './request.ts';

const customer = generateLocalSigner();
const provider = generateLocalSigner();
const T = 1_700_000_000;
const request = await customer.signEvent(
  buildJobRequest({ kind: 5001, inputs: [{ data: 'text', type: 'text' }], createdAt: T }),
);

const signed = (tags: string[][], content = '', kind = FEEDBACK_KIND): Promise<NostrEvent> =>
  provider.signEvent({ kind, created_at: T, tags, content });

describe('buildFeedback', () => {
  test('the NIP-90 shape: status with extra info, e, p, amount with bolt11', () => {
    const t = buildFeedback({
      request,
      status: 'payment-required',
      message: 'pay to continue',
      amountMsats: 21000,
      bolt11: 'lnbc210n1...',
      relayHint: 'wss://relay.example',
      createdAt: T,
    });
    assert.equal(t.kind, 7000);
    assert.equal(t.created_at, T);
    assert.equal(t.content, '');
    assert.deepEqual(t.tags, [
      ['status', 'payment-required', 'pay to continue'],
      ['e', request.id, 'wss://relay.example'],
      ['p', customer.pubkey],
      ['amount', '21000', 'lnbc210n1...'],
    ]);
  });

  test('minimal: no message, hint or amount means no extra elements', () => {
    const t = buildFeedback({ request, status: 'processing' });
    assert.deepEqual(t.tags, [
      ['status', 'processing'],
      ['e', request.id],
      ['p', customer.pubkey],
    ]);
    assert.ok(Math.abs(t.created_at - Date.now() / 1000) < 3);
  });

  test('round trip for every status, with content and encryption flag', async () => {
    for (const status of FEEDBACK_STATUSES) {
      const e = await provider.signEvent(
        buildFeedback({
          request,
          status,
          message: `m-${status}`,
          content: 'sample',
          encrypted: true,
          amountMsats: 0,
        }),
      );
      const f = parseFeedback(e);
      assert.equal(f.status, status);
      assert.equal(f.rawStatus, status);
      assert.equal(f.message, `m-${status}`);
      assert.equal(f.requestId, request.id);
      assert.equal(f.customer, customer.pubkey);
      assert.equal(f.provider, provider.pubkey);
      assert.equal(f.content, 'sample');
      assert.equal(f.encrypted, true);
      assert.equal(f.amountMsats, 0);
      assert.equal(f.bolt11, undefined);
    }
  });

  test('rejects a bad amount, a bolt11 without amount, an unknown status', () => {
    assert.throws(() => buildFeedback({ request, status: 'error', amountMsats: -5 }), RangeError);
    assert.throws(() => buildFeedback({ request, status: 'error', bolt11: 'lnbc' }), /needs amountMsats/);
    assert.throws(() => buildFeedback({ request, status: 'done' as never }), /unknown feedback status/);
  });
});

describe('parseFeedback', () => {
  test("the NIP-90 example shape (tags in the spec's order)", async () => {
    const f = parseFeedback(
      await signed([
        ['status', 'error', 'input too large'],
        ['amount', '1000', 'lnbc10n1'],
        ['e', request.id, 'wss://relay.example'],
        ['p', customer.pubkey],
      ]),
    );
    assert.deepEqual(
      [f.status, f.message, f.amountMsats, f.bolt11, f.requestId, f.customer, f.encrypted],
      ['error', 'input too large', 1000, 'lnbc10n1', request.id, customer.pubkey, false],
    );
  });

  test("NDK's spellings: payment_required and scheduled; e tags with NDK's job marker", async () => {
    const f = parseFeedback(
      await signed([
        ['e', request.id, '', 'job', customer.pubkey],
        ['p', customer.pubkey],
        ['status', 'payment_required'],
      ]),
    );
    assert.equal(f.status, 'payment-required');
    assert.equal(f.rawStatus, 'payment_required');
    assert.equal(f.message, '');
    assert.equal(normalizeFeedbackStatus('scheduled'), 'processing');
    assert.equal(normalizeFeedbackStatus(' Success '), 'success');
    assert.equal(normalizeFeedbackStatus('done'), undefined);
  });

  test('the customer is the first p tag that is not the provider itself', async () => {
    const f = parseFeedback(
      await signed([
        ['status', 'processing'],
        ['e', request.id],
        ['p', provider.pubkey],
        ['p', customer.pubkey],
      ]),
    );
    assert.equal(f.customer, customer.pubkey);
  });

  const bad: [string, string[][], RegExp, number?][] = [
    ['another kind', [['status', 'success']], /kind 1 is not job feedback/, 1],
    ['no status tag', [['e', 'a'.repeat(64)]], /no status tag/],
    ['an empty status', [['status', '']], /no status tag/],
    [
      'an unknown status',
      [['status', 'finished']],
      /status "finished" is unknown: use one of payment-required/,
    ],
    [
      'no e tag',
      [
        ['status', 'success'],
        ['p', 'b'.repeat(64)],
      ],
      /reference the job request with an e tag/,
    ],
    [
      'a bad e tag',
      [
        ['status', 'success'],
        ['e', 'xyz'],
        ['p', 'b'.repeat(64)],
      ],
      /e tag/,
    ],
    [
      'no p tag',
      [
        ['status', 'success'],
        ['e', 'a'.repeat(64)],
      ],
      /name the customer with a p tag/,
    ],
    [
      'a bad amount',
      [
        ['status', 'payment-required'],
        ['e', 'a'.repeat(64)],
        ['p', 'b'.repeat(64)],
        ['amount', '1k'],
      ],
      /amount tag must hold a non-negative integer of millisats, got "1k"/,
    ],
  ];
  for (const [name, tags, re, kind] of bad)
    test(`rejects ${name}`, async () => {
      const e = await signed(tags, '', kind);
      assert.throws(
        () => parseFeedback(e),
        (err: unknown) =>
          err instanceof FeedbackError && err instanceof DvmEventError && re.test(err.message),
      );
    });
});
