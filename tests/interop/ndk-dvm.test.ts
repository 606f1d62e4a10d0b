import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import NDK, {
  NDKAppHandlerEvent,
  NDKDVMJobFeedback,
  NDKDVMJobResult,
  NDKDVMRequest,
  NDKDvmJobFeedbackStatus,
  NDKEvent,
  NDKKind,
  NDKPrivateKeySigner,
} from '@nostr-dev-kit/ndk';
import { verifyEvent } from 'nostr-tools/pure';
import type { NostrEvent } from '../../core/nostr.ts';
import { buildHandlerInfo } from '../../dvm/announcement.ts';
import { buildFeedback, parseFeedback } from '../../dvm/feedback.ts';
import { buildJobRequest, decryptJobRequest, parseJobRequest } from '../../dvm/request.ts';
import { buildResult, parseResult } from '../../dvm/result.ts';
import { generateLocalSigner, LocalSigner } from '../../identity/signer.ts';

/**
 * NIP-90 events between NDK 3 (what many Nostr clients use) and dvm/: NDK's DVM classes write requests that
 * dvm/ reads, and read the feedback, results and announcements dvm/ writes. Pure events, no relay: the NDK
 * instance never connects.
 */
const ndk = new NDK({ explicitRelayUrls: [], enableOutboxModel: false });
const customerSigner = NDKPrivateKeySigner.generate();
/** The service provider, the same key on both sides: NDK signs what NDK writes, LocalSigner what dvm/ writes. */
const providerNdk = NDKPrivateKeySigner.generate();
const provider = LocalSigner.fromSecret(providerNdk.privateKey);
const providerUser = ndk.getUser({ pubkey: provider.pubkey });
const T = 1_700_000_000;
const inputEvent = 'e'.repeat(64);

/** The NIP-01 fields of a signed NDK event, as a relay would carry them. */
function wire(e: NDKEvent): NostrEvent {
  const raw = e.rawEvent() as NostrEvent;
  assert.ok(verifyEvent({ ...raw }), 'NDK signed a valid event');
  return raw;
}

async function ndkRequest(): Promise<NDKDVMRequest> {
  const req = new NDKDVMRequest(ndk);
  req.kind = NDKKind.DVMReqTextSummarization;
  req.created_at = T;
  req.addInput('A long text to summarize.', 'text');
  req.addInput(inputEvent, 'event', 'wss://relay.example');
  req.addParam('length', '3 paragraphs');
  req.output = 'text/plain';
  req.bid = 5000;
  req.dvm = providerUser;
  return req;
}

describe('NDK writes, dvm/ reads', () => {
  test('a job request (NDKDVMRequest) parses with every field', async () => {
    const req = await ndkRequest();
    req.tags.push(['relays', 'wss://results.example']);
    await req.sign(customerSigner);
    const job = parseJobRequest(wire(req));
    assert.equal(job.kind, 5001);
    assert.equal(job.customer, (await customerSigner.user()).pubkey);
    assert.deepEqual(job.inputs, [
      { data: 'A long text to summarize.', type: 'text', relay: '', marker: '' },
      { data: inputEvent, type: 'event', relay: 'wss://relay.example', marker: '' },
    ]);
    assert.deepEqual(job.params, { length: '3 paragraphs' });
    assert.equal(job.output, 'text/plain');
    assert.equal(job.bidMsats, 5000);
    assert.deepEqual(job.relays, ['wss://results.example']);
    assert.deepEqual(job.providers, [provider.pubkey]);
    assert.equal(job.encrypted, false);
  });

  test("an encrypted job request (NDK's encryption(), NIP-44) decrypts and parses", async () => {
    const req = await ndkRequest();
    await req.encryption(providerUser, customerSigner);
    await req.sign(customerSigner);
    const raw = wire(req);
    assert.ok(
      !raw.tags.some((t) => t[0] === 'i' || t[0] === 'param'),
      'NDK moved the params into the content',
    );
    assert.throws(() => parseJobRequest(raw), /not been decrypted/);
    const job = parseJobRequest(await decryptJobRequest(raw, provider));
    assert.equal(job.encrypted, true);
    assert.equal(job.inputs.length, 2);
    assert.equal(job.params.length, '3 paragraphs');
    assert.equal(job.bidMsats, 5000, 'NDK encrypts the bid too');
    assert.equal(job.output, 'text/plain');
  });

  test('an encrypted job request with NIP-04 (the scheme NIP-90 names) decrypts and parses', async () => {
    const req = await ndkRequest();
    req.dvm = undefined;
    const secret = req.tags.filter((t) => t[0] === 'i' || t[0] === 'param');
    req.tags = req.tags.filter((t) => t[0] !== 'i' && t[0] !== 'param');
    req.content = JSON.stringify(secret);
    req.tags.push(['p', provider.pubkey], ['encrypted']);
    await req.encrypt(providerUser, customerSigner, 'nip04');
    await req.sign(customerSigner);
    const raw = wire(req);
    assert.match(raw.content, /\?iv=/);
    const job = parseJobRequest(await decryptJobRequest(raw, provider));
    assert.equal(job.inputs[0]?.data, 'A long text to summarize.');
    assert.equal(job.params.length, '3 paragraphs');
  });

  test("NDK's feedback (createFeedback, payment_required) parses, normalised", async () => {
    const req = await ndkRequest();
    await req.sign(customerSigner);
    const fb = req.createFeedback(NDKDvmJobFeedbackStatus.PayReq);
    fb.tags.push(['amount', '5000', 'lnbc50n1']);
    await fb.sign(providerNdk);
    // NDK copied the request's p tag (the provider itself) before the customer's
    assert.deepEqual(
      fb.getMatchingTags('p').map((t) => t[1]),
      [provider.pubkey, req.pubkey],
    );
    const f = parseFeedback(wire(fb));
    assert.equal(f.status, 'payment-required');
    assert.equal(f.rawStatus, 'payment_required');
    assert.equal(f.requestId, req.id);
    assert.equal(f.customer, req.pubkey);
    assert.equal(f.amountMsats, 5000);
    assert.equal(f.bolt11, 'lnbc50n1');
  });

  test('a result made by NDKDVMJobResult parses', async () => {
    const req = await ndkRequest();
    await req.sign(customerSigner);
    const res = new NDKDVMJobResult(ndk);
    res.jobRequest = req;
    res.result = 'The summary.';
    res.setAmount(4000, 'lnbc40n1');
    res.created_at = T;
    await res.sign(providerNdk);
    const r = parseResult(wire(res));
    assert.equal(r.requestId, req.id);
    assert.equal(r.requestKind, 5001);
    assert.equal(r.customer, req.pubkey);
    assert.equal(r.content, 'The summary.');
    assert.equal(r.amountMsats, 4000);
    assert.equal(r.bolt11, 'lnbc40n1');
    assert.equal(r.request?.id, req.id);
  });
});

