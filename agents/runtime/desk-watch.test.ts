import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { buildAssignment } from '../../dvm/coordination.ts';
import { buildFeedback } from '../../dvm/feedback.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { RelayClient } from '../../relay/client.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { DeskWatch } from './desk-watch.ts';
import { RelayLookups } from './relay-lookups.ts';

/** What an agent learns from its desk through the relay, with a real relay and events signed as a desk would. */
let relay: TestRelay;
let deskConn: RelayClient;
let agentConn: RelayClient;
const desk = generateLocalSigner();
const impostor = generateLocalSigner();
const agent = generateLocalSigner();
const other = generateLocalSigner();
const customer = generateLocalSigner();
const assigned: NostrEvent[] = [];
let watch: DeskWatch;

before(async () => {
  relay = await startTestRelay();
  deskConn = new RelayClient({ url: relay.url, logger: silentLogger });
  agentConn = new RelayClient({ url: relay.url, logger: silentLogger });
  watch = new DeskWatch({
    relay: agentConn,
    desk: desk.pubkey,
    agent: agent.pubkey,
    kinds: [ECHO_KIND],
    lookups: new RelayLookups(agentConn),
    logger: silentLogger,
    onAssignment: (e) => assigned.push(e),
  });
  watch.start(Math.floor(Date.now() / 1000) - 60);
});
after(async () => {
  watch.stop();
  deskConn.close();
  agentConn.close();
  await relay.close();
});

const request = () =>
  customer.signEvent(buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'x', type: 'text' }] }));
const assign = (r: NostrEvent, to: string, attempt: number, by = desk) =>
  by.signEvent(buildAssignment({ request: r, agent: to, attempt }));

test('its own assignments are handed over, and the request is known without asking the relay', async () => {
  const r = await request();
  await deskConn.publish(r);
  await deskConn.publish(await assign(r, agent.pubkey, 1));
  await until(() => assigned.length === 1, 10_000, 'the assignment');
  assert.equal(assigned[0]?.tags.find((t) => t[0] === 'e')?.[1], r.id);
  assert.equal((await watch.request(r.id))?.id, r.id);
  assert.equal(watch.noLongerMine(r.id, 1), undefined, 'still this attempt’s');
});

test('a later attempt given to another agent, or the desk ending the job, takes it away; nobody else’s word does', async () => {
  const moved = await request();
  await deskConn.publish(moved);
  await deskConn.publish(await assign(moved, agent.pubkey, 1));
  await deskConn.publish(await assign(moved, other.pubkey, 2));
  await until(() => watch.noLongerMine(moved.id, 1) !== undefined, 10_000, 'the news of attempt 2');
  assert.equal(watch.noLongerMine(moved.id, 1), 'the desk assigned attempt 2');
  assert.equal(watch.noLongerMine(moved.id, 2), undefined);

  const ended = await request();
  await deskConn.publish(ended);
  await deskConn.publish(await assign(ended, agent.pubkey, 1));
  // Someone else's error feedback and a forged assignment change nothing.
  await deskConn.publish(
    await impostor.signEvent(buildFeedback({ request: ended, status: 'error', message: 'lies' })),
  );
  await deskConn.publish(await assign(ended, other.pubkey, 5, impostor));
  await deskConn.publish(
    await desk.signEvent(
      buildFeedback({ request: ended, status: 'error', message: 'gave up after 3 attempts' }),
    ),
  );
  await until(() => watch.noLongerMine(ended.id, 1) !== undefined, 10_000, 'the desk’s error');
  assert.equal(watch.noLongerMine(ended.id, 1), 'the desk ended the job: gave up after 3 attempts');
});

test('a request the subscription never brought is read from the relay', async () => {
  const old = await customer.signEvent(
    buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'old', type: 'text' }], createdAt: 1_600_000_000 }),
  );
  await deskConn.publish(old);
  assert.equal((await watch.request(old.id))?.id, old.id);
  assert.equal(await watch.request('f'.repeat(64)), undefined);
});

test('synced: once the relay has sent what the desk published while the agent was away, noLongerMine knows it', async () => {
  const r = await customer.signEvent(
    buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'while away', type: 'text' }] }),
  );
  await deskConn.publish(r);
  await deskConn.publish(await assign(r, agent.pubkey, 1));
  await deskConn.publish(await assign(r, other.pubkey, 2));
  // A restarted agent: a new watch, following from before those events.
  const conn = new RelayClient({ url: relay.url, logger: silentLogger });
  const late = new DeskWatch({
    relay: conn,
    desk: desk.pubkey,
    agent: agent.pubkey,
    kinds: [ECHO_KIND],
    lookups: new RelayLookups(conn),
    logger: silentLogger,
    onAssignment: () => {},
  });
  try {
    late.start(Math.floor(Date.now() / 1000) - 60);
    await late.synced;
    assert.equal(late.noLongerMine(r.id, 1), 'the desk assigned attempt 2');
  } finally {
    late.stop();
    conn.close();
  }
  await late.synced; // stays resolved after stop
});
