import assert from 'node:assert/strict';
import { afterEach } from 'node:test';
import type { Config } from '../../core/config.ts';
import { MemoryLogger } from '../../core/logger.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { MemoryLightning, MemoryWallet } from '../../payments/memory-wallet.ts';
import type { Treasury } from '../../payments/treasury.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';

/**
 * A paid network over a real relay with the in-memory wallet (fast, scriptable faults), for
 * paid-jobs.test.ts and paid-faults.test.ts. The same flow over NWC and the embedded wallet service is in
 * embedded-paid-job.test.ts.
 */

export const text = (data: string) => ({ data, type: 'text' as const });
/** What the customer's wallet starts with; the instance's wallet starts empty. */
export const CUSTOMER_FUNDS = 1_000_000;

export interface World {
  relay: TestRelay;
  net: TestNetwork;
  lightning: MemoryLightning;
  wallet: MemoryWallet;
  treasury: Treasury;
  customerWallet: MemoryWallet;
  customer: Customer;
  llm: ScriptedProvider;
  /** What the network logged (warnings explain a failed assertion). */
  logger: MemoryLogger;
  /** Starts the network again on the same keys, data directory, wallet and treasury. */
  start(previous?: TestNetwork): Promise<TestNetwork>;
}

export interface WorldOptions {
  config?: Partial<Config['payments']>;
  holdInvoices?: boolean;
}

/**
 * Call inside a `describe`: returns `world()`, which starts a relay of its own (so no test sees another's
 * jobs), an instance wallet, a funded customer and the network (echo at 2000 msats, quill at 10,000, a 10 %
 * fee). After each test every world is checked (the ledger balanced, treasury and wallet agree, no sats
 * created or lost) and torn down.
 */
export function memoryWorlds(): (opts?: WorldOptions) => Promise<World> {
  const worlds: World[] = [];

  afterEach(async () => {
    for (const w of worlds.splice(0)) {
      try {
        const check = w.treasury.check();
        assert.ok(check.ok, JSON.stringify(check));
        assert.equal(w.treasury.holdingsMsats(), w.wallet.balanceMsats, 'treasury and wallet disagree');
        assert.equal(
          w.wallet.balanceMsats + w.customerWallet.balanceMsats,
          CUSTOMER_FUNDS,
          'sats were created or lost',
        );
      } finally {
        w.customer.close();
        await w.net.stop();
        await removeDir(w.net.dataDir);
        await w.relay.close();
      }
    }
  });

  return async (opts = {}) => {
    const relay = await startTestRelay();
    const lightning = new MemoryLightning();
    const wallet = new MemoryWallet({ network: lightning, holdInvoices: opts.holdInvoices });
    const customerWallet = new MemoryWallet({ network: lightning, balanceMsats: CUSTOMER_FUNDS });
    const llm = new ScriptedProvider();
    const logger = new MemoryLogger();
    const start = (previous?: TestNetwork) =>
      startTestNetwork({
        relayUrl: relay.url,
        agents: personas([
          { name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo', priceMsats: 2000 }] },
          { name: 'quill', serves: [{ kind: 5050, handler: 'text-generation', priceMsats: 10_000 }] },
        ]),
        providers: [{ provider: llm, timeoutMs: 2000 }],
        payments: { wallet, config: { feePct: 10, minPriceMsats: 1000, ...opts.config } },
        logger,
        keys: previous?.keys,
        dataDir: previous?.dataDir,
      });
    const net = await start();
    const customer = new Customer(relay.url, customerWallet);
    const w: World = {
      relay,
      net,
      lightning,
      wallet,
      // The desk's treasury, in its database: the running network's (a restart opens the same file).
      get treasury() {
        return w.net.network.treasury;
      },
      customerWallet,
      customer,
      llm,
      logger,
      start,
    };
    worlds.push(w);
    return w;
  };
}
