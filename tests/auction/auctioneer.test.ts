import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Auctioneer } from '../../agents/desk/auctioneer.ts';
import { jobLogStore, Outbox } from '../../agents/outbox.ts';
import { commitBid, newNonce } from '../../auction/commitment.ts';
import { buildCommitment } from '../../auction/events.ts';
import { wrapOpening } from '../../auction/gift-wrap.ts';
import { parseAuctionRecord } from '../../auction/record.ts';
import { verifyAuction } from '../../auction/verify.ts';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { buildHandlerInfo } from '../../dvm/announcement.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { generateLocalSigner, type LocalSigner } from '../../identity/signer.ts';
import { RelayClient } from '../../relay/client.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';

/**
 * The auctioneer against hand-made bids over a real relay: every kind of bad bid the issue names is
 * excluded with its reason, the honest lowest bid wins at the second price, and the published record
 * verifies from relay events alone.
 */
let relay: TestRelay;
let client: RelayClient;
let dir: string;
let log: JobLog;
const timmy = generateLocalSigner();
const customer = generateLocalSigner();
const KIND = 5001;

before(async () => {
  // A generous rate limit: one test publishes 1,100 junk events from one connection.
  relay = await startTestRelay({ limits: { eventsPerSecond: 100_000, eventsBurst: 100_000 } });
  // Kind 1059 is readable only by its recipient after NIP-42 AUTH: Timmy's connection authenticates.
  client = new RelayClient({ url: relay.url, logger: silentLogger, authSigner: timmy });
  dir = await mkdtemp(join(tmpdir(), 'timmy-auction-'));
  log = JobLog.open({ path: join(dir, 'jobs.sqlite') });
});
after(async () => {
  client.close();
  log.close();
  await relay.close();
  await rm(dir, { recursive: true, force: true });
});

async function announce(agent: LocalSigner, kinds: number[]): Promise<void> {
  await client.publish(
    await agent.signEvent(buildHandlerInfo({ d: 'a', kinds, metadata: { name: agent.pubkey.slice(0, 6) } })),
  );
}

async function commit(
  agent: LocalSigner,
  open: NostrEvent,
  jobId: string,
  amountMsats: number,
  options: { createdAt?: number; reveal?: 'ok' | 'none' | 'wrong-amount'; committedFor?: string } = {},
): Promise<NostrEvent> {
  const nonce = newNonce();
  // committedFor: a commitment made for another job, replayed into this auction
  const commitment = commitBid({
    jobId: options.committedFor ?? jobId,
    bidder: agent.pubkey,
    amountMsats,
    nonce,
  });
  const event = await agent.signEvent(
    buildCommitment({
      open: { id: open.id, jobId },
      commitment,
      prev: open.id,
      createdAt: options.createdAt,
    }),
  );
  await client.publish(event);
  const reveal = options.reveal ?? 'ok';
  if (reveal !== 'none') {
    const wrap = await wrapOpening({
      opening: {
        auctionId: open.id,
        jobId,
        commitmentEventId: event.id,
        amountMsats: reveal === 'wrong-amount' ? amountMsats - 1 : amountMsats,
        nonce,
      },
      bidder: agent,
      recipient: timmy.pubkey,
    });
    await client.publish(wrap);
  }
  return event;
}

