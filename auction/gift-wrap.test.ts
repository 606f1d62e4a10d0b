import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { getEventHash } from 'nostr-tools/pure';
import type { NostrEvent } from '../core/nostr.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import { newNonce } from './commitment.ts';
import {
  createRumor,
  type OpeningPayload,
  sealRumor,
  unwrapOpening,
  wrapOpening,
  wrapSeal,
} from './gift-wrap.ts';
import {
  AuctionEventError,
  BID_OPENING_KIND,
  GIFT_WRAP_KIND,
  GIFT_WRAP_MAX_AGE_SECONDS,
  SEAL_KIND,
} from './kinds.ts';

const hex = (label: string): string => createHash('sha256').update(label).digest('hex');
const bidder = generateLocalSigner();
const coordinator = generateLocalSigner();
const stranger = generateLocalSigner();
const NOW = 1_700_000_000;
const opening: OpeningPayload = {
  auctionId: hex('auction'),
  jobId: hex('job'),
  commitmentEventId: hex('commitment'),
  amountMsats: 7_654_321,
  nonce: newNonce(),
};

async function rejects(wrap: NostrEvent, re: RegExp, recipient = coordinator): Promise<void> {
  await assert.rejects(
    () => unwrapOpening(wrap, recipient),
    (err: unknown) => err instanceof AuctionEventError && re.test(err.message),
  );
}

/** A wrap built by hand: a rumor (by `rumorAuthor`, default the bidder) sealed by the bidder. */
async function handMade(
  content: string,
  opts: { rumorAuthor?: string; kind?: number; sealTags?: string[][] } = {},
): Promise<NostrEvent> {
  const rumor = createRumor(
    { kind: opts.kind ?? BID_OPENING_KIND, created_at: NOW, tags: [], content },
    opts.rumorAuthor ?? bidder.pubkey,
  );
  const seal = await bidder.signEvent({
    kind: SEAL_KIND,
    created_at: NOW,
    tags: opts.sealTags ?? [],
    content: await bidder.nip44.encrypt(coordinator.pubkey, JSON.stringify(rumor)),
  });
  return wrapSeal(seal, coordinator.pubkey, NOW);
}

