import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type EmbeddedWallet, startEmbeddedWallet } from '../../testkit/embedded-wallet.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { untilAsync } from '../../testkit/until-async.ts';
import { FAST_KEYS, firstJson, type Running, runTimmy, spawnTimmy, tempDataDir } from './harness.ts';

/**
 * The "done when", through the real binary: two instances started with `--peer` (each other's relay)
 * federate. `timmy peers` on each shows the other; a summary submitted to A is won in A's auction by B's
 * cheaper agent, delivered and paid (the customer pays A, A pays B's agent); `timmy rep` on A shows that
 * agent's score rising, with its explanation. Both instances and the customer use one embedded wallet
 * service over NWC (test sats route only within one service).
 */
const SUMMARY = 5001;
let wallets: EmbeddedWallet;
let walletRelay: TestRelay;
let a: Running;
let b: Running;
const env: Record<string, Record<string, string>> = {};
const peerOf: Record<string, string> = {};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

async function instance(name: string, port: number, peerPort: number, priceMsats: number): Promise<Running> {
  const dataDir = await tempDataDir();
  const personaFile = join(dataDir, '..', `${name}-personas-${port}.json`);
  await writeFile(
    personaFile,
    JSON.stringify({
      agents: [
        { name: 'timmy', displayName: `Timmy ${name}`, role: 'coordinator' },
        {
          name: `${name}-sage`,
          displayName: `Sage ${name}`,
          serves: [{ kind: SUMMARY, handler: 'extractive-summary', priceMsats }],
        },
      ],
    }),
  );
  env[name] = {
    ...FAST_KEYS,
    TIMMY_DATA_DIR: dataDir,
    TIMMY_RELAY_PORT: String(port),
    TIMMY_HTTP_PORT: '0',
    TIMMY_AGENTS_PERSONA_FILE: personaFile,
    TIMMY_PAYMENTS_WALLET: 'nwc',
    TIMMY_PAYMENTS_NWC_URL: wallets.connect(`instance ${name}`).url,
    TIMMY_DVM_HEARTBEAT_INTERVAL_MS: '300',
    TIMMY_AUCTION_BID_WINDOW_MS: '2000',
    TIMMY_LOG_LEVEL: 'warn',
  };
  peerOf[name] = `ws://127.0.0.1:${peerPort}`;
  const run = spawnTimmy(['start', '--peer', peerOf[name], '--json'], env[name]);
  await firstJson(run, 120_000);
  return run;
}

before(async () => {
  walletRelay = await startTestRelay();
  wallets = await startEmbeddedWallet({ relayUrl: walletRelay.url });
  const [portA, portB] = [await freePort(), await freePort()];
  a = await instance('a', portA, portB, 9000);
  b = await instance('b', portB, portA, 1000);
});

after(async () => {
  for (const r of [a, b]) {
    if (r && r.child.exitCode === null) {
      r.child.kill('SIGTERM');
      await r.exited;
    }
  }
  await wallets.close();
  await walletRelay.close();
});

test('two instances started with --peer: each sees the other, a job on A is won, delivered and paid by B, and its score rises', async () => {
  type Peers = {
    desks: { name: string }[];
    agents: { name: string; pubkey: string; npub?: string; alive: boolean }[];
  };
  let peersOfA: Peers = { desks: [], agents: [] };
  await untilAsync(
    async () => {
      const r = await runTimmy(['peers', '--peer', peerOf.a ?? '', '--wait', '3000', '--json'], env.a ?? {});
      peersOfA = JSON.parse(r.stdout || '{}') as Peers;
      return peersOfA.agents?.some((x) => x.name.startsWith('b-sage') && x.alive) === true;
    },
    90_000,
    "A's timmy peers shows B's live agent",
  );
  const peersOfB = JSON.parse(
    (await runTimmy(['peers', '--peer', peerOf.b ?? '', '--wait', '3000', '--json'], env.b ?? {})).stdout,
  ) as Peers;
  assert.ok(
    peersOfB.desks.some((d) => d.name === 'Timmy a'),
    "B's timmy peers shows A's desk",
  );
  const bee = peersOfA.agents.find((x) => x.name.startsWith('b-sage'));
  assert.ok(bee);
  const balanceOfB = (): number => wallets.service.balances().connections['instance b'] ?? 0;
  const before = balanceOfB();
  const customer = wallets.connect('customer', 10_000_000).url;
  const text =
    'Two instances share work. The cheaper agent wins the auction. It is paid over Lightning. Its reputation grows.';
  // The peer's agent must be on A's roster (it beats on A's relay) before the auction opens.
  let out: { result?: { from: string; content: string }; error?: string; payments: { state: string }[] } = {
    payments: [],
  };
  await untilAsync(
    async () => {
      const r = await runTimmy(
        ['job', 'submit', '--kind', String(SUMMARY), '--nwc', customer, '--json', text],
        env.a ?? {},
      );
      out = JSON.parse(r.stdout) as typeof out;
      return out.result?.from === bee.pubkey;
    },
    120_000,
    "a job on A won by B's agent",
  );
  assert.equal(out.error, undefined);
  assert.ok(out.payments.some((p) => p.state === 'paid'));
  await untilAsync(async () => balanceOfB() > before, 60_000, "B's wallet paid by A");
  const rep = await runTimmy(['rep', bee.pubkey, '--kind', String(SUMMARY), '--json'], env.a ?? {});
  assert.equal(rep.code, 0, rep.stderr);
  const score = JSON.parse(rep.stdout) as { score: number; explanation: unknown };
  assert.ok(score.score > 50, `score ${score.score}`);
  const human = await runTimmy(['rep', bee.pubkey], env.a ?? {});
  assert.match(human.stdout, /work-completed/);
});