test('bad bids are excluded with their reason; the lowest honest bid wins at the second price; the record verifies', async () => {
  const outbox = new Outbox({ store: jobLogStore(log), relay: client, logger: silentLogger });
  const auctioneer = new Auctioneer({
    signer: timmy,
    pubkey: timmy.pubkey,
    relay: client,
    log,
    outbox,
    config: { enabled: true, bidWindowMs: 1500, revealGraceMs: 200 },
    clock: systemClock,
    logger: silentLogger,
  });
  auctioneer.start();
  const request = await customer.signEvent(
    buildJobRequest({ kind: KIND, inputs: [{ data: 'x', type: 'text' }], bidMsats: 9000 }),
  );
  log.append(request.id, { type: 'posted', request });
  const other = 'b'.repeat(64); // another job: an opening replayed from there must not count here

  const [honest1, honest2, lazy, liar, twice, outsider, pricey, replayer, late, stranger] = Array.from(
    { length: 10 },
    () => generateLocalSigner(),
  ) as LocalSigner[];
  // Everyone but the stranger is invited (the stranger announced the kind, but is not one of Timmy's agents).
  const invited = [honest1, honest2, lazy, liar, twice, outsider, pricey, replayer, late].map(
    (a) => (a as LocalSigner).pubkey,
  );
  const open = await auctioneer.open(log.get(request.id) as never, invited, 9000);
  await announce(stranger as LocalSigner, [KIND]);
  for (const a of [honest1, honest2, lazy, liar, twice, pricey, replayer, late] as LocalSigner[])
    await announce(a, [KIND]);
  await announce(outsider as LocalSigner, [5050]); // announced, but not this kind

  const deadline = Number(open.tags.find((t) => t[0] === 'deadline')?.[1]);
  await commit(honest1 as LocalSigner, open, request.id, 3000);
  await commit(honest2 as LocalSigner, open, request.id, 5000);
  await commit(lazy as LocalSigner, open, request.id, 1000, { reveal: 'none' });
  await commit(liar as LocalSigner, open, request.id, 1500, { reveal: 'wrong-amount' });
  await commit(twice as LocalSigner, open, request.id, 4000, { createdAt: deadline - 1 });
  await commit(twice as LocalSigner, open, request.id, 100, { createdAt: deadline });
  await commit(outsider as LocalSigner, open, request.id, 200);
  await commit(pricey as LocalSigner, open, request.id, 9500);
  await commit(replayer as LocalSigner, open, request.id, 300, { committedFor: other });
  await commit(late as LocalSigner, open, request.id, 50, { createdAt: deadline + 5 });
  await commit(stranger as LocalSigner, open, request.id, 10);

  const everyone = [honest1, honest2, lazy, liar, twice, outsider, pricey, replayer, late, stranger].map(
    (a) => (a as LocalSigner).pubkey,
  );
  await until(
    () =>
      Object.keys(log.get(request.id)?.effects ?? {}).filter((k) => k.startsWith('opening:')).length >= 10,
    10_000,
    'openings recorded',
  );
  // Timmy settles only after the deadline (the verifier checks that too).
  await new Promise((r) => setTimeout(r, Math.max(0, auctioneer.settleAt(deadline) - Date.now())));
  const { settlement, record } = await auctioneer.settle(log.get(request.id) as never);
  auctioneer.stop();

  assert.equal(settlement.winner?.bidder, (honest1 as LocalSigner).pubkey);
  assert.equal(settlement.priceMsats, 4000, "second price: the duplicate bidder's first (earliest) bid");
  const reasons = new Map(settlement.invalid.map((i) => [i.bidder, i.reason]));
  assert.equal(reasons.get((lazy as LocalSigner).pubkey), 'no-opening');
  assert.equal(reasons.get((liar as LocalSigner).pubkey), 'mismatch');
  assert.equal(reasons.get((twice as LocalSigner).pubkey), 'duplicate');
  assert.equal(reasons.get((outsider as LocalSigner).pubkey), 'not-eligible');
  assert.equal(reasons.get((pricey as LocalSigner).pubkey), 'above-reserve');
  assert.equal(reasons.get((replayer as LocalSigner).pubkey), 'mismatch');
  assert.equal(reasons.get((late as LocalSigner).pubkey), 'late');
  // A stranger's bid (not invited) is nobody's bid: read neither by Timmy nor by the verifier.
  assert.equal(reasons.get((stranger as LocalSigner).pubkey), undefined, 'not invited: not read at all');
  assert.ok(
    !parseAuctionRecord(record).commitments.some((c) => c.pubkey === (stranger as LocalSigner).pubkey),
  );
  assert.ok(log.get(request.id)?.effects['penalties:1'], 'penalties recorded for the reputation module');

  for (let i = 0; i < 50 && (await client.query([{ ids: [record.id] }])).length === 0; i++)
    await new Promise((r) => setTimeout(r, 100));
  const relayCommitments = await client.query([{ kinds: [7611], '#e': [open.id] }]);
  const announcements = await client.query([{ kinds: [31990], authors: everyone }]);
  const report = verifyAuction({ open, record, relayCommitments, announcements });
  assert.deepEqual(report.problems, []);
  assert.equal(report.ok, true);
  assert.equal(parseAuctionRecord(record).priceMsats, 4000);
});

/** An auctioneer on the shared log and relay, with a short window. */
function auctioneerOf(relayClient: RelayClient): Auctioneer {
  const outbox = new Outbox({ store: jobLogStore(log), relay: relayClient, logger: silentLogger });
  return new Auctioneer({
    signer: timmy,
    pubkey: timmy.pubkey,
    relay: relayClient,
    log,
    outbox,
    config: { enabled: true, bidWindowMs: 1500, revealGraceMs: 200 },
    clock: systemClock,
    logger: silentLogger,
  });
}

