import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dataFile } from '../../core/data-dir.ts';
import { mintInvoice } from '../../payments/bolt11.ts';
import { agentAccount } from '../../payments/treasury.ts';
import { FAST_KEYS, openTreasury, runTimmy, tempDataDir } from './harness.ts';

/** `timmy wallet …` as a user runs it, on a data directory whose treasury has earnings in it. */
const node = randomBytes(32).toString('hex');
const invoice = (
  amountMsats: number | undefined,
  expirySeconds = 3600,
  timestamp = Math.floor(Date.now() / 1000),
) =>
  mintInvoice({
    nodeSecretKey: node,
    amountMsats,
    description: 'withdraw',
    paymentHash: randomBytes(32).toString('hex'),
    expirySeconds,
    timestamp,
  });

describe('timmy wallet', () => {
  let dataDir: string;
  let env: Record<string, string>;

  before(async () => {
    dataDir = await tempDataDir();
    env = { ...FAST_KEYS, TIMMY_DATA_DIR: dataDir };
    await mkdir(dataDir, { recursive: true });
    const { treasury: t, close } = openTreasury(dataDir);
    t.setMeta('wallet', { alias: 'embedded (test sats)', network: 'regtest', testSats: true });
    t.escrows.record({
      jobId: 'job1',
      customer: 'c'.repeat(64),
      mode: 'before',
      hold: true,
      invoice: 'lnbcrt-job1',
      paymentHash: '1'.repeat(64),
      preimage: '2'.repeat(64),
      amountMsats: 22_000,
      priceMsats: 20_000,
      agent: 'echo',
      expiresAt: 2_000_000_000,
    });
    t.escrows.markPaid('job1');
    t.escrows.markSettled('job1');
    close();
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('balance says test sats and shows every account', async () => {
    const human = await runTimmy(['wallet', 'balance'], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /TEST SATS: not real bitcoin/);
    assert.match(human.stdout, /agent:echo\s+20 sats/);
    assert.match(human.stdout, /instance\s+2 sats/);
    const json = await runTimmy(['wallet', 'balance', '--json'], env);
    const b = JSON.parse(json.stdout) as {
      testSats: boolean;
      holdingsMsats: number;
      ledgerBalanced: boolean;
      accounts: { account: string; balanceMsats: number }[];
    };
    assert.equal(b.testSats, true);
    assert.equal(b.holdingsMsats, 22_000);
    assert.equal(b.ledgerBalanced, true);
    assert.deepEqual(
      b.accounts.find((a) => a.account === agentAccount('echo')),
      { account: 'agent:echo', balanceMsats: 20_000 },
    );
  });

  test('history lists the postings, per account too', async () => {
    const all = JSON.parse((await runTimmy(['wallet', 'history', '--json'], env)).stdout) as {
      from: string;
      to: string;
      amountMsats: number;
    }[];
    assert.deepEqual(
      all.map((p) => [p.from, p.to, p.amountMsats]),
      [
        ['instance', 'agent:echo', 20_000],
        ['lightning', 'instance', 22_000],
      ],
    );
    const echo = await runTimmy(['wallet', 'history', '--account', 'agent:echo'], env);
    assert.match(echo.stdout, /instance → agent:echo {2}earned: job delivered/);
    const nobody = await runTimmy(['wallet', 'history', '--account', 'agent:nobody'], env);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no account "agent:nobody"/);
  });

  test('withdraw queues for approval; approve and reject; bad input is refused with exit code 2', async () => {
    const w = await runTimmy(['wallet', 'withdraw', invoice(5_000), '--from', 'agent:echo', '--json'], env);
    assert.equal(w.code, 0, w.stderr);
    const first = JSON.parse(w.stdout) as { id: number; state: string; amountMsats: number };
    assert.equal(first.state, 'pending');
    assert.equal(first.amountMsats, 5_000);
    // A pasted `lightning:` URI in capitals is stored as the plain invoice a wallet can pay.
    const inv3 = invoice(3_000);
    const second = JSON.parse(
      (
        await runTimmy(
          ['wallet', 'withdraw', ` lightning:${inv3.toUpperCase()}`, '--from', 'agent:echo', '--json'],
          env,
        )
      ).stdout,
    ) as { id: number; invoice: string };
    assert.equal(second.invoice, inv3);
    const listed = JSON.parse(
      (await runTimmy(['wallet', 'withdrawals', '--state', 'pending', '--json'], env)).stdout,
    ) as {
      id: number;
    }[];
    assert.deepEqual(listed.map((x) => x.id).sort(), [first.id, second.id].sort());

    const approved = await runTimmy(['wallet', 'approve', String(first.id)], env);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /approved/);
    const rejected = await runTimmy(
      ['wallet', 'reject', String(second.id), '--reason', 'not now', '--json'],
      env,
    );
    assert.equal((JSON.parse(rejected.stdout) as { state: string; reason: string }).reason, 'not now');
    const again = await runTimmy(['wallet', 'approve', String(second.id)], env);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /is rejected/);
    const missing = await runTimmy(['wallet', 'approve', '999'], env);
    assert.equal(missing.code, 1);

    const balance = JSON.parse((await runTimmy(['wallet', 'balance', '--json'], env)).stdout) as {
      accounts: { account: string; balanceMsats: number }[];
    };
    const of = (a: string) => balance.accounts.find((x) => x.account === a)?.balanceMsats;
    assert.equal(
      of('agent:echo'),
      15_000,
      '5 000 reserved by the approved withdrawal, 3 000 back after the rejection',
    );
    assert.equal(of('withdrawing'), 5_000);

    for (const [args, why] of [
      [['garbage'], /not a valid BOLT11 invoice/],
      [[invoice(undefined)], /has no amount/],
      [[invoice(1000, 60, 1_700_000_000)], /expired/],
      [[invoice(1_000_000), '--from', 'agent:echo'], /holds 15000 msats/],
      [[invoice(1000), '--from', 'agent:nobody'], /no account "agent:nobody"/],
    ] as const) {
      const r = await runTimmy(['wallet', 'withdraw', ...args], env);
      assert.ok(r.code === 2 || r.code === 1, `${args[0].slice(0, 20)}: exit ${r.code}`);
      assert.match(r.stderr, why);
    }
  });

  test('connect stores an NWC connection with its secret encrypted at rest, and refuses a second', async () => {
    const secret = randomBytes(32).toString('hex');
    const url = `nostr+walletconnect://${'ab'.repeat(32)}?relay=${encodeURIComponent('wss://relay.example.com')}&secret=${secret}`;
    const r = await runTimmy(['wallet', 'connect', url, '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(secret), 'the secret is never printed');
    const stored = readFileSync(dataFile(dataDir, 'nwc'), 'utf8');
    assert.ok(!stored.includes(secret));
    assert.match(stored, /relay\.example\.com/);
    const key = readFileSync(join(dataFile(dataDir, 'keys'), 'wallet-nwc.json'), 'utf8');
    assert.ok(!key.includes(secret), 'the key file holds only the encrypted secret');
    assert.match(key, /ncryptsec1/);
    const twice = await runTimmy(['wallet', 'connect', url], env);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /already connected/);
    const bad = await runTimmy(['wallet', 'connect', 'nostr+walletconnect://nope'], env);
    assert.equal(bad.code, 2);
  });

  test('no treasury yet: balance says so, withdraw exits 3', async () => {
    const empty = await tempDataDir();
    try {
      const b = await runTimmy(['wallet', 'balance'], { TIMMY_DATA_DIR: empty });
      assert.equal(b.code, 0);
      assert.match(b.stdout, /no treasury yet/);
      const w = await runTimmy(['wallet', 'withdraw', invoice(1000)], { TIMMY_DATA_DIR: empty });
      assert.equal(w.code, 3);
      assert.ok(!existsSync(dataFile(empty, 'jobs')), 'nothing created');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
