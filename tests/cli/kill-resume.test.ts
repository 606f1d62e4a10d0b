import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { startFakeOpenAi } from '../../llm/testing/openai-server.ts';
import { RelayClient } from '../../relay/client.ts';
import { until } from '../../testkit/raw-client.ts';
import { FAST_KEYS, jobState, type Running, runTimmy, startTimmy, tempDataDir } from './harness.ts';

/** The real thing: `timmy start` killed with SIGKILL in the middle of a job, then started again. */

/** Payments are off here (this file is about resuming jobs); tests/cli/kill-paid.test.ts kills paid ones. */
const PORTS = { TIMMY_RELAY_PORT: '0', TIMMY_HTTP_PORT: '0', TIMMY_PAYMENTS_ENABLED: 'false' };

const start = startTimmy;

async function kill(run: Running): Promise<void> {
  run.child.kill('SIGKILL');
  await run.exited;
}

async function results(relayUrl: string, request: NostrEvent): Promise<NostrEvent[]> {
  const client = new RelayClient({ url: relayUrl, logger: silentLogger });
  try {
    return await client.query([{ kinds: [request.kind + 1000], '#e': [request.id] }]);
  } finally {
    client.close();
  }
}

async function publish(relayUrl: string, request: NostrEvent): Promise<void> {
  const client = new RelayClient({ url: relayUrl, logger: silentLogger });
  try {
    await client.publish(request);
  } finally {
    client.close();
  }
}

test('kill -9 while the model generates: after the restart the job completes once', async () => {
  const backend = new ScriptedProvider().queue({ hang: true }, 'answer after the crash');
  const model = await startFakeOpenAi({ backend });
  const dataDir = await tempDataDir();
  const env = { ...PORTS, ...FAST_KEYS, TIMMY_DATA_DIR: dataDir, TIMMY_LLM_OPENAI_URL: model.url };
  let current: Running | undefined;
  try {
    const first = await start(env);
    current = first.run;
    const customer = generateLocalSigner();
    const request = await customer.signEvent(
      buildJobRequest({ kind: 5050, inputs: [{ data: 'a poem', type: 'text' }] }),
    );
    await publish(first.relayUrl, request);
    await until(
      () => backend.calls.length === 1 && jobState(dataDir, request.id) === 'executing',
      20_000,
      'executing',
    );
    await kill(first.run);

    const second = await start(env);
    current = second.run;
    await until(() => jobState(dataDir, request.id) === 'completed', 30_000, 'completed after restart');
    const got = await results(second.relayUrl, request);
    assert.equal(got.length, 1, 'exactly one result');
    assert.equal(got[0]?.content, 'answer after the crash');
    assert.equal(backend.calls.length, 2, 'the unanswered call was made again, nothing more');
    await kill(second.run);
  } finally {
    if (current && current.child.exitCode === null) current.child.kill('SIGKILL');
    await model.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('kill -9 while a job awaits approval; `timmy job approve` while down; it runs after the restart', async () => {
  const dataDir = await tempDataDir();
  const env = {
    ...PORTS,
    ...FAST_KEYS,
    TIMMY_DATA_DIR: dataDir,
    TIMMY_DVM_APPROVAL_KINDS: String(ECHO_KIND),
  };
  let current: Running | undefined;
  try {
    const first = await start(env);
    current = first.run;
    const request = await generateLocalSigner().signEvent(
      buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: 'approve me', type: 'text' }] }),
    );
    await publish(first.relayUrl, request);
    await until(() => jobState(dataDir, request.id) === 'awaiting-approval', 20_000, 'awaiting approval');
    await kill(first.run);

    const listed = await runTimmy(['job', 'list', '--state', 'awaiting-approval', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal((JSON.parse(listed.stdout) as { id: string }[])[0]?.id, request.id);
    const approved = await runTimmy(['job', 'approve', request.id.slice(0, 10)], env);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /approved: now posted/);

    const second = await start(env);
    current = second.run;
    await until(() => jobState(dataDir, request.id) === 'completed', 30_000, 'completed after restart');
    const got = await results(second.relayUrl, request);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.content, 'approve me');
    const replay = await runTimmy(['job', 'replay', request.id], env);
    assert.equal(replay.code, 0, replay.stdout + replay.stderr);
    assert.match(
      replay.stdout,
      /posted → awaiting-approval → posted → bidding → assigned → executing → completed/,
    );
    assert.match(replay.stdout, /SAME/);
    await kill(second.run);
  } finally {
    if (current && current.child.exitCode === null) current.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});
