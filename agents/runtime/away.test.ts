import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../core/logger.ts';
import type { EventTemplate } from '../../core/nostr.ts';
import { buildDeskAnnouncement } from '../../dvm/desk-announcement.ts';
import { generateLocalSigner, type LocalSigner } from '../../identity/signer.ts';
import { RelayClient } from '../../relay/client.ts';
import { MemoryEventStore } from '../../relay/memory-store.ts';
import { RelayServer } from '../../relay/server.ts';
import { closedPort } from '../../testkit/fake-peer.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { AwayWork } from './away.ts';

/** Which peer desks an agent works for on a peer relay, over a real relay, with runtimes that only count. */
let relay: TestRelay;
let conn: RelayClient;
let deskConn: RelayClient;
const agent = generateLocalSigner();
const home = generateLocalSigner();
const friend = generateLocalSigner();
const stranger = generateLocalSigner();
const later = generateLocalSigner();
/** Announced after others: once its runtime runs, the events published before it were handled (one subscription). */
const marker = generateLocalSigner();
const running = new Set<string>();
const starts: string[] = [];
let trusted = new Set<string>();
let away: AwayWork;

const announce = (desk: LocalSigner, createdAt?: number) =>
  desk.signEvent(
    buildDeskAnnouncement({ kinds: [5700], agents: [], relays: [relay.url], name: 'a desk', createdAt }),
  );
const publish = async (signer: LocalSigner, template: EventTemplate) =>
  deskConn.publish(await signer.signEvent(template));

before(async () => {
  relay = await startTestRelay();
  conn = new RelayClient({ url: relay.url, logger: silentLogger });
  deskConn = new RelayClient({ url: relay.url, logger: silentLogger });
  trusted = new Set([friend.pubkey, home.pubkey, later.pubkey, marker.pubkey]);
  // Announced before the agent looks: found from what the relay stored.
  for (const d of [friend, stranger, home]) await deskConn.publish(await announce(d));
  away = new AwayWork({
    agent: 'seer',
    pubkey: agent.pubkey,
    homeDesk: home.pubkey,
    relay: conn,
    relayUrl: relay.url,
    trusted: (desk, url) => url === relay.url && trusted.has(desk),
    logger: silentLogger,
    runtimeFor: (desk) => ({
      start: async () => {
        starts.push(desk);
        running.add(desk);
      },
      stop: async () => {
        running.delete(desk);
      },
    }),
  });
  away.start();
});
after(async () => {
  await away.stop();
  conn.close();
  deskConn.close();
  await relay.close();
});

test('works for the trusted desks announced on the relay, never its own desk nor an untrusted one', async () => {
  await until(() => running.has(friend.pubkey), 10_000, 'the friend desk');
  // A desk announced later joins; the stranger (untrusted) and the home desk never do.
  await deskConn.publish(await announce(later));
  await until(() => running.has(later.pubkey), 10_000, 'the later desk');
  assert.deepEqual(new Set(away.desks()), new Set([friend.pubkey, later.pubkey]));
  // A desk announcing again (a restart) is the same desk: no second runtime.
  await deskConn.publish(await announce(friend, Math.floor(Date.now() / 1000) + 1));
  await deskConn.publish(await announce(later, Math.floor(Date.now() / 1000) + 1));
  await deskConn.publish(await announce(marker));
  await until(() => running.has(marker.pubkey), 10_000, 'the marker desk');
  assert.equal(starts.filter((d) => d === later.pubkey).length, 1);
  assert.equal(starts.filter((d) => d === friend.pubkey).length, 1);
  assert.ok(!starts.includes(stranger.pubkey) && !starts.includes(home.pubkey));
});

test('trust given and taken back (refresh), an announcement withdrawn (NIP-09): runtimes follow', async () => {
  await until(() => running.has(friend.pubkey), 10_000, 'the friend desk');
  trusted.add(stranger.pubkey);
  trusted.delete(friend.pubkey);
  away.refresh();
  await until(() => running.has(stranger.pubkey) && !running.has(friend.pubkey), 10_000, 'the trust change');
  // The later desk deletes its announcement (by address, with a k tag as NIP-09 asks).
  await publish(later, {
    kind: 5,
    created_at: Math.floor(Date.now() / 1000) + 2,
    tags: [
      ['a', `31990:${later.pubkey}:timmy-desk`],
      ['k', '31990'],
    ],
    content: 'closing',
  });
  await until(() => !running.has(later.pubkey), 10_000, 'the withdrawn desk stopped');
  // A deletion by someone else of a desk's announcement changes nothing.
  await publish(stranger, {
    kind: 5,
    created_at: Math.floor(Date.now() / 1000) + 2,
    tags: [
      ['a', `31990:${friend.pubkey}:timmy-desk`],
      ['k', '31990'],
    ],
    content: '',
  });
  trusted.add(friend.pubkey);
  away.refresh();
  await until(() => running.has(friend.pubkey), 10_000, 'the friend desk back');
  assert.deepEqual(new Set(away.desks()), new Set([friend.pubkey, stranger.pubkey, marker.pubkey]));
});

test('a peer relay that is down when the agent starts is asked again until it is up', async () => {
  const port = await closedPort();
  const url = `ws://127.0.0.1:${port}`;
  const client = new RelayClient({ url, logger: silentLogger });
  const desk = generateLocalSigner();
  const started: string[] = [];
  const late = new AwayWork({
    agent: 'seer',
    pubkey: agent.pubkey,
    homeDesk: home.pubkey,
    relay: client,
    relayUrl: url,
    logger: silentLogger,
    runtimeFor: (d) => ({
      start: async () => {
        started.push(d);
      },
      stop: async () => {},
    }),
  });
  late.start();
  const store = new MemoryEventStore();
  const server = new RelayServer({
    logger: silentLogger,
    info: { name: 'late', description: 'up later' },
    store,
  });
  try {
    // Down for its first try (and a retry or two), then up with a desk announced.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await server.listen(port);
    const writer = new RelayClient({ url, logger: silentLogger });
    await writer.publish(
      await desk.signEvent(
        buildDeskAnnouncement({ kinds: [5700], agents: [], relays: [url], name: 'late desk' }),
      ),
    );
    writer.close();
    await until(() => started.includes(desk.pubkey), 20_000, 'works for the desk once the relay is up');
  } finally {
    await late.stop();
    client.close();
    await server.close();
    await store.close();
  }
});
