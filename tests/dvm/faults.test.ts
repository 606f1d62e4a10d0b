import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dataFile } from '../../core/data-dir.ts';
import { MemoryLogger, silentLogger } from '../../core/logger.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { transitions } from '../../dvm/job-state.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildJobRequest } from '../../dvm/request.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { RelayServer } from '../../relay/server.ts';
import { SqliteEventStore } from '../../relay/sqlite-store.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay } from '../../testkit/relay.ts';

const text = (data: string) => ({ data, type: 'text' as const });

test('approval: a job of a configured kind waits for the operator; approve and reject work from another process', async () => {
  const relay = await startTestRelay();
  const net = await startTestNetwork({
    relayUrl: relay.url,
    agents: personas([{ name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo' }] }]),
    dvm: { approvalKinds: [ECHO_KIND] },
  });
  const customer = new Customer(relay.url);
  try {
    const pending = customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('needs a yes')] }),
      15_000,
    );
    const cli = JobLog.open({ path: dataFile(net.dataDir, 'jobs') });
    let jobId = '';
    await until(
      () => {
        const s = cli.list({ states: ['awaiting-approval'] })[0];
        jobId = s?.id ?? '';
        return jobId !== '';
      },
      5000,
      'awaiting approval',
    );
    cli.append(jobId, { type: 'approved', by: 'test' });
    const out = await pending;
    assert.equal(out.result?.content, 'needs a yes');
    assert.ok(out.feedback.some((f) => f.tags.some((t) => t[0] === 'status' && /approval/.test(t[2] ?? ''))));
    const view = net.network.log.get(jobId);
    assert.deepEqual(view && transitions(view), [
      'posted',
      'awaiting-approval',
      'posted',
      'assigned',
      'executing',
      'completed',
    ]);

    const declined = customer.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('no')] }), 15_000);
    let second = '';
    await until(
      () => {
        const s = cli.list({ states: ['awaiting-approval'] })[0];
        second = s?.id ?? '';
        return second !== '';
      },
      5000,
      'second awaiting approval',
    );
    cli.append(second, { type: 'rejected', by: 'test', reason: 'not today' });
    cli.close();
    const no = await declined;
    assert.match(no.error ?? '', /the operator declined this job: not today/);
    assert.equal(no.result, undefined);
  } finally {
    customer.close();
    await net.stop();
    await relay.close();
    await removeDir(net.dataDir);
  }
});

test('an agent that stops beating loses its job to another agent serving the kind', async () => {
  const relay = await startTestRelay();
  const llm = new ScriptedProvider();
  // Whoever gets the job first hangs on the model; the second attempt answers.
  llm.queue({ hang: true }, 'second attempt answer');
  const net = await startTestNetwork({
    relayUrl: relay.url,
    agents: personas([
      { name: 'quill', serves: [{ kind: 5050, handler: 'text-generation' }] },
      { name: 'forge', serves: [{ kind: 5050, handler: 'text-generation' }] },
    ]),
    providers: [{ provider: llm, timeoutMs: 60_000 }],
    dvm: { heartbeatIntervalMs: 100, agentTimeoutMs: 600 },
  });
  const customer = new Customer(relay.url);
  try {
    const pending = customer.submit(buildJobRequest({ kind: 5050, inputs: [text('write')] }), 15_000);
    let first: string | undefined;
    await until(
      () => {
        const v = net.network.log.active()[0];
        first = v?.state === 'executing' ? v.agent : undefined;
        return first !== undefined;
      },
      5000,
      'executing',
    );
    const dying = net.network.runtimes.find((w) => w.pubkey === first);
    assert.ok(dying);
    await dying.stop(); // stops beating (and its hung call is abandoned)
    const out = await pending;
    assert.equal(out.result?.content, 'second attempt answer');
    assert.notEqual(out.result?.pubkey, first);
    const view = net.network.log.get(out.request.id);
    assert.deepEqual(view && transitions(view), [
      'posted',
      'assigned',
      'executing',
      'posted',
      'assigned',
      'executing',
      'completed',
    ]);
  } finally {
    customer.close();
    await net.stop();
    await relay.close();
    await removeDir(net.dataDir);
  }
});

