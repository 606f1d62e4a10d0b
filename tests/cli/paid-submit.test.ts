import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { FAST_KEYS, runTimmy, startTimmy, tempDataDir } from './harness.ts';

/** `npm start`'s network charges for every job, and `timmy job submit` pays from the demo wallet. */
test('timmy job submit pays the invoice from the demo test-sats wallet; --no-pay and --max-pay refuse', async () => {
  const dataDir = await tempDataDir();
  const env = { ...FAST_KEYS, TIMMY_DATA_DIR: dataDir, TIMMY_RELAY_PORT: '0', TIMMY_HTTP_PORT: '0' };
  const { run } = await startTimmy(env);
  try {
    const paid = await runTimmy(['job', 'submit', '--kind', '5700', '--json', 'paid hello'], env);
    assert.equal(paid.code, 0, paid.stderr);
    const out = JSON.parse(paid.stdout) as {
      feedback: { status: string }[];
      payments: { amountMsats: number; state: string }[];
      result: { content: string };
    };
    assert.equal(out.result.content, 'paid hello');
    assert.ok(out.feedback.some((f) => f.status === 'payment-required'));
    assert.equal(out.payments.length, 1);
    assert.equal(out.payments[0]?.state, 'paid');

    const human = await runTimmy(['job', 'submit', '--kind', '5700', '--rate', '0.9', 'again'], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stderr, /\[payment-required\] .*test sats\)/);
    assert.match(
      human.stderr,
      /rated the agent 0\.9 \(label [0-9a-f]{64}\)/,
      'the customer labels the agent',
    );
    const badRate = await runTimmy(['job', 'submit', '--kind', '5700', '--rate', '2', 'x'], env);
    assert.equal(badRate.code, 2);
    assert.match(badRate.stderr, /--rate must be a number from 0 to 1/);

    const noPay = await runTimmy(['job', 'submit', '--kind', '5700', '--no-pay', 'free?'], env);
    assert.equal(noPay.code, 1);
    assert.match(noPay.stderr, /not paying \(--no-pay\)/);
    const tooDear = await runTimmy(['job', 'submit', '--kind', '5700', '--max-pay', '10', 'cheap?'], env);
    assert.equal(tooDear.code, 1);
    assert.match(tooDear.stderr, /above --max-pay 10 msats/);

    // One agent serves kind 5700 (echo): with a --bid (the most the customer pays in all) it still gets its
    // result, at echo's listed price plus the fee, not at the ceiling; encrypted to echo as well.
    const amount = out.payments[0]!.amountMsats;
    for (const extra of [[], ['--to', 'echo', '--encrypt']]) {
      const bid = await runTimmy(
        ['job', 'submit', '--kind', '5700', '--bid', '1000000', ...extra, '--json', 'bid hello'],
        env,
      );
      assert.equal(bid.code, 0, bid.stderr);
      const b = JSON.parse(bid.stdout) as typeof out;
      assert.equal(b.result.content, 'bid hello');
      assert.equal(b.payments.length, 1);
      assert.equal(b.payments[0]?.amountMsats, amount, 'the listed price and the fee, as without a bid');
    }

    const balance = JSON.parse((await runTimmy(['wallet', 'balance', '--json'], env)).stdout) as {
      testSats: boolean;
      holdingsMsats: number;
      ledgerBalanced: boolean;
    };
    assert.equal(balance.testSats, true);
    assert.equal(balance.ledgerBalanced, true);
    assert.equal(balance.holdingsMsats, 4 * amount, 'four jobs paid and settled');
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