describe('wrapOpening / unwrapOpening', () => {
  test('round trip: the bidder is the seal signer, the time the rumor’s', async () => {
    const wrap = await wrapOpening({ opening, bidder, recipient: coordinator.pubkey, now: NOW });
    assert.equal(wrap.kind, GIFT_WRAP_KIND);
    assert.deepEqual(await unwrapOpening(wrap, coordinator), {
      bidder: bidder.pubkey,
      ...opening,
      createdAt: NOW,
    });
  });

  test('the wrap reveals nothing: one-time key, only the recipient tag, no plaintext', async () => {
    const wrap = await wrapOpening({ opening, bidder, recipient: coordinator.pubkey });
    assert.deepEqual(wrap.tags, [['p', coordinator.pubkey]]);
    assert.notEqual(wrap.pubkey, bidder.pubkey);
    const text = JSON.stringify(wrap);
    for (const secret of [
      bidder.pubkey,
      opening.nonce,
      opening.auctionId,
      opening.jobId,
      opening.commitmentEventId,
      String(opening.amountMsats),
      'amountMsats',
    ])
      assert.ok(!text.includes(secret), `the wrap shows ${secret}`);
    assert.throws(() => JSON.parse(wrap.content));
    // each wrap has its own one-time key
    const again = await wrapOpening({ opening, bidder, recipient: coordinator.pubkey });
    assert.notEqual(again.pubkey, wrap.pubkey);
  });

  test('created_at of the wrap and the seal: random, within two days before now', async () => {
    const times = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const wrap = await wrapOpening({ opening, bidder, recipient: coordinator.pubkey, now: NOW });
      const seal = JSON.parse(await coordinator.nip44.decrypt(wrap.pubkey, wrap.content)) as NostrEvent;
      for (const t of [wrap.created_at, seal.created_at]) {
        assert.ok(t <= NOW && t >= NOW - GIFT_WRAP_MAX_AGE_SECONDS, `created_at ${t} out of range`);
        times.add(t);
      }
    }
    assert.ok(times.size > 1, 'the timestamps are not randomized');
  });

  test('another key cannot open it', async () => {
    const wrap = await wrapOpening({ opening, bidder, recipient: coordinator.pubkey });
    await rejects(wrap, /addressed to .* not to/, stranger);
    // retagged for the stranger (re-signed by a one-time key): still encrypted to the coordinator
    const oneTime = generateLocalSigner();
    const retagged = await oneTime.signEvent({
      kind: GIFT_WRAP_KIND,
      created_at: NOW,
      tags: [['p', stranger.pubkey]],
      content: await oneTime.nip44.encrypt(coordinator.pubkey, 'x'),
    });
    await rejects(retagged, /does not decrypt with this key/, stranger);
  });

  test('a rumor in another key’s name is refused (rumor pubkey ≠ seal signer)', async () => {
    const forged = await handMade(JSON.stringify(opening), { rumorAuthor: stranger.pubkey });
    await rejects(forged, /not the seal's signer/);
  });

  test('a tampered seal is refused', async () => {
    const rumor = createRumor(
      { kind: BID_OPENING_KIND, created_at: NOW, tags: [], content: JSON.stringify(opening) },
      bidder.pubkey,
    );
    const seal = await sealRumor(rumor, bidder, coordinator.pubkey, NOW);
    const other = await sealRumor({ ...rumor, content: '{}' }, bidder, coordinator.pubkey, NOW);
    const swapped = { ...seal, content: other.content };
    await rejects(await wrapSeal(swapped, coordinator.pubkey), /seal is not validly signed: id/);
    const resigned = { ...swapped, id: getEventHash(swapped) };
    await rejects(await wrapSeal(resigned, coordinator.pubkey), /seal is not validly signed: bad signature/);
  });

  test('a tampered wrap, a seal with tags, a signed or altered rumor, another kind are refused', async () => {
    const wrap = await wrapOpening({ opening, bidder, recipient: coordinator.pubkey });
    await rejects(
      { ...wrap, content: `${wrap.content.slice(0, -4)}AAA=` },
      /gift wrap is not validly signed/,
    );
    await rejects({ ...wrap, kind: 4 }, /kind 4 is not a gift wrap/);
    await rejects(
      await handMade(JSON.stringify(opening), { sealTags: [['p', coordinator.pubkey]] }),
      /no tags/,
    );
    await rejects(await handMade(JSON.stringify(opening), { kind: 1 }), /kind 1, not a bid opening/);

    const signedRumor = await bidder.signEvent({
      kind: BID_OPENING_KIND,
      created_at: NOW,
      tags: [],
      content: JSON.stringify(opening),
    });
    const seal = await bidder.signEvent({
      kind: SEAL_KIND,
      created_at: NOW,
      tags: [],
      content: await bidder.nip44.encrypt(coordinator.pubkey, JSON.stringify(signedRumor)),
    });
    await rejects(await wrapSeal(seal, coordinator.pubkey), /must be unsigned/);

    const rumor = createRumor(
      { kind: BID_OPENING_KIND, created_at: NOW, tags: [], content: JSON.stringify(opening) },
      bidder.pubkey,
    );
    const altered = { ...rumor, content: JSON.stringify({ ...opening, amountMsats: 1 }) };
    const sealAltered = await sealRumor(altered, bidder, coordinator.pubkey);
    await rejects(await wrapSeal(sealAltered, coordinator.pubkey), /id does not match/);
  });

  test('a malformed opening is refused, with the field named', async () => {
    await rejects(await handMade('not json'), /must be a JSON object/);
    await rejects(await handMade(JSON.stringify({ ...opening, nonce: 'short' })), /nonce/);
    await rejects(await handMade(JSON.stringify({ ...opening, amountMsats: -1 })), /amountMsats/);
    await rejects(await handMade(JSON.stringify({ ...opening, amountMsats: '5' })), /amountMsats/);
    await rejects(await handMade(JSON.stringify({ ...opening, auctionId: undefined })), /auctionId/);
  });

  test('the builder refuses a malformed opening or recipient', async () => {
    await assert.rejects(
      () => wrapOpening({ opening: { ...opening, amountMsats: 1.5 }, bidder, recipient: coordinator.pubkey }),
      RangeError,
    );
    await assert.rejects(
      () => wrapOpening({ opening: { ...opening, nonce: 'x' }, bidder, recipient: coordinator.pubkey }),
      /nonce/,
    );
    await assert.rejects(() => wrapOpening({ opening, bidder, recipient: 'npub1' }), /recipient/);
  });
});
