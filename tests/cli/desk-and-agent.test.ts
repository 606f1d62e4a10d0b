import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkLog } from '../../agents/runtime/work-log.ts';
import { dataFile } from '../../core/data-dir.ts';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { JobClient } from '../../customer/job-client.ts';
import { JobPayer } from '../../customer/payer.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { startFakeOpenAi } from '../../llm/testing/openai-server.ts';
import { RelayClient } from '../../relay/client.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay } from '../../testkit/relay.ts';
import {
  demoCustomerWallet,
  FAST_KEYS,
  firstJson,
  openTreasury,
  type Running,
  spawnTimmy,
  startTimmy,
  tempDataDir,
  withTreasury,
} from './harness.ts';

/**
 * The desk and an agent in two real processes: `timmy start` with quill in `agents.elsewhere`, and
 * `timmy agents run quill`. They share only the relay (one the test runs, so it can hold the result back:
 * the kills land after the model answered and before the result is out). Each is killed with SIGKILL in
 * turn in the middle of one paid job: there is one result, one model call, one payment.
 */

const PERSONAS = {
  agents: [
    { name: 'timmy', displayName: 'Timmy', role: 'coordinator' },
    {
      name: 'quill',
      displayName: 'Quill',
      serves: [{ kind: 5050, handler: 'text-generation', priceMsats: 5000 }],
    },
  ],
};
const CUSTOMER_FUNDS = 1_000_000;

function kill(run: Running): Promise<number | null> {
  run.child.kill('SIGKILL');
  return run.exited;
}

async function runAgent(env: Record<string, string>): Promise<Running> {
  const run = spawnTimmy(['agents', 'run', 'quill', '--json'], env);
  const info = await firstJson(run);
  assert.deepEqual(
    (info.agents as { name: string }[]).map((a) => a.name),
    ['quill'],
  );
  return run;
}

function readWork<T>(dataDir: string, read: (w: WorkLog) => T): T | undefined {
  let work: WorkLog;
  try {
    work = WorkLog.open({ path: dataFile(dataDir, 'work'), readonly: true });
  } catch {
    return undefined; // not created yet
  }
  try {
    return read(work);
  } finally {
    work.close();
  }
}

function deskLog<T>(dataDir: string, read: (log: JobLog) => T): T {
  const log = JobLog.open({ path: dataFile(dataDir, 'jobs'), readonly: true });
  try {
    return read(log);
  } finally {
    log.close();
  }
}