describe('dvm/ writes, NDK reads', () => {
  async function signedRequest(): Promise<NostrEvent> {
    const req = await ndkRequest();
    await req.sign(customerSigner);
    return wire(req);
  }

  test('our job request reads back through NDKDVMRequest', async () => {
    const customer = generateLocalSigner();
    const e = await customer.signEvent(
      buildJobRequest({
        kind: 5002,
        inputs: [{ data: 'Hola', type: 'text' }],
        params: { language: 'en' },
        output: 'text/plain',
        bidMsats: 800,
        providers: [provider.pubkey],
      }),
    );
    const req = NDKDVMRequest.from(new NDKEvent(ndk, e));
    assert.equal(req.getParam('language'), 'en');
    assert.deepEqual(req.params, [['language', 'en']]);
    assert.deepEqual(req.output, ['text/plain']);
    assert.equal(req.bid, 800);
    assert.deepEqual(req.getMatchingTags('i'), [['i', 'Hola', 'text']]);
  });

  test('feedback: status, amount and request reference', async () => {
    const request = await signedRequest();
    for (const status of ['payment-required', 'processing', 'error', 'success', 'partial'] as const) {
      const e = await provider.signEvent(
        buildFeedback({
          request,
          status,
          message: 'info',
          amountMsats: 2100,
          bolt11: 'lnbc21n1',
          createdAt: T,
        }),
      );
      const fb = await NDKDVMJobFeedback.from(new NDKEvent(ndk, e));
      assert.ok(fb.verifySignature(false));
      assert.equal(fb.kind, 7000);
      assert.equal(fb.status, status);
      assert.equal(fb.encrypted, false);
      assert.deepEqual(fb.getMatchingTags('amount')[0], ['amount', '2100', 'lnbc21n1']);
      assert.equal(fb.tagValue('e'), request.id);
      assert.equal(fb.tagValue('p'), request.pubkey);
    }
  });

  test('result: content, kind, request reference and amount', async () => {
    const request = await signedRequest();
    const e = await provider.signEvent(
      buildResult({ request, content: 'The summary.', amountMsats: 5000, bolt11: 'lnbc50n1', createdAt: T }),
    );
    const res = NDKDVMJobResult.from(new NDKEvent(ndk, e));
    assert.ok(res.verifySignature(false));
    assert.equal(res.kind, 6001);
    assert.equal(res.result, 'The summary.');
    assert.equal(res.jobRequestId, request.id);
    assert.equal(res.jobRequest?.id, request.id);
    assert.equal(res.jobRequest?.kind, 5001);
    assert.equal(res.jobRequest?.verifySignature(false), true, 'the embedded request is the signed one');
    assert.deepEqual(res.getMatchingTags('amount')[0], ['amount', '5000', 'lnbc50n1']);
    assert.equal(res.tagValue('p'), request.pubkey);
    assert.equal(res.getMatchingTags('i').length, 2);
  });

  test('encrypted result: an NDK customer decrypts the output', async () => {
    const req = await ndkRequest();
    await req.encryption(providerUser, customerSigner);
    await req.sign(customerSigner);
    const logical = await decryptJobRequest(wire(req), provider);
    const content = await provider.nip44.encrypt(req.pubkey, 'secret summary');
    const e = await provider.signEvent(
      buildResult({ request: logical, content, encrypted: true, createdAt: T }),
    );
    const res = NDKDVMJobResult.from(new NDKEvent(ndk, e));
    assert.equal(res.jobRequestId, req.id);
    assert.equal(res.getMatchingTags('i').length, 0);
    await res.decrypt(ndk.getUser({ pubkey: provider.pubkey }), customerSigner, 'nip44');
    assert.equal(res.content, 'secret summary');
  });

  test('handler announcement: NDKAppHandlerEvent reads the profile and kinds', async () => {
    const e = await provider.signEvent(
      buildHandlerInfo({
        d: 'seer',
        kinds: [5001, 5000],
        metadata: { name: 'Seer', about: 'Summarizer' },
        pricing: [{ kind: 5001, msats: 1000 }],
      }),
    );
    const handler = NDKAppHandlerEvent.from(new NDKEvent(ndk, e));
    assert.ok(handler);
    assert.equal(handler.kind, 31990);
    assert.equal(handler.dTag, 'seer');
    assert.deepEqual(
      handler.getMatchingTags('k').map((t) => t[1]),
      ['5001', '5000'],
    );
    const profile = await handler.fetchProfile();
    assert.equal(profile?.name, 'Seer');
    assert.equal(profile?.about, 'Summarizer');
  });
});