test('the relay restarting mid-job: the job still completes and the customer gets one result', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'timmy-relay-'));
  const store = new SqliteEventStore({ path: join(dir, 'relay.sqlite') });
  const relay = await startTestRelay({ store });
  const port = Number(new URL(relay.url).port);
  const llm = new ScriptedProvider();
  llm.queue({ text: 'survived the restart', delayMs: 1500 });
  const net = await startTestNetwork({
    relayUrl: relay.url,
    agents: personas([{ name: 'quill', serves: [{ kind: 5050, handler: 'text-generation' }] }]),
    providers: [{ provider: llm, timeoutMs: 30_000 }],
    dvm: { heartbeatIntervalMs: 200, agentTimeoutMs: 10_000 },
  });
  const customer = new Customer(relay.url);
  let second: RelayServer | undefined;
  const store2 = new SqliteEventStore({ path: join(dir, 'relay.sqlite') });
  try {
    const request = await customer.signer.signEvent(buildJobRequest({ kind: 5050, inputs: [text('go')] }));
    await customer.client.publish(request);
    await until(() => net.network.log.get(request.id)?.state === 'executing', 5000, 'executing');
    await relay.close(); // the relay goes away while the model works
    await new Promise((r) => setTimeout(r, 300));
    // the same relay (same port, same database) comes back
    second = new RelayServer({ store: store2, logger: silentLogger, info: { name: 'r', description: 'r' } });
    await second.listen(port, '127.0.0.1');
    await until(
      () => net.network.log.get(request.id)?.state === 'completed',
      20_000,
      'completed after restart',
    );
    const results = await customer.client.query([{ kinds: [6050], '#e': [request.id] }]);
    assert.equal(results.length, 1);
    assert.equal(results[0]?.content, 'survived the restart');
    assert.equal(llm.calls.length, 1, 'the model was called once');
  } finally {
    customer.close();
    await net.stop();
    await second?.close();
    await store2.close();
    await removeDir(net.dataDir);
    await removeDir(dir);
  }
});

test('a desk round or a job step that throws (the job log busy) is logged, the process lives, and the jobs still complete', async () => {
  const relay = await startTestRelay();
  const logger = new MemoryLogger();
  const net = await startTestNetwork({
    relayUrl: relay.url,
    agents: personas([{ name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo' }] }]),
    dvm: { heartbeatIntervalMs: 100 },
    logger,
  });
  const customer = new Customer(relay.url);
  const log = net.network.log;
  const active = log.active.bind(log);
  const get = log.get.bind(log);
  let busyRounds = 4;
  let busySteps = 2;
  log.active = () => {
    if (busyRounds-- > 0) throw new Error('SQLITE_BUSY: database is locked');
    return active();
  };
  log.get = (id) => {
    if (busySteps > 0 && log.entries(id).length === 1) {
      busySteps--;
      throw new Error('SQLITE_BUSY: database is locked');
    }
    return get(id);
  };
  try {
    const outs = await Promise.all(
      ['one', 'two'].map((t) =>
        customer.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text(t)] }), 20_000),
      ),
    );
    assert.deepEqual(
      outs.map((o) => o.result?.content),
      ['one', 'two'],
    );
    assert.ok(busyRounds < 0 && busySteps === 0, 'the failures happened');
    const failures = logger.records.filter((r) => /round failed|step of job .* failed/.test(r.msg));
    assert.ok(failures.length >= 2, JSON.stringify(logger.records.map((r) => r.msg)));
  } finally {
    customer.close();
    await net.stop();
    await relay.close();
    await removeDir(net.dataDir);
  }
});
