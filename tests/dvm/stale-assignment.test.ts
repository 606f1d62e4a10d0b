import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ProfilePublisher } from '../../agents/profile-publisher.ts';
import { type RunningAgents, startAgents } from '../../cli/compose-agents.ts';
import { configSchema } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { buildAssignment } from '../../dvm/coordination.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { RelayClient } from '../../relay/client.ts';
import { personas, removeDir } from '../../testkit/network.ts';
import { startTestRelay } from '../../testkit/relay.ts';
import { untilAsync } from '../../testkit/until-async.ts';

/**
 * An agent that was away while the desk assigned it a job, took the job back and gave it to another agent
 * finds both assignments on the relay when it starts: it must not run the stale one (the customer would get
 * a second result), and it runs what is still its own.
 */
test('an agent starting up ignores an assignment the desk has since given to another attempt', async () => {
  const relay = await startTestRelay();
  const dataDir = await mkdtemp(join(tmpdir(), 'timmy-stale-'));
  const desk = generateLocalSigner();
  const customer = generateLocalSigner();
  const agentKey = generateLocalSigner();
  const other = generateLocalSigner();
  const deskConn = new RelayClient({ url: relay.url, logger: silentLogger });
  const agentConn = new RelayClient({ url: relay.url, logger: silentLogger, authSigner: agentKey });
  const publisher = new ProfilePublisher({ logger: silentLogger, retryMs: 100 });
  let running: RunningAgents | undefined;
  after(async () => {
    publisher.stop();
    await running?.close();
    deskConn.close();
    agentConn.close();
    await relay.close();
    await removeDir(dataDir);
  });
  const job = async (text: string): Promise<NostrEvent> => {
    const r = await customer.signEvent(
      buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: text, type: 'text' }] }),
    );
    await deskConn.publish(r);
    return r;
  };
  const assign = async (r: NostrEvent, to: string, attempt: number) =>
    deskConn.publish(await desk.signEvent(buildAssignment({ request: r, agent: to, attempt })));

  // While the agent is away: attempt 1 to it, taken back, attempt 2 to another agent.
  const stale = await job('taken back');
  await assign(stale, agentKey.pubkey, 1);
  await assign(stale, other.pubkey, 2);

  const [persona] = personas([{ name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo' }] }]).filter(
    (p) => p.name === 'echo',
  );
  assert.ok(persona);
  running = await startAgents({
    config: configSchema.parse({ dvm: { heartbeatIntervalMs: 200 } }),
    dataDir,
    logger: silentLogger,
    agents: [{ persona, pubkey: agentKey.pubkey, signer: agentKey, client: agentConn }],
    desk: desk.pubkey,
    publisher,
    llm: new ScriptedProvider(),
    personaFile: '(test)',
    copyResults: false,
  });

  // A job still its own, assigned after the start: done.
  const mine = await job('still mine');
  await assign(mine, agentKey.pubkey, 1);
  const resultOf = (r: NostrEvent) =>
    deskConn.query([{ kinds: [ECHO_KIND + 1000], authors: [agentKey.pubkey], '#e': [r.id] }]);
  let done: NostrEvent[] = [];
  await untilAsync(
    async () => {
      done = await resultOf(mine);
      return done.length > 0;
    },
    30_000,
    'the result of the job still its own',
  );
  assert.equal(done[0]?.content, 'still mine');
  assert.deepEqual(await resultOf(stale), [], 'no result for the assignment taken back');
  const feedback = await deskConn.query([{ kinds: [7000], authors: [agentKey.pubkey], '#e': [stale.id] }]);
  assert.deepEqual(feedback, [], 'not even a processing feedback');
});
