import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
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
});