async function postedJob(): Promise<NostrEvent> {
  const request = await customer.signEvent(
    buildJobRequest({ kind: KIND, inputs: [{ data: 'x', type: 'text' }] }),
  );
  log.append(request.id, { type: 'posted', request });
  return request;
}

async function settleAfterDeadline(auctioneer: Auctioneer, open: NostrEvent, jobId: string) {
  const deadline = Number(open.tags.find((t) => t[0] === 'deadline')?.[1]);
  await new Promise((r) => setTimeout(r, Math.max(0, auctioneer.settleAt(deadline) - Date.now())));
  return auctioneer.settle(log.get(jobId) as never);
}

test('junk commitments from strangers (1,100, dated in the future, some huge) change nothing: the invited bid wins and the record is published', async () => {
  const auctioneer = auctioneerOf(client);
  auctioneer.start();
  try {
    const request = await postedJob();
    const honest = generateLocalSigner();
    await announce(honest, [KIND]);
    const open = await auctioneer.open(log.get(request.id) as never, [honest.pubkey], undefined);
    const deadline = Number(open.tags.find((t) => t[0] === 'deadline')?.[1]);
    await commit(honest, open, request.id, 700);
    // The junk: strangers' commitments tagging the auction, dated after the deadline (first in any newest-first
    // answer), and one of 130 KB that would make the record too large for the relay.
    const junk = await Promise.all(
      Array.from({ length: 1100 }, (_, i) =>
        generateLocalSigner().signEvent(
          buildCommitment({
            open: { id: open.id, jobId: request.id },
            commitment: commitBid({
              jobId: request.id,
              bidder: 'f'.repeat(64),
              amountMsats: i,
              nonce: newNonce(),
            }),
            prev: open.id,
            createdAt: deadline + 600,
          }),
        ),
      ),
    );
    const writer = new RelayClient({ url: relay.url, logger: silentLogger });
    try {
      for (const e of junk) await writer.publish(e);
      const huge = await generateLocalSigner().signEvent({
        kind: 7611,
        created_at: deadline - 1,
        tags: [
          ['e', open.id],
          ['job', request.id],
          ['commitment', 'a'.repeat(64)],
          ['prev', open.id],
        ],
        content: 'x'.repeat(100_000),
      });
      await writer.publish(huge).catch(() => {}); // the relay may refuse it anyway; either way it counts for nothing
    } finally {
      writer.close();
    }
    await until(
      () => Object.keys(log.get(request.id)?.effects ?? {}).some((k) => k.startsWith('opening:')),
      10_000,
      'the honest opening',
    );
    const { settlement, record } = await settleAfterDeadline(auctioneer, open, request.id);
    assert.equal(settlement.winner?.bidder, honest.pubkey, 'the real bid was not crowded out');
    assert.equal(parseAuctionRecord(record).commitments.length, 1, 'only the invited bid is in the record');
    assert.equal((await client.query([{ ids: [record.id] }])).length, 1, 'the record is on the relay');
    const view = log.get(request.id);
    assert.equal(view?.outbox.find((o) => o.key === 'auction-record:1')?.published, true);
  } finally {
    auctioneer.stop();
  }
});

test('a record the relay refuses for good is not counted as published: settling says so instead of naming a record that does not exist', async () => {
  const picky = await startTestRelay({
    policies: [
      (input, next) =>
        input.event.kind === 7613
          ? { action: 'reject', message: 'blocked: no auction records here' }
          : next(),
    ],
  });
  const pickyClient = new RelayClient({ url: picky.url, logger: silentLogger, authSigner: timmy });
  const auctioneer = auctioneerOf(pickyClient);
  auctioneer.start();
  try {
    const request = await postedJob();
    const open = await auctioneer.open(
      log.get(request.id) as never,
      [generateLocalSigner().pubkey],
      undefined,
    );
    await assert.rejects(
      settleAfterDeadline(auctioneer, open, request.id),
      /the relay refused the auction record: blocked: no auction records here/,
    );
    const item = log.get(request.id)?.outbox.find((o) => o.key === 'auction-record:1');
    assert.equal(item?.published, false);
    assert.equal(item?.refused, 'blocked: no auction records here');
    // Asked again (a restart), it says the same, and nothing is sent again.
    await assert.rejects(auctioneer.settle(log.get(request.id) as never), /refused the auction record/);
  } finally {
    auctioneer.stop();
    pickyClient.close();
    await picky.close();
  }
});
