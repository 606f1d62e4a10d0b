import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { buildForward } from '../../dvm/forward.ts';
import { FEEDBACK_KIND, FORWARD_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { RelayClient } from '../../relay/client.ts';
import { personas, removeDir, startTestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay } from '../../testkit/relay.ts';
import { untilAsync } from '../../testkit/until-async.ts';

/**
 * Forwarding never runs a job twice (docs/federation.md). A and B peer both ways; only B announces kind 5001
 * (its agent runs elsewhere and is not up). A job of that kind on A is forwarded to B, once; B cannot forward
 * it back (A is in its path), so it waits for its agent and says so, which reaches the customer through A. A
 * forward that names A in its path (what a loop would send) is refused by A, and a forward of a job A already
 * holds changes nothing.
 */
test('A → B → A: the job goes to B once, never back; a looping forward is refused', async () => {
  const ra = await startTestRelay();
  const rb = await startTestRelay();
  const late = [{ name: 'late', serves: [{ kind: 5001, handler: 'extractive-summary' }] }];
  const b = await startTestNetwork({
    relayUrl: rb.url,
    agents: personas(late),
    elsewhere: ['late'],
    federation: { peers: [ra.url] },
  });
  const a = await startTestNetwork({
    relayUrl: ra.url,
    agents: personas([{ name: 'ant', serves: [{ kind: 5700, handler: 'echo' }] }]),
    federation: { peers: [rb.url] },
  });
  const customer = generateLocalSigner();
  const reader = new RelayClient({ url: ra.url, logger: silentLogger });
  const writer = new RelayClient({ url: ra.url, logger: silentLogger });
  try {
    await until(() => (a.network.peers?.desks().length ?? 0) === 1, 20_000, "A finds B's desk");
    const request = await customer.signEvent(
      buildJobRequest({
        kind: 5001,
        inputs: [{ data: 'Some text to summarize. It has sentences.', type: 'text' }],
      }),
    );
    await writer.publish(request);
    await until(() => a.network.log.get(request.id)?.state === 'forwarded', 20_000, 'A forwards the job');
    await until(() => b.network.log.get(request.id) !== undefined, 20_000, 'B takes the job');
    // B waits for its agent (it cannot forward back to A, which is in the path), and the customer hears it on A's relay.
    await untilAsync(
      async () =>
        (
          await reader.query([{ kinds: [FEEDBACK_KIND], '#e': [request.id], authors: [b.pubkeyOf('timmy')] }])
        ).some((f) => /waiting for an agent/.test(f.tags.find((t) => t[0] === 'status')?.[2] ?? '')),
      20_000,
      "B's waiting feedback relayed to A's relay",
    );
    assert.deepEqual(
      b.network.log.entries(request.id).filter((e) => e.entry.type === 'forwarded'),
      [],
      'B did not forward it on',
    );
    // A loop: a forward of the same job back to A, with A in its path.
    const bDesk = b.keys.get('timmy');
    assert.ok(bDesk);
    const loop: NostrEvent = await bDesk.signEvent(
      buildForward({
        request,
        to: a.pubkeyOf('timmy'),
        hops: 2,
        path: [a.pubkeyOf('timmy'), bDesk.pubkey],
        relays: [],
      }),
    );
    const fresh = await customer.signEvent(
      buildJobRequest({ kind: 5001, inputs: [{ data: 'again', type: 'text' }] }),
    );
    const loopFresh = await bDesk.signEvent(
      buildForward({
        request: fresh,
        to: a.pubkeyOf('timmy'),
        hops: 2,
        path: [a.pubkeyOf('timmy'), bDesk.pubkey],
        relays: [],
      }),
    );
    const before = a.network.log.entries(request.id).length;
    await writer.publish(loop);
    await writer.publish(loopFresh);
    // A marker forward after them (not looping) shows A has read both: it becomes a job on A.
    const marker = await customer.signEvent(
      buildJobRequest({ kind: 5700, inputs: [{ data: 'marker', type: 'text' }] }),
    );
    await writer.publish(
      await bDesk.signEvent(
        buildForward({ request: marker, to: a.pubkeyOf('timmy'), hops: 1, path: [bDesk.pubkey], relays: [] }),
      ),
    );
    await until(
      () => a.network.log.get(marker.id) !== undefined,
      20_000,
      'A takes a forward that does not loop',
    );
    assert.equal(
      a.network.log.entries(request.id).length,
      before,
      'the looping forward changed nothing on A',
    );
    assert.equal(a.network.log.get(fresh.id), undefined, 'a looping forward of a new job is refused');
  } finally {
    reader.close();
    writer.close();
    await a.stop();
    await b.stop();
    await ra.close();
    await rb.close();
    await removeDir(a.dataDir);
    await removeDir(b.dataDir);
  }
});

test('a forward the peer relay refuses: a job an agent here serves waits for it instead of failing', async () => {
  const ra = await startTestRelay();
  // B's relay refuses forwards (a policy), as a peer relay that is full or closed to us would.
  const rb = await startTestRelay({
    policies: [
      ({ event }, next) =>
        event.kind === FORWARD_KIND ? { action: 'reject', message: 'blocked: no forwards here' } : next(),
    ],
  });
  const b = await startTestNetwork({
    relayUrl: rb.url,
    agents: personas([{ name: 'bsum', serves: [{ kind: 5001, handler: 'extractive-summary' }] }]),
  });
  const a = await startTestNetwork({
    relayUrl: ra.url,
    // A's own summary agent runs elsewhere and is not up: no live agent here for 5001.
    agents: personas([{ name: 'asum', serves: [{ kind: 5001, handler: 'extractive-summary' }] }]),
    elsewhere: ['asum'],
    federation: { peers: [rb.url] },
  });
  const customer = generateLocalSigner();
  const writer = new RelayClient({ url: ra.url, logger: silentLogger });
  try {
    await until(() => (a.network.peers?.desks().length ?? 0) === 1, 20_000, "A finds B's desk");
    // A counts an agent that never beat as alive for one timeout after it starts: past that, asum is not.
    await until(() => !a.network.isAlive(a.pubkeyOf('asum')), 20_000, 'asum counted down');
    const request = await customer.signEvent(
      buildJobRequest({ kind: 5001, inputs: [{ data: 'Text. More text.', type: 'text' }] }),
    );
    await writer.publish(request);
    await until(
      () => a.network.log.get(request.id)?.outbox.some((o) => o.key === 'waiting-for-agent') === true,
      30_000,
      'A tells the customer the job waits for an agent',
    );
    const view = a.network.log.get(request.id);
    assert.equal(view?.state, 'posted', 'not failed, not forwarded');
    assert.ok(view && 'forward-tried' in view.effects, 'the forward was tried once');
  } finally {
    writer.close();
    await a.stop();
    await b.stop();
    await ra.close();
    await rb.close();
    await removeDir(a.dataDir);
    await removeDir(b.dataDir);
  }
});
