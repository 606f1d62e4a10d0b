import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { demoCustomerWallet, FAST_KEYS, firstJson, runTimmy, spawnTimmy, tempDataDir } from './harness.ts';

/**
 * L402 on a real `timmy start`: a priced route answers 402 with a macaroon and an invoice from the instance's
 * wallet; the demo customer pays it over NWC and gets in with `Authorization: L402 <macaroon>:<preimage>`.
 */
test('timmy start with a priced route: 402, pay the invoice, then 200 with the L402 token', async () => {
  const dataDir = await tempDataDir();
  const env = {
    ...FAST_KEYS,
    TIMMY_DATA_DIR: dataDir,
    TIMMY_RELAY_PORT: '0',
    TIMMY_HTTP_PORT: '0',
    TIMMY_PAYMENTS_L402_ROUTES: '/api/status=2000',
  };
  const run = spawnTimmy(['start', '--json'], env);
  try {
    const info = await firstJson(run);
    const http = String(info.httpUrl);
    const prices = (await (await fetch(`${http}/api/l402`)).json()) as { routes: { priceMsats: number }[] };
    assert.equal(prices.routes[0]?.priceMsats, 2000);
    assert.equal((await fetch(`${http}/healthz`)).status, 200, 'unpriced routes stay free');

    const challenge = await fetch(`${http}/api/status`);
    assert.equal(challenge.status, 402);
    const header = challenge.headers.get('www-authenticate') ?? '';
    const macaroon = /macaroon="([^"]+)"/.exec(header)?.[1];
    const invoice = /invoice="([^"]+)"/.exec(header)?.[1];
    assert.ok(macaroon && invoice?.startsWith('lnbcrt'), header);

    const wallet = await demoCustomerWallet(dataDir, String(info.relayUrl));
    const paid = await wallet.payInvoice({ invoice: invoice ?? '' });
    // A second token bought and never used: its sats are the instance's all the same.
    const unused = /invoice="([^"]+)"/.exec(
      (await fetch(`${http}/api/status`)).headers.get('www-authenticate') ?? '',
    )?.[1];
    await wallet.payInvoice({ invoice: unused ?? '' });
    wallet.close();
    const ok = await fetch(`${http}/api/status`, {
      headers: { authorization: `L402 ${macaroon}:${paid.preimage}` },
    });
    assert.equal(ok.status, 200);
    assert.ok(((await ok.json()) as { agents: unknown[] }).agents.length > 0);
    const forged = await fetch(`${http}/api/status`, {
      headers: { authorization: `L402 ${macaroon}:${'0'.repeat(64)}` },
    });
    assert.equal(forged.status, 401, 'a preimage that does not match the invoice');

    // Both payments are booked in the treasury, into the instance's account, once each.
    let balance:
      | { accounts: { account: string; balanceMsats: number }[]; ledgerBalanced: boolean }
      | undefined;
    for (const end = Date.now() + 20_000; Date.now() < end; ) {
      balance = JSON.parse((await runTimmy(['wallet', 'balance', '--json'], env)).stdout) as typeof balance;
      if (balance?.accounts.find((a) => a.account === 'instance')?.balanceMsats === 4000) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(balance?.accounts.find((a) => a.account === 'instance')?.balanceMsats, 4000);
    assert.equal(balance?.ledgerBalanced, true);
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
