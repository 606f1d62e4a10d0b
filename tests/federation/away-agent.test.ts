import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ProfilePublisher } from '../../agents/profile-publisher.ts';
import { extractiveSummary } from '../../agents/runtime/handlers/extractive-summary.ts';
import { buildAuctionOpen } from '../../auction/events.ts';
import { BID_COMMITMENT_KIND } from '../../auction/kinds.ts';
import {
  type AgentsFederation,
  invoicerFrom,
  type NetworkAgent,
  type RunningAgents,
  startAgents,
} from '../../cli/compose-agents.ts';
import { configSchema } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import type { Filter, NostrEvent } from '../../core/nostr.ts';
import { parseHandlerInfo } from '../../dvm/announcement.ts';
import { buildAssignment } from '../../dvm/coordination.ts';
import { buildDeskAnnouncement } from '../../dvm/desk-announcement.ts';
import { DVM_HEARTBEAT_KIND, parseDvmHeartbeat } from '../../dvm/dvm-heartbeat.ts';
import { parseFeedback } from '../../dvm/feedback.ts';
import { ECHO_KIND, FEEDBACK_KIND, HANDLER_INFO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { parseResult } from '../../dvm/result.ts';
import { generateLocalSigner, type LocalSigner } from '../../identity/signer.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { MemoryWallet } from '../../payments/memory-wallet.ts';
import { RelayClient } from '../../relay/client.ts';
import { personas, removeDir } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { untilAsync } from '../../testkit/until-async.ts';

/**
 * The agent side of federation (docs/federation.md), with real relays: an agent of this instance (home relay
 * H, home desk D) peers with relay R, where a hand-made peer desk announces itself and auctions and assigns
 * work. The agent bids and works for that desk on R, asks to be paid with an invoice of its own wallet for the
 * assigned price, ignores desks that are not announced or not trusted, copies results to the relays the request
 * names, beats kind 11998 at home, and a restart on the same work.sqlite repeats neither invoice nor result.
 */

const PRICE = 2500;
const echoer = personas([
  {
    name: 'echoer',
    serves: [
      { kind: ECHO_KIND, handler: 'echo', priceMsats: 1000 },
      { kind: 5001, handler: 'extractive-summary', priceMsats: 1000 },
    ],
  },
]).find((p) => p.name === 'echoer');
if (!echoer) throw new Error('no persona');

let home: TestRelay;
let peer: TestRelay;
let customerRelay: TestRelay;
let reader: RelayClient;
let homeReader: RelayClient;
let dataDir: string;
const homeDesk = generateLocalSigner();
const peerDesk = generateLocalSigner();
const untrustedDesk = generateLocalSigner();
const unannouncedDesk = generateLocalSigner();
const customer = generateLocalSigner();
const agentKey = generateLocalSigner();
const wallet = new MemoryWallet();
const publisher = new ProfilePublisher({ logger: silentLogger, retryMs: 100 });
let agentClient: RelayClient;
let running: RunningAgents | undefined;

const config = configSchema.parse({
  dvm: { heartbeatIntervalMs: 200, agentTimeoutMs: 1500, urlInputs: { allow: ['127.0.0.1'] } },
  auction: { enabled: true },
});

/** Starts the agent; `hold` makes the agent's publishes on R of those events hang (a crash before the OK). */
async function startAgent(hold?: (e: NostrEvent) => boolean): Promise<RunningAgents> {
  const agent: NetworkAgent = {
    persona: echoer as NonNullable<typeof echoer>,
    pubkey: agentKey.pubkey,
    signer: agentKey,
    client: agentClient,
  };
  const federation: AgentsFederation = {
    peers: [{ url: peer.url }],
    trustedDesk: (desk) => desk !== untrustedDesk.pubkey,
    invoicer: invoicerFrom(wallet),
    connect: (url, a) => {
      const client = new RelayClient({ url, logger: silentLogger, authSigner: a.signer });
      if (!hold) return client;
      return {
        publish: (e) => (hold(e) ? new Promise<void>(() => {}) : client.publish(e)),
        subscribe: (f, h) => client.subscribe(f, h),
        query: (f, q) => client.query(f, q),
        close: () => client.close(),
      };
    },
  };
  return startAgents({
    config,
    dataDir,
    logger: silentLogger,
    agents: [agent],
    desk: homeDesk.pubkey,
    publisher,
    llm: new ScriptedProvider(),
    personaFile: '(test)',
    relayUrl: home.url,
    federation,
  });
}

const onPeer = (filters: Filter[]) => reader.query(filters, { timeoutMs: 5000 });
const nowS = () => Math.floor(Date.now() / 1000);

async function request(text: string): Promise<NostrEvent> {
  const r = await customer.signEvent(
    buildJobRequest({
      kind: ECHO_KIND,
      inputs: [{ data: text, type: 'text' }],
      relays: [peer.url, customerRelay.url],
    }),
  );
  await reader.publish(r);
  return r;
}

async function assign(desk: LocalSigner, r: NostrEvent, price?: number): Promise<void> {
  const t = buildAssignment({ request: r, agent: agentKey.pubkey, attempt: 1 });
  if (price !== undefined) t.tags.push(['price', String(price)]);
  await reader.publish(await desk.signEvent(t));
}

async function results(jobId: string, relay = reader): Promise<NostrEvent[]> {
  return relay.query([{ kinds: [ECHO_KIND + 1000], authors: [agentKey.pubkey], '#e': [jobId] }], {
    timeoutMs: 5000,
  });
}

async function resultOf(jobId: string): Promise<NostrEvent> {
  let found: NostrEvent | undefined;
  await untilAsync(
    async () => {
      found = (await results(jobId))[0];
      return found !== undefined;
    },
    30_000,
    `the result of ${jobId.slice(0, 8)} on R`,
  );
  return found as NostrEvent;
}

const invoicesFor = (jobId: string) =>
  wallet.calls.filter(
    (c) =>
      c.method === 'make_invoice' &&
      String((c.params as { description?: string }).description).includes(jobId.slice(0, 16)),
  );

before(async () => {
  home = await startTestRelay();
  peer = await startTestRelay();
  customerRelay = await startTestRelay();
  reader = new RelayClient({ url: peer.url, logger: silentLogger });
  homeReader = new RelayClient({ url: home.url, logger: silentLogger });
  agentClient = new RelayClient({ url: home.url, logger: silentLogger, authSigner: agentKey });
  dataDir = await mkdtemp(join(tmpdir(), 'timmy-away-'));
  for (const desk of [peerDesk, untrustedDesk])
    await reader.publish(
      await desk.signEvent(
        buildDeskAnnouncement({ kinds: [ECHO_KIND], agents: [], relays: [peer.url], name: 'peer' }),
      ),
    );
  running = await startAgent();
  const away = running.away[0];
  await until(() => away?.desks().includes(peerDesk.pubkey) === true, 20_000, 'working for the peer desk');
});

after(async () => {
  await running?.close();
  publisher.stop();
  agentClient.close();
  reader.close();
  homeReader.close();
  for (const r of [home, peer, customerRelay]) await r.close();
  await removeDir(dataDir);
});

test('on R: its NIP-89 announcement (with a parameter schema), then a bid in the peer desk auction; none in an untrusted desk auction', async () => {
  await untilAsync(
    async () => (await onPeer([{ kinds: [HANDLER_INFO_KIND], authors: [agentKey.pubkey] }])).length === 1,
    20_000,
    'the announcement on R',
  );
  const [announcement] = await onPeer([{ kinds: [HANDLER_INFO_KIND], authors: [agentKey.pubkey] }]);
  const info = parseHandlerInfo(announcement as NostrEvent);
  assert.deepEqual(info.kinds, [ECHO_KIND, 5001]);
  // The parameter schema of the handler that states one (the summary's), none for echo.
  assert.deepEqual(info.paramSchemas, [{ kind: 5001, schema: extractiveSummary.paramSchema }]);
  const r = await request('bid on me');
  const open = await peerDesk.signEvent(
    buildAuctionOpen({ request: r, deadline: nowS() + 30, invited: [agentKey.pubkey] }),
  );
  await reader.publish(open);
  await untilAsync(
    async () =>
      (await onPeer([{ kinds: [BID_COMMITMENT_KIND], authors: [agentKey.pubkey], '#e': [open.id] }]))
        .length === 1,
    20_000,
    'the commitment on R',
  );
  // An auction opened by a desk that is announced but not trusted gets no bid; checked after the next job.
  const r2 = await request('not for you');
  const untrustedOpen = await untrustedDesk.signEvent(
    buildAuctionOpen({ request: r2, deadline: nowS() + 30, invited: [agentKey.pubkey] }),
  );
  await reader.publish(untrustedOpen);
  const sync = await request('sync');
  await assign(peerDesk, sync);
  await resultOf(sync.id);
  assert.deepEqual(
    await onPeer([{ kinds: [BID_COMMITMENT_KIND], authors: [agentKey.pubkey], '#e': [untrustedOpen.id] }]),
    [],
  );
});

test('an assignment with a price: processing, then a result on R with an invoice for exactly that price', async () => {
  // First, assignments from a desk that is not announced on R and from one that is not trusted.
  const ignored = [await request('stranger'), await request('untrusted')];
  await assign(unannouncedDesk, ignored[0] as NostrEvent, PRICE);
  await assign(untrustedDesk, ignored[1] as NostrEvent, PRICE);
  const r = await request('hello peer');
  await assign(peerDesk, r, PRICE);
  const result = parseResult(await resultOf(r.id));
  assert.equal(result.content, 'hello peer');
  assert.equal(result.amountMsats, PRICE);
  assert.ok(result.bolt11);
  const invoice = await wallet.lookupInvoice({ invoice: result.bolt11 });
  assert.equal(invoice.amountMsats, PRICE);
  assert.equal(invoice.type, 'incoming');
  assert.equal(invoicesFor(r.id).length, 1);
  const feedback = await onPeer([{ kinds: [FEEDBACK_KIND], authors: [agentKey.pubkey], '#e': [r.id] }]);
  assert.deepEqual(
    feedback.map((f) => parseFeedback(f).status),
    ['processing'],
  );
  // The others were never looked at: no feedback, no result, no record, no invoice.
  for (const x of ignored) {
    assert.deepEqual(await onPeer([{ authors: [agentKey.pubkey], '#e': [x.id] }]), []);
    assert.equal(invoicesFor(x.id).length, 0);
  }
  assert.deepEqual(
    running?.work.forAway(agentKey.pubkey, unannouncedDesk.pubkey).attempts(ignored[0]?.id ?? ''),
    [],
  );
  assert.deepEqual(
    running?.work.forAway(agentKey.pubkey, untrustedDesk.pubkey).attempts(ignored[1]?.id ?? ''),
    [],
  );
  // The home work log has nothing of it either: the work for the peer desk is a part of its own.
  assert.deepEqual(running?.work.forAgent(agentKey.pubkey).attempts(r.id), []);
  // The copy on the relay the request names.
  const copy = new RelayClient({ url: customerRelay.url, logger: silentLogger });
  try {
    await untilAsync(async () => (await results(r.id, copy)).length === 1, 20_000, 'the copy');
  } finally {
    copy.close();
  }
});

test('no price, no invoice; the kind 11998 heartbeat at home only', async () => {
  const r = await request('free');
  await assign(peerDesk, r);
  const result = parseResult(await resultOf(r.id));
  assert.equal(result.amountMsats, undefined);
  assert.equal(invoicesFor(r.id).length, 0);
  await untilAsync(
    async () =>
      (
        await homeReader.query([{ kinds: [DVM_HEARTBEAT_KIND], authors: [agentKey.pubkey] }], {
          timeoutMs: 5000,
        })
      ).length === 1,
    20_000,
    'the heartbeat at home',
  );
  const [beat] = await homeReader.query([{ kinds: [DVM_HEARTBEAT_KIND], authors: [agentKey.pubkey] }]);
  const parsed = parseDvmHeartbeat(beat as NostrEvent);
  assert.equal(parsed.d, 'timmy-echoer');
  assert.equal((parsed.expiresAt ?? 0) - parsed.at, 2 * config.federation.heartbeatSeconds);
  assert.deepEqual(await onPeer([{ kinds: [DVM_HEARTBEAT_KIND], authors: [agentKey.pubkey] }]), []);
});

test('a restart on the same work.sqlite: the recorded result goes out with its invoice, nothing twice', async () => {
  // A crash before the relay took the result: the result (with its invoice) is recorded, not on R.
  await running?.close();
  running = await startAgent((e) => e.kind === ECHO_KIND + 1000);
  await until(() => running?.away[0]?.desks().includes(peerDesk.pubkey) === true, 20_000, 'working again');
  const r = await request('crash me');
  await assign(peerDesk, r, PRICE);
  const part = () => running?.work.forAway(agentKey.pubkey, peerDesk.pubkey);
  await until(() => part()?.outboxItem(r.id, 'result:1') !== undefined, 30_000, 'the result recorded');
  const recorded = part()?.outboxItem(r.id, 'result:1')?.event as NostrEvent;
  assert.equal(recorded.tags.find((t) => t[0] === 'amount')?.[1], String(PRICE));
  assert.deepEqual(await results(r.id), []);
  await running?.close();

  running = await startAgent();
  const delivered = await resultOf(r.id);
  assert.equal(delivered.id, recorded.id, 'the same signed result');
  assert.equal(invoicesFor(r.id).length, 1, 'one invoice');
  // A job delivered before the restart is seen again (its assignment is replayed) and not redone: once a new
  // job's result is out, the old assignments were handled (one subscription, stored events first).
  const next = await request('after restart');
  await assign(peerDesk, next, PRICE);
  await resultOf(next.id);
  for (const id of [r.id, next.id]) {
    assert.equal((await results(id)).length, 1);
    assert.equal(invoicesFor(id).length, 1);
  }
  const all = await onPeer([{ kinds: [ECHO_KIND + 1000], authors: [agentKey.pubkey] }]);
  assert.equal(new Set(all.map((e) => parseResult(e).requestId)).size, all.length, 'one result per job');
});
