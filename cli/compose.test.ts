import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import { untilAsync } from '../testkit/until-async.ts';
import type { AgentList } from '../web/api-types.ts';
import { type RunningInstance, startInstance } from './compose.ts';

const APP_ENTRY = join(import.meta.dirname, '..', 'web', 'app', 'main.ts');

describe('startInstance serves the dashboard', () => {
  let dir = '';
  let instance: RunningInstance;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'timmy-compose-'));
    const { config } = loadConfig({
      overrides: {
        dataDir: dir,
        'relay.port': 0,
        'http.port': 0,
        'identity.scryptLogN': 8,
        'payments.enabled': false,
      },
    });
    instance = await startInstance(config, dir, silentLogger);
  });
  after(async () => {
    await instance?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the page, the agents API and (once the app exists) its script', async (t) => {
    assert.equal(instance.dashboardReadOnly, true);
    const page = await fetch(`${instance.localHttpUrl}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<timmy-app>/);
    assert.ok(html.includes('forge@localhost'), 'the noscript fallback lists the agents');

    const agents = (await (await fetch(`${instance.localHttpUrl}/api/agents`)).json()) as AgentList;
    assert.deepEqual(
      agents.agents.map((a) => a.name),
      instance.agents.map((a) => a.persona.name),
    );
    assert.ok(agents.agents.every((a) => a.jobsDone === 0 && typeof a.score === 'number'));

    if (!existsSync(APP_ENTRY)) {
      t.skip('web/app/main.ts does not exist yet (the app is built by another change)');
      return;
    }
    const js = await fetch(`${instance.localHttpUrl}/assets/app.js`);
    assert.equal(js.status, 200, await js.clone().text());
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.ok((await js.text()).length > 1000);
  });

  test('/metrics (the instance registry, to a loopback client) and /readyz (ready once an agent beats)', async () => {
    const res = await fetch(`${instance.localHttpUrl}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    for (const name of [
      'timmy_ws_connections',
      'timmy_agent_health{persona="echo"}',
      'process_cpu_user_seconds_total',
    ])
      assert.ok(text.includes(name), name);
    assert.ok(instance.metrics, 'metrics are on by default');
    let body: { ready: boolean; checks: { name: string }[] } = { ready: false, checks: [] };
    await untilAsync(
      async () => {
        const ready = await fetch(`${instance.localHttpUrl}/readyz`);
        body = (await ready.json()) as typeof body;
        return ready.status === 200;
      },
      60_000,
      '/readyz answering 200',
    );
    assert.deepEqual(
      body.checks.map((c) => c.name),
      ['relay', 'desk', 'agents'],
      'no wallet check with payments off',
    );
  });
});
