import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NWCClient } from '@getalby/sdk';
import type { NostrEvent } from '../core/nostr.ts';
import { generateLocalSigner, type LocalSigner } from '../identity/signer.ts';
import { verifyEvent } from '../relay/verify.ts';
import {
  buildInfoEvent,
  buildNotifications,
  buildResponse,
  connectionUri,
  errorResponse,
  type Nip47Encryption,
  NWC_INFO_KIND,
  NWC_NOTIFICATION_KIND,
  NWC_NOTIFICATION_NIP04_KIND,
  NWC_REQUEST_KIND,
  NWC_RESPONSE_KIND,
  okResponse,
  parseConnectionUri,
  parseRequest,
} from './nip47.ts';

const service = generateLocalSigner();
const client = generateLocalSigner();
const NOW = 1_700_000_000;

async function request(
  content: unknown,
  options: { encryption?: Nip47Encryption | 'none' | 'rot13'; tags?: string[][]; from?: LocalSigner } = {},
): Promise<NostrEvent> {
  const from = options.from ?? client;
  const encryption = options.encryption ?? 'nip44_v2';
  const plaintext = typeof content === 'string' ? content : JSON.stringify(content);
  const cipher = encryption === 'nip44_v2' ? from.nip44 : from.nip04;
  const tags = [['p', service.pubkey], ...(options.tags ?? [])];
  if (encryption !== 'none') tags.push(['encryption', encryption]);
  return from.signEvent({
    kind: NWC_REQUEST_KIND,
    created_at: NOW,
    tags,
    content: await cipher.encrypt(service.pubkey, plaintext),
  });
}

describe('parseRequest', () => {
  it('reads NIP-44 v2, NIP-04 and untagged (NIP-04) requests', async () => {
    for (const encryption of ['nip44_v2', 'nip04', 'none'] as const) {
      const e = await request({ method: 'pay_invoice', params: { invoice: 'lnbcrt1…' } }, { encryption });
      const parsed = await parseRequest(e, service, service.pubkey, NOW);
      assert.deepEqual(parsed, {
        ok: true,
        request: {
          id: e.id,
          clientPubkey: client.pubkey,
          encryption: encryption === 'nip44_v2' ? 'nip44_v2' : 'nip04',
          createdAt: NOW,
          method: 'pay_invoice',
          params: { invoice: 'lnbcrt1…' },
        },
      });
    }
  });

  it('defaults params to {}', async () => {
    const parsed = await parseRequest(await request({ method: 'get_info' }), service, service.pubkey, NOW);
    assert.ok(parsed.ok && Object.keys(parsed.request.params).length === 0);
  });

  it('ignores other kinds, other wallets and expired requests; drops what it cannot decrypt', async () => {
    const other = generateLocalSigner();
    const notOurs = await parseRequest(await request({ method: 'get_info' }), service, other.pubkey, NOW);
    assert.equal(!notOurs.ok && notOurs.reason, 'not-for-us');
    const expired = await request({ method: 'get_info' }, { tags: [['expiration', String(NOW - 1)]] });
    const r = await parseRequest(expired, service, service.pubkey, NOW);
    assert.equal(!r.ok && r.reason, 'expired');
    const later = await request({ method: 'get_info' }, { tags: [['expiration', String(NOW + 60)]] });
    assert.ok((await parseRequest(later, service, service.pubkey, NOW)).ok);
    const garbage = { ...(await request({ method: 'get_info' })), content: 'not encrypted at all' };
    const g = await parseRequest(garbage, service, service.pubkey, NOW);
    assert.equal(!g.ok && g.reason, 'undecryptable');
    // NIP-04 content under a nip44_v2 tag cannot be read either.
    const mixed = await request({ method: 'get_info' }, { encryption: 'nip04' });
    mixed.tags = mixed.tags.map((t) => (t[0] === 'encryption' ? ['encryption', 'nip44_v2'] : t));
    const m = await parseRequest(mixed, service, service.pubkey, NOW);
    assert.equal(!m.ok && m.reason, 'undecryptable');
  });

  it('answers an unknown encryption and content that is not a request', async () => {
    const rot13 = await request({ method: 'get_info' }, { encryption: 'rot13' });
    const u = await parseRequest(rot13, service, service.pubkey, NOW);
    assert.equal(!u.ok && u.reason, 'unsupported-encryption');
    for (const content of ['{not json', '[]', '{"params":{}}', { method: 'x', params: [1] }]) {
      const p = await parseRequest(await request(content), service, service.pubkey, NOW);
      assert.ok(!p.ok && p.reason === 'malformed', JSON.stringify(content));
      assert.ok(!p.ok && 'replyTo' in p && p.replyTo.clientPubkey === client.pubkey);
    }
  });
});

