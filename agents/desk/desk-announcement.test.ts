import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { MemoryLogger } from '../../core/logger.ts';
import { parseDeskAnnouncement } from '../../dvm/desk-announcement.ts';
import { parseRelayList } from '../../dvm/relay-list.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { RelayClient } from '../../relay/client.ts';
import { startTestRelay } from '../../testkit/relay.ts';
import { ProfilePublisher } from '../profile-publisher.ts';
import { type DeskAnnouncementOptions, publishDeskAnnouncements } from './desk-announcement.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

test('the desk announces its roster and relays once, and again only when they change', async () => {
  const relay = await startTestRelay();
  const logger = new MemoryLogger();
  const client = new RelayClient({ url: relay.url, logger });
  const publisher = new ProfilePublisher({ logger });
  after(async () => {
    publisher.stop();
    client.close();
    await relay.close();
  });
  const desk = generateLocalSigner();
  const clock = new ManualClock(Date.now());
  const options: DeskAnnouncementOptions = {
    signer: desk,
    pubkey: desk.pubkey,
    relay: client,
    publisher,
    roster: [
      { pubkey: A, kinds: [5700, 5050] },
      { pubkey: B, kinds: [5050] },
      { pubkey: C, kinds: [] },
    ],
    relays: ['ws://relay.example:7777'],
    name: 'Timmy',
    about: 'Coordinator and auctioneer',
    logger,
    clock,
  };
  assert.deepEqual(await publishDeskAnnouncements(options), ['desk', 'relays']);
  const read = async () => {
    const [announcement] = await client.query([
      { kinds: [31990], authors: [desk.pubkey], '#d': ['timmy-desk'] },
    ]);
    const [list] = await client.query([{ kinds: [10002], authors: [desk.pubkey] }]);
    assert.ok(announcement && list);
    return { desk: parseDeskAnnouncement(announcement), relays: parseRelayList(list) };
  };
  const first = await read();
  assert.deepEqual(first.desk.kinds, [5050, 5700]);
  assert.deepEqual(first.desk.agents, [A, B], 'an agent serving nothing is not announced');
  assert.deepEqual(first.desk.relays, ['ws://relay.example:7777']);
  assert.equal(first.desk.name, 'Timmy');
  assert.equal(first.desk.about, 'Coordinator and auctioneer');
  assert.deepEqual(first.relays, [{ url: 'ws://relay.example:7777/', use: 'both' }]);

  clock.advance(60_000);
  assert.deepEqual(await publishDeskAnnouncements(options), [], 'nothing changed: nothing published');

  const grown = { ...options, roster: [...options.roster, { pubkey: C, kinds: [5002] }] };
  assert.deepEqual(await publishDeskAnnouncements({ ...grown, clock: new ManualClock(0) }), ['desk']);
  const second = await read();
  assert.deepEqual(second.desk.agents, [A, B, C]);
  assert.ok(second.desk.createdAt > first.desk.createdAt, 'replaces the older one whatever the clock says');
});

test('a desk whose roster serves nothing announces only its relays', async () => {
  const relay = await startTestRelay();
  const logger = new MemoryLogger();
  const client = new RelayClient({ url: relay.url, logger });
  const publisher = new ProfilePublisher({ logger });
  after(async () => {
    publisher.stop();
    client.close();
    await relay.close();
  });
  const desk = generateLocalSigner();
  const published = await publishDeskAnnouncements({
    signer: desk,
    pubkey: desk.pubkey,
    relay: client,
    publisher,
    roster: [],
    relays: [relay.url],
    name: 'Timmy',
    logger,
  });
  assert.deepEqual(published, ['relays']);
});
