import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import { buildJobRequest } from '../dvm/request.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import { RelayClient } from '../relay/client.ts';
import { startTestRelay, type TestRelay } from '../testkit/relay.ts';
import { buildAuctionOpen } from './events.ts';
import { AuctionLookupError, findAuction, listAuctionRecords, verifyOnRelay } from './on-relay.ts';

/** Lookups that fail say why (the successful paths run in tests/auction/ against a real network). */
let relay: TestRelay;
let client: RelayClient;
const coordinator = generateLocalSigner();

before(async () => {
  relay = await startTestRelay();
  client = new RelayClient({ url: relay.url, logger: silentLogger });
});
after(async () => {
  client.close();
  await relay.close();
});

test('a malformed id, an unknown job, an auction not settled yet: each a lookup error with its code', async () => {
  await assert.rejects(findAuction(client, coordinator.pubkey, 'nope'), (err: unknown) => {
    return (
      err instanceof AuctionLookupError && err.code === 'bad-id' && /is not an event id/.test(err.message)
    );
  });
  await assert.rejects(
    findAuction(client, coordinator.pubkey, 'a'.repeat(64)),
    (err: unknown) => err instanceof AuctionLookupError && err.code === 'not-found',
  );
  const now = Math.floor(Date.now() / 1000);
  const request = await generateLocalSigner().signEvent(
    buildJobRequest({ kind: 5050, inputs: [{ data: 'x', type: 'text' }] }),
  );
  const open = await coordinator.signEvent(buildAuctionOpen({ request, deadline: now + 60, createdAt: now }));
  await client.publish(request);
  await client.publish(open);
  for (const id of [request.id, open.id])
    await assert.rejects(verifyOnRelay(client, coordinator.pubkey, id), (err: unknown) => {
      return (
        err instanceof AuctionLookupError &&
        err.code === 'not-settled' &&
        /has no record yet/.test(err.message)
      );
    });
  assert.deepEqual(await listAuctionRecords(client, coordinator.pubkey, 10), []);
});
