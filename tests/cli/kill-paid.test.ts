import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { dataFile } from '../../core/data-dir.ts';
import { silentLogger } from '../../core/logger.ts';
import type { Filter, NostrEvent } from '../../core/nostr.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { startFakeOpenAi } from '../../llm/testing/openai-server.ts';
import { Ledger } from '../../payments/ledger.ts';
import { agentAccount } from '../../payments/treasury.ts';
import { RelayClient } from '../../relay/client.ts';
import { until } from '../../testkit/raw-client.ts';
import {
  demoCustomerWallet,
  FAST_KEYS,
  jobState,
  openTreasury,
  type Running,
  startTimmy,
  tempDataDir,
  withTreasury,
} from './harness.ts';

/**
 * The real `timmy start` with the embedded test-sats wallet, killed with SIGKILL after the customer paid
 * (the payment held in escrow) and before the result: after the restart the job completes once, the escrow
 * is settled once, the agent is paid once, and both ledgers balance with no sats created or lost.
 */
const ENV = {
  TIMMY_RELAY_PORT: '0',
  TIMMY_HTTP_PORT: '0',
  ...FAST_KEYS,
  TIMMY_PAYMENTS_WALLET_RETRY_MS: '300',
};
const CUSTOMER_FUNDS = 1_000_000;

const start = startTimmy;

async function query(relayUrl: string, filter: Filter): Promise<NostrEvent[]> {
  const client = new RelayClient({ url: relayUrl, logger: silentLogger });
  try {
    return await client.query([filter]);
  } finally {
    client.close();
  }
}

test('kill -9 between payment and delivery: resumed, delivered once, paid once, ledgers balanced', async () => {
  const backend = new ScriptedProvider().queue({ hang: true }, 'a poem, after the crash');
  const model = await startFakeOpenAi({ backend });
  const dataDir = await tempDataDir();
  const env = { ...ENV, TIMMY_DATA_DIR: dataDir, TIMMY_LLM_OPENAI_URL: model.url };
  let current: Running | undefined;
  try {
    const first = await start(env);
    current = first.run;
    const request = await generateLocalSigner().signEvent(
      buildJobRequest({ kind: 5050, inputs: [{ data: 'a poem', type: 'text' }] }),
    );
    const client = new RelayClient({ url: first.relayUrl, logger: silentLogger });
    await client.publish(request);
    let bolt11 = '';
    let amount = 0;
    // The job log says awaiting-payment a moment before the feedback is on the relay: wait for the feedback.
    for (let i = 0; i < 300 && !bolt11; i++) {
      for (const e of await client.query([{ kinds: [7000], '#e': [request.id] }])) {
        const a = e.tags.find((t) => t[0] === 'amount');
        if (a?.[2]) {
          bolt11 = a[2];
          amount = Number(a[1]);
        }
      }
      if (!bolt11) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(jobState(dataDir, request.id), 'awaiting-payment');
    client.close();
    assert.ok(bolt11.startsWith('lnbcrt'), 'a regtest invoice');
    const wallet = await demoCustomerWallet(dataDir, first.relayUrl);
    // A hold invoice: the payment is held until the job ends, so this call does not return now.
    wallet.payInvoice({ invoice: bolt11 }).catch(() => {});
    await until(
      () => backend.calls.length === 1 && jobState(dataDir, request.id) === 'executing',
      30_000,
      'paid and executing',
    );
    wallet.close();
    first.run.child.kill('SIGKILL');
    await first.run.exited;

    const second = await start(env);
    current = second.run;
    await until(() => jobState(dataDir, request.id) === 'completed', 30_000, 'completed after the restart');
    const results = await query(second.relayUrl, { kinds: [6050], '#e': [request.id] });
    assert.equal(results.length, 1, 'exactly one result');
    assert.equal(results[0]?.content, 'a poem, after the crash');
    await until(
      () => {
        return withTreasury(dataDir, (t) => t.escrows.get(request.id)?.state === 'settled');
      },
      20_000,
      'escrow settled',
    );
    const paidAgain = await demoCustomerWallet(dataDir, second.relayUrl);
    const balance = (await paidAgain.getBalance()).balanceMsats;
    paidAgain.close();
    second.run.child.kill('SIGINT');
    await second.run.exited;

    assert.equal(balance, CUSTOMER_FUNDS - amount, 'the customer paid once');
    const { treasury, close } = openTreasury(dataDir);
    try {
      assert.ok(treasury.check().ok, JSON.stringify(treasury.check()));
      assert.equal(treasury.holdingsMsats(), amount, 'the instance holds exactly what was paid');
      const earned = treasury.balances().filter((b) => b.account.startsWith('agent:'));
      assert.equal(earned.length, 1, 'one agent earned');
      assert.ok((earned[0]?.balanceMsats ?? 0) > 0 && (earned[0]?.balanceMsats ?? 0) < amount);
      assert.equal(treasury.history(earned[0]?.account ?? agentAccount('?')).length, 1, 'paid once');
    } finally {
      close();
    }
    const db = new Database(dataFile(dataDir, 'wallet'));
    try {
      const check = new Ledger(db).check();
      assert.ok(check.ok, JSON.stringify(check));
    } finally {
      db.close();
    }
  } finally {
    if (current && current.child.exitCode === null) current.child.kill('SIGKILL');
    await model.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
