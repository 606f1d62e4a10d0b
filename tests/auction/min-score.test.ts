import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUCTION_OPEN_KIND } from '../../auction/kinds.ts';
import { silentLogger } from '../../core/logger.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import type { LocalSigner } from '../../identity/signer.ts';
import { RelayClient } from '../../relay/client.ts';
import { buildLabel } from '../../reputation/labels.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay } from '../../testkit/relay.ts';

/**
 * reputation.minScore gates invitations (docs/reputation.md): of two agents serving the kind, only the one
 * the desk's own label lifted above the minimum is invited to the auction and does the job; the newcomer
 * (at the prior, 50) is left out.
 */
test('an agent below reputation.minScore for the kind is not invited; one above it is', async () => {
  const relay = await startTestRelay();
  const net = await startTestNetwork({
    relayUrl: relay.url,
    agents: personas([
      { name: 'proven', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 5000 }] },
      { name: 'newcomer', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 1000 }] },
    ]),
    auction: { enabled: true, bidWindowMs: 800, revealGraceMs: 300 },
    reputation: { minScore: 55 },
  });
  const customer = new Customer(relay.url);
  const reader = new RelayClient({ url: relay.url, logger: silentLogger });
  try {
    const desk = net.keys.get('timmy') as LocalSigner;
    const proven = net.pubkeyOf('proven');
    const label = await desk.signEvent(
      buildLabel({
        subject: proven,
        type: 'service-quality',
        createdAt: Math.floor(Date.now() / 1000),
        jobKind: ECHO_KIND,
        quality: 1,
        comment: 'vouched for by the operator',
      }),
    );
    await reader.publish(label);
    await until(
      () => net.network.reputation.score(proven, ECHO_KIND).score > 55,
      20_000,
      'the label counted',
    );
    assert.ok(net.network.reputation.score(net.pubkeyOf('newcomer'), ECHO_KIND).score < 55);
    const out = await customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'who?', type: 'text' }] }),
      30_000,
    );
    assert.equal(out.error, undefined, out.error);
    assert.equal(out.result?.pubkey, proven, 'the cheaper newcomer was not invited');
    const open = net.network.log.get(out.request.id)?.outbox.find((o) => o.key === 'auction:1')?.event;
    assert.ok(open);
    assert.equal(open.kind, AUCTION_OPEN_KIND);
    const invited = open.tags.filter((t) => t[0] === 'bidder').map((t) => t[1]);
    assert.ok(invited.includes(proven));
    assert.ok(!invited.includes(net.pubkeyOf('newcomer')), 'the newcomer is not in the auction');
  } finally {
    customer.close();
    reader.close();
    await net.stop();
    await relay.close();
    await removeDir(net.dataDir);
  }
});
