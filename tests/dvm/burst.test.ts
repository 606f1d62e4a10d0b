import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataFile } from '../../core/data-dir.ts';
import { MemoryLogger, silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { ECHO_KIND, FEEDBACK_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { MemoryLightning, MemoryWallet } from '../../payments/memory-wallet.ts';
import { RelayClient } from '../../relay/client.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { startTestRelay } from '../../testkit/relay.ts';
import { untilAsync } from '../../testkit/until-async.ts';

/**
 * Many customers at once, on the default shape (auctions and payments on, the relay's default limit of 32
 * subscriptions per connection): a burst of unpaid requests must not kill the instance, and neither must a
 * restart with hundreds of unfinished jobs. Every job gets its answer; an unhandled rejection anywhere would
 * fail this file (node's test runner, see tests/setup/unhandled.test.ts).
 */

const agents = personas([{ name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 1000 }] }]);

async function network(relayUrl: string, wallet: MemoryWallet, logger: MemoryLogger, previous?: TestNetwork) {
  return startTestNetwork({
    relayUrl,
    agents,
    keys: previous?.keys,
    dataDir: previous?.dataDir,
    auction: { enabled: true, bidWindowMs: 300, revealGraceMs: 200 },
    payments: { wallet, config: { feePct: 10, minPriceMsats: 1000, maxUnpaidInvoices: 1000 } },
    logger,
  });
}

/** Requests (on the relay) that have the desk's payment-required feedback. */
async function asked(conn: RelayClient, requests: readonly NostrEvent[], desk: string): Promise<number> {
  const seen = new Set<string>();
  for (let i = 0; i < requests.length; i += 100) {
    const ids = requests.slice(i, i + 100).map((r) => r.id);
    for (const e of await conn.query([{ kinds: [FEEDBACK_KIND], authors: [desk], '#e': ids }], {
      timeoutMs: 20_000,
    }))
      if (e.tags.some((t) => t[0] === 'status' && t[1] === 'payment-required'))
        seen.add(e.tags.find((t) => t[0] === 'e')?.[1] ?? '');
  }
  return seen.size;
}

test('40 unpaid requests at once, then a restart with 150 unfinished jobs: the instance lives and answers every one', async () => {
  const relay = await startTestRelay({ limits: { eventsPerSecond: 10_000, eventsBurst: 10_000 } });
  const lightning = new MemoryLightning();
  const wallet = new MemoryWallet({ network: lightning, holdInvoices: true });
  const logger = new MemoryLogger();
  const conn = new RelayClient({ url: relay.url, logger: silentLogger });
  let net = await network(relay.url, wallet, logger);
  try {
    await new Promise((r) => setTimeout(r, 600)); // the agent's first heartbeat
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        generateLocalSigner().signEvent(
          buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: `b${i}`, type: 'text' }] }),
        ),
      ),
    );
    await Promise.all(burst.map((r) => conn.publish(r)));
    const desk = net.pubkeyOf('timmy');
    await untilAsync(
      async () => (await asked(conn, burst, desk)) === burst.length,
      60_000,
      'every burst job asked to pay',
    );

    // Down, and 150 more requests come in (and are logged as posted, as a desk that died at once would have).
    await net.stop();
    const backlog = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        generateLocalSigner().signEvent(
          buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: `q${i}`, type: 'text' }] }),
        ),
      ),
    );
    for (const r of backlog) await conn.publish(r);
    const log = JobLog.open({ path: dataFile(net.dataDir, 'jobs') });
    for (const r of backlog) log.append(r.id, { type: 'posted', request: r });
    log.close();
    net = await network(relay.url, wallet, logger, net);
    await untilAsync(
      async () => (await asked(conn, backlog, desk)) === backlog.length,
      90_000,
      'every unfinished job moved on after the restart',
    ).catch(async (err: unknown) => {
      const warnings = logger.records.filter((r) => r.level === 'warn' || r.level === 'error').slice(-20);
      throw new Error(
        `${String(err)}: ${await asked(conn, backlog, desk)} of ${backlog.length} asked to pay; last warnings: ${JSON.stringify(warnings)}`,
      );
    });
    const refused = logger.records.filter((r) => /too many subscriptions/.test(JSON.stringify(r.fields)));
    assert.deepEqual(refused, [], 'the relay never refused a subscription');
  } finally {
    conn.close();
    await net.stop();
    await relay.close();
    await removeDir(net.dataDir);
  }
});
