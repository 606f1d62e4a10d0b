import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import NDK, { NDKEvent, NDKPrivateKeySigner, NDKRelayAuthPolicies } from '@nostr-dev-kit/ndk';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import WebSocket from 'ws';
import type { Filter, NostrEvent } from '../../core/nostr.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { prepareNdkForNode } from '../setup/ndk-node.ts';

/**
 * Two independent client libraries against the relay, each action checked from the other one:
 * nostr-tools' Relay (with `ws`) and NDK 3 (which needs a global WebSocket on Node 20: `ws`'s).
 * The relay runs with auth 'write', so both authenticate (NIP-42) before they can publish.
 */
useWebSocketImplementation(WebSocket);
prepareNdkForNode();

const now = (): number => Math.floor(Date.now() / 1000);

describe('interop: nostr-tools and NDK', () => {
  let relay: TestRelay;
  let nt: Relay;
  let ndk: NDK;
  const ntKey = generateSecretKey();
  const ntPubkey = getPublicKey(ntKey);
  const ndkSigner = NDKPrivateKeySigner.generate();
  let ndkPubkey: string;

  const ntSign = (kind: number, content: string, tags: string[][] = []): NostrEvent =>
    finalizeEvent({ kind, content, tags, created_at: now() }, ntKey);

  async function ndkPublish(kind: number, content: string): Promise<NDKEvent> {
    const e = new NDKEvent(ndk, { kind, content, tags: [], created_at: now() } as never);
    const relays = await e.publish();
    assert.equal(relays.size, 1, 'NDK saw the relay accept its event');
    return e;
  }

  /** nostr-tools: stored events for `filters`, until EOSE. */
  function ntQuery(filters: Filter[]): Promise<NostrEvent[]> {
    return new Promise((resolve) => {
      const got: NostrEvent[] = [];
      const sub = nt.subscribe(filters, {
        onevent: (e) => got.push(e),
        oneose: () => {
          sub.close();
          resolve(got);
        },
      });
    });
  }

  async function ndkQuery(filter: Filter): Promise<string[]> {
    const events = await ndk.guardrailOff().fetchEvents(filter as never, { closeOnEose: true });
    return [...events].map((e) => e.id).sort();
  }

  before(async () => {
    relay = await startTestRelay({ auth: 'write' });

    nt = new Relay(relay.url);
    let authStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      authStarted = resolve;
    });
    const signAuth = async (template: Parameters<NonNullable<Relay['onauth']>>[0]) => {
      authStarted();
      return finalizeEvent(template, ntKey);
    };
    nt.onauth = signAuth;
    await nt.connect();
    await started;
    assert.equal(await nt.auth(signAuth), '', 'nostr-tools authenticated');

    // Without enableOutboxModel: false, NDK also dials its default outbox relays on the internet.
    ndk = new NDK({ explicitRelayUrls: [relay.url], signer: ndkSigner, enableOutboxModel: false });
    ndk.relayAuthDefaultPolicy = NDKRelayAuthPolicies.signIn({ ndk });
    const ndkRelay = [...ndk.pool.relays.values()][0];
    assert.ok(ndkRelay);
    const authed = new Promise<void>((resolve) => ndkRelay.once('authed', () => resolve()));
    await ndk.connect(5000);
    await authed;
    ndkPubkey = (await ndkSigner.user()).pubkey;
  });

  after(async () => {
    nt.close();
    for (const r of ndk.pool.relays.values()) r.disconnect();
    await until(() => relay.server.stats().connections === 0, undefined, 'clients gone');
    await relay.close();
  });

  test('auth (NIP-42): both clients authenticated, then published; nothing was refused', async () => {
    const a = ntSign(1, 'nostr-tools after auth');
    assert.equal(await nt.publish(a), '');
    const b = await ndkPublish(1, 'ndk after auth');
    assert.deepEqual(await ndkQuery({ ids: [a.id] }), [a.id]);
    assert.deepEqual(
      (await ntQuery([{ ids: [b.id] }])).map((e) => e.id),
      [b.id],
    );
    assert.equal(relay.server.stats().eventsRejected, 0);
  });

  test('publish with one, query with the other', async () => {
    const fromNt = [ntSign(1, 'one'), ntSign(1, 'two', [['t', 'interop']])];
    for (const e of fromNt) await nt.publish(e);
    assert.deepEqual(await ndkQuery({ authors: [ntPubkey], '#t': ['interop'] }), [fromNt[1]?.id]);
    const fromNdk = await ndkPublish(30023, 'an article');
    const got = await ntQuery([{ authors: [ndkPubkey], kinds: [30023] }]);
    assert.deepEqual(
      got.map((e) => [e.id, e.content]),
      [[fromNdk.id, 'an article']],
    );
  });

  test('live subscriptions: each receives what the other publishes', async () => {
    const ntReceived = new Promise<NostrEvent>((resolve) => {
      const sub = nt.subscribe([{ authors: [ndkPubkey], kinds: [7] }], {
        onevent: (e) => {
          sub.close();
          resolve(e);
        },
      });
    });
    const ndkSub = ndk.subscribe({ authors: [ntPubkey], kinds: [7] } as never, { closeOnEose: false });
    const ndkReceived = new Promise<string>((resolve) => ndkSub.on('event', (e: NDKEvent) => resolve(e.id)));
    await new Promise<void>((resolve) => ndkSub.on('eose', () => resolve()));

    const fromNdk = await ndkPublish(7, '+');
    assert.equal((await ntReceived).id, fromNdk.id);
    const fromNt = ntSign(7, '+');
    await nt.publish(fromNt);
    assert.equal(await ndkReceived, fromNt.id);
    ndkSub.stop();
  });

  test('delete (NIP-09): a deletion by one client hides the event from the other', async () => {
    const doomedNdk = await ndkPublish(1, 'to be deleted by NDK');
    assert.deepEqual(
      (await ntQuery([{ ids: [doomedNdk.id] }])).map((e) => e.id),
      [doomedNdk.id],
    );
    await doomedNdk.delete('gone');
    assert.deepEqual(await ntQuery([{ ids: [doomedNdk.id] }]), []);

    const doomedNt = ntSign(1, 'to be deleted by nostr-tools');
    await nt.publish(doomedNt);
    assert.deepEqual(await ndkQuery({ ids: [doomedNt.id] }), [doomedNt.id]);
    await nt.publish(ntSign(5, 'gone', [['e', doomedNt.id]]));
    assert.deepEqual(await ndkQuery({ ids: [doomedNt.id] }), []);
  });

  test('count (NIP-45) agrees between both clients and with what each published', async () => {
    const fromNt = [ntSign(1111, 'a'), ntSign(1111, 'b'), ntSign(1111, 'c')];
    for (const e of fromNt) await nt.publish(e);
    await ndkPublish(1111, 'd');
    await ndkPublish(1111, 'e');
    const ndkCountOfNt = await ndk.count({ kinds: [1111], authors: [ntPubkey] } as never);
    assert.equal(ndkCountOfNt.count, 3);
    assert.equal(await nt.count([{ kinds: [1111], authors: [ndkPubkey] }], {}), 2);
    assert.equal(await nt.count([{ kinds: [1111] }], {}), 5);
    assert.equal((await ndk.count({ kinds: [1111] } as never)).count, 5);
  });
});