test('desk and agent in separate processes, each killed mid-job: one result, one model call, one payment', async () => {
  let holdResults = true;
  const relay = await startTestRelay({
    policies: [
      (input, next) =>
        holdResults && input.event.kind === 6050
          ? { action: 'reject', message: 'error: the test holds results back for now' }
          : next(),
    ],
  });
  const backend = new ScriptedProvider().queue('one line, written once');
  const model = await startFakeOpenAi({ backend });
  const dataDir = await tempDataDir();
  const personaFile = join(dataDir, 'personas.json');
  await writeFile(personaFile, JSON.stringify(PERSONAS));
  const env: Record<string, string> = {
    ...FAST_KEYS,
    TIMMY_DATA_DIR: dataDir,
    TIMMY_RELAY_URL: relay.url,
    TIMMY_HTTP_PORT: '0',
    TIMMY_AGENTS_PERSONA_FILE: personaFile,
    TIMMY_AGENTS_ELSEWHERE: 'quill',
    TIMMY_LLM_OPENAI_URL: model.url,
    TIMMY_DVM_HEARTBEAT_INTERVAL_MS: '300',
    // Long enough that the desk never gives quill's job to another attempt while quill restarts.
    TIMMY_DVM_AGENT_TIMEOUT_MS: '120000',
    TIMMY_PAYMENTS_WALLET_RETRY_MS: '300',
  };
  const running: Running[] = [];
  const conn = new RelayClient({ url: relay.url, logger: silentLogger });
  try {
    const desk = await startTimmy(env);
    running.push(desk.run);
    running.push(await runAgent(env));

    // A second `timmy agents run quill` on the same data directory is refused while the first runs.
    const twice = spawnTimmy(['agents', 'run', 'quill'], env);
    assert.equal(await twice.exited, 1);
    assert.match(twice.stderr(), /agent "quill" already runs in process \d+/);

    const wallet = await demoCustomerWallet(dataDir, relay.url);
    const client = new JobClient({ relay: conn, signer: generateLocalSigner() });
    const payer = new JobPayer({ wallet, budgetMsats: 100_000 });
    const outcome = client.submit(
      { kind: 5050, inputs: [{ data: 'write one line', type: 'text' }] },
      { timeoutMs: 180_000, payer },
    );
    // The agent records the model's answer and the signed result, and the relay holds the result back.
    const resultSigned = () =>
      readWork(dataDir, (w) =>
        w.db.prepare("SELECT count(*) AS n FROM records WHERE type = 'outbox' AND key = 'result:1'").get(),
      ) as { n: number } | undefined;
    await until(() => (resultSigned()?.n ?? 0) === 1, 60_000, 'the result signed by the agent');
    assert.equal(backend.calls.length, 1);

    // 1. The agent dies with its result unpublished; a new agent process sends the very same event.
    await kill(running.pop() as Running);
    running.push(await runAgent(env));
    // 2. The desk dies too, while the job is in the agent's hands; the result goes out while it is down.
    await kill(desk.run);
    running.splice(running.indexOf(desk.run), 1);
    holdResults = false;
    const out = await outcome;
    assert.equal(out.content, 'one line, written once');
    const desk2 = await startTimmy(env);
    running.push(desk2.run);

    const requestId = out.request.id;
    await until(
      () => deskLog(dataDir, (log) => log.get(requestId)?.state) === 'completed',
      60_000,
      'completed at the desk',
    );
    const settled = (): boolean => {
      return withTreasury(dataDir, (t) => t.escrows.get(requestId)?.state === 'settled');
    };
    await until(settled, 60_000, 'escrow settled');

    const results: NostrEvent[] = await conn.query([{ kinds: [6050], '#e': [requestId] }]);
    assert.equal(results.length, 1, 'one result');
    assert.equal(backend.calls.length, 1, 'one model call');
    const assignments = deskLog(dataDir, (log) =>
      log.entries(requestId).filter((e) => e.entry.type === 'assigned'),
    );
    assert.equal(assignments.length, 1, 'one attempt: the desk never gave the job to another');
    // The agent's own record holds the work; the desk's log holds none of it.
    const effects = readWork(dataDir, (w) => {
      const quill = deskLog(dataDir, (log) => log.get(requestId)?.agent) as string;
      return Object.keys(w.forAgent(quill).effects(requestId)).sort();
    });
    for (const key of ['run:1', 'inputs:1', 'output:1'])
      assert.ok(effects?.includes(key), `${key} in the agent's record: ${effects?.join(', ')}`);
    assert.equal(effects?.filter((k) => k.startsWith('llm:1:')).length, 1, 'one recorded model call');
    assert.equal(
      deskLog(dataDir, (log) =>
        Object.keys(log.get(requestId)?.effects ?? {}).filter((k) => k.startsWith('llm:')),
      ).length,
      0,
      'no model call recorded at the desk',
    );

    const paid = await demoCustomerWallet(dataDir, relay.url);
    const balance = (await paid.getBalance()).balanceMsats;
    paid.close();
    wallet.close();
    const amount = out.payments[0]?.amountMsats ?? 0;
    assert.equal(out.payments.length, 1);
    assert.equal(balance, CUSTOMER_FUNDS - amount, 'the customer paid once');
    const { treasury, close } = openTreasury(dataDir);
    try {
      assert.ok(treasury.check().ok, JSON.stringify(treasury.check()));
      assert.equal(treasury.holdingsMsats(), amount, 'the instance holds exactly what was paid');
      assert.equal(treasury.history('agent:quill').length, 1, 'quill was paid once');
    } finally {
      close();
    }
  } finally {
    conn.close();
    for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await Promise.all(running.map((r) => r.exited));
    await model.close();
    await relay.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
