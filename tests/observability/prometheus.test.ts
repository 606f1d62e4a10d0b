import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { untilAsync } from '../../testkit/until-async.ts';
import { FAST_KEYS, firstJson, type Running, runTimmy, spawnTimmy, tempDataDir } from '../cli/harness.ts';

/**
 * A real Prometheus (Debian's `prometheus`, installed by .ci/run) scrapes a running `timmy start` every
 * second while paid echo jobs flow; PromQL through its HTTP API shows the task counter and the latency
 * histograms moving.
 */
const installed = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = installed ? false : 'prometheus is not installed (apt-get install prometheus; .ci/run does)';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('a real Prometheus scrapes /metrics', { skip }, () => {
  let dataDir = '';
  let promDir = '';
  let timmy: Running | undefined;
  let prometheus: ChildProcess | undefined;
  let promUrl = '';
  let promLog = '';
  const env = (): Record<string, string> => ({
    ...FAST_KEYS,
    TIMMY_DATA_DIR: dataDir,
    TIMMY_RELAY_PORT: '0',
    TIMMY_HTTP_PORT: '0',
  });

  /** One PromQL instant query's first value (undefined while the result is empty). */
  async function query(promql: string): Promise<number | undefined> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; data?: { result: { value: [number, string] }[] } };
    assert.equal(body.status, 'success', JSON.stringify(body));
    const value = body.data?.result[0]?.value[1];
    return value === undefined ? undefined : Number(value);
  }

  async function until(promql: string, holds: (v: number) => boolean, what: string): Promise<number> {
    let last: number | undefined;
    await untilAsync(
      async () => {
        last = await query(promql);
        return last !== undefined && holds(last);
      },
      90_000,
      `${what} (last ${String(last)}; prometheus: ${promLog.slice(-500)})`,
    );
    return last ?? Number.NaN;
  }

  before(async () => {
    dataDir = await tempDataDir();
    promDir = await mkdtemp(join(tmpdir(), 'timmy-prometheus-'));
    timmy = spawnTimmy(['start', '--json'], env());
    const info = await firstJson(timmy);
    const target = new URL(String(info.httpUrl)).host;
    const config = join(promDir, 'prometheus.yml');
    await writeFile(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: timmy',
        '    metrics_path: /metrics',
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (d) => {
      promLog += String(d);
    });
    prometheus.stderr?.on('data', (d) => {
      promLog += String(d);
    });
    await untilAsync(
      async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.status === 200,
      60_000,
      'prometheus ready',
    );
  });

  after(async () => {
    for (const child of [prometheus, timmy?.child]) {
      if (!child || child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await rm(promDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  test('timmy_tasks_total and the job, auction latency histograms move while paid jobs flow', async () => {
    await until('up{job="timmy"}', (v) => v === 1, 'the instance scraped and up');
    await until('timmy_ws_connections', (v) => v > 0, 'the relay gauge scraped');
    await until('sum(timmy_agent_health)', (v) => v > 0, 'an agent alive');
    const before = (await query('sum(timmy_tasks_total{status="completed"})')) ?? 0;
    const jobs = 3;
    for (let i = 0; i < jobs; i++) {
      const r = await runTimmy(['job', 'submit', '--kind', '5700', '--json', `scraped ${i}`], env());
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { result: { content: string } }).result.content, `scraped ${i}`);
    }
    await until(
      'sum(timmy_tasks_total{status="completed",persona="echo"})',
      (v) => v >= before + jobs,
      'timmy_tasks_total counting the completed jobs',
    );
    await until(
      'sum(timmy_job_duration_seconds_count{kind="5700",status="completed"})',
      (v) => v >= jobs,
      'the job latency histogram counting them',
    );
    await until('sum(timmy_auction_duration_seconds_count)', (v) => v >= jobs, 'the auction histogram');
    await until('sum(timmy_payments_total)', (v) => v >= jobs, 'the payments counter');
    const p90 = await query('histogram_quantile(0.9, sum by (le) (timmy_job_duration_seconds_bucket))');
    assert.ok(p90 !== undefined && p90 > 0 && Number.isFinite(p90), `a job latency quantile: ${p90}`);
    assert.ok(((await query('sum(timmy_relay_events_accepted_total)')) ?? 0) > 0);
  });
});