describe('responses, notifications, info, connection URI', () => {
  it('a response is tagged p and e, signed by the service, encrypted as the request was', async () => {
    for (const encryption of ['nip44_v2', 'nip04'] as const) {
      const to = { id: 'ab'.repeat(32), clientPubkey: client.pubkey, encryption };
      const body = okResponse('get_balance', { balance: 21_000 });
      const e = await buildResponse(service, to, body, NOW);
      assert.equal(e.kind, NWC_RESPONSE_KIND);
      assert.equal(e.pubkey, service.pubkey);
      assert.equal(verifyEvent(e), 'ok');
      assert.deepEqual(e.tags, [
        ['p', client.pubkey],
        ['e', to.id],
      ]);
      const cipher = encryption === 'nip44_v2' ? client.nip44 : client.nip04;
      assert.deepEqual(JSON.parse(await cipher.decrypt(service.pubkey, e.content)), {
        result_type: 'get_balance',
        result: { balance: 21_000 },
        error: null,
      });
    }
    const err = errorResponse('pay_invoice', 'PAYMENT_FAILED', 'nope');
    assert.deepEqual(err, {
      result_type: 'pay_invoice',
      result: null,
      error: { code: 'PAYMENT_FAILED', message: 'nope' },
    });
  });

  it('a notification goes out as kind 23197 (NIP-44) and 23196 (NIP-04)', async () => {
    const n = {
      notification_type: 'payment_received' as const,
      notification: {
        type: 'incoming' as const,
        state: 'settled' as const,
        invoice: 'lnbcrt…',
        description: '',
        payment_hash: 'cd'.repeat(32),
        amount: 1000,
        fees_paid: 0,
        created_at: NOW,
        expires_at: NOW + 60,
        settled_at: NOW,
      },
    };
    const [a, b] = await buildNotifications(service, client.pubkey, n, NOW);
    assert.equal(a?.kind, NWC_NOTIFICATION_KIND);
    assert.equal(b?.kind, NWC_NOTIFICATION_NIP04_KIND);
    assert.deepEqual(JSON.parse(await client.nip44.decrypt(service.pubkey, a?.content ?? '')), n);
    assert.deepEqual(JSON.parse(await client.nip04.decrypt(service.pubkey, b?.content ?? '')), n);
    assert.deepEqual(a?.tags, [['p', client.pubkey]]);
    const only44 = await buildNotifications(service, client.pubkey, n, NOW, ['nip44_v2']);
    assert.deepEqual(
      only44.map((e) => e.kind),
      [NWC_NOTIFICATION_KIND],
    );
  });

  it('the info event lists capabilities, encryptions and notifications', async () => {
    const e = await buildInfoEvent(
      service,
      { methods: ['get_info', 'pay_invoice'], notifications: ['payment_received', 'hold_invoice_accepted'] },
      NOW,
    );
    assert.equal(e.kind, NWC_INFO_KIND);
    assert.equal(e.content, 'get_info pay_invoice notifications');
    assert.deepEqual(e.tags, [
      ['encryption', 'nip44_v2 nip04'],
      ['notifications', 'payment_received hold_invoice_accepted'],
    ]);
  });

  it('the connection URI round-trips, and @getalby/sdk reads it', () => {
    const secret = 'ef'.repeat(32);
    const uri = connectionUri({ walletPubkey: service.pubkey, relays: ['ws://127.0.0.1:7777/'], secret });
    assert.equal(
      uri,
      `nostr+walletconnect://${service.pubkey}?relay=ws%3A%2F%2F127.0.0.1%3A7777%2F&secret=${secret}`,
    );
    assert.deepEqual(parseConnectionUri(uri), {
      walletPubkey: service.pubkey,
      relays: ['ws://127.0.0.1:7777/'],
      secret,
    });
    assert.deepEqual(NWCClient.parseWalletConnectUrl(uri), {
      walletPubkey: service.pubkey,
      relayUrls: ['ws://127.0.0.1:7777/'],
      secret,
    });
    assert.throws(
      () => parseConnectionUri('nostr+walletconnect://abc?relay=x&secret=y'),
      /hex wallet pubkey/,
    );
    assert.throws(
      () => parseConnectionUri(`nostr+walletconnect://${service.pubkey}?secret=${secret}`),
      /no relay/,
    );
  });
});
