import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateSecretKey } from 'nostr-tools/pure';
import { loadConfig } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import type { Signer } from '../core/signer.ts';
import { LocalSigner } from '../identity/signer.ts';
import { RelayClient } from '../relay/client.ts';
import { untilAsync } from '../testkit/until-async.ts';
import type { AgentList } from '../web/api-types.ts';
import { type RunningInstance, startInstance } from './compose.ts';

const APP_ENTRY = join(import.meta.dirname, '..', 'web', 'app', 'main.ts');

/** An instance on free ports in a fresh directory, with `overrides` over the test defaults. */
async function startIn(
  prefix: string,
  overrides: Record<string, unknown>,
): Promise<{ dir: string; instance: RunningInstance }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const { config } = loadConfig({
    overrides: { dataDir: dir, 'relay.port': 0, 'http.port': 0, 'identity.scryptLogN': 8, ...overrides },
  });
  return { dir, instance: await startInstance(config, dir, silentLogger) };
}

describe('startInstance serves the dashboard', () => {
  let dir = '';
  let instance: RunningInstance;
  before(async () => {
    ({ dir, instance } = await startIn('timmy-compose-', { 'payments.enabled': false }));
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

describe('startInstance: the relay does not rate-limit the instance’s own keys once authenticated', () => {
  let dir = '';
  let instance: RunningInstance;
  before(async () => {
    // One event a second for everyone: the agents' own start-up publishes already exceed it.
    ({ dir, instance } = await startIn('timmy-compose-limits-', {
      'relay.limits.eventsPerSecond': 1,
      'relay.limits.eventsBurst': 2,
    }));
  });
  after(async () => {
    await instance?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('an agent key publishes 20 events at once through its own relay; a stranger is limited', async () => {
    const agent = instance.agents[0];
    assert.ok(agent);
    const own = new RelayClient({
      url: instance.localRelayUrl,
      logger: silentLogger,
      authSigner: agent.signer,
      ownRelay: true,
    });
    const strangerSigner = new LocalSigner(generateSecretKey());
    const stranger = new RelayClient({
      url: instance.localRelayUrl,
      logger: silentLogger,
      authSigner: strangerSigner,
      ownRelay: true,
    });
    try {
      const note = (s: Signer, i: number) =>
        s.signEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: `n${i}` });
      const mine = await Promise.all(Array.from({ length: 20 }, (_, i) => note(agent.signer, i)));
      await Promise.all(mine.map((e) => own.publish(e)));
      const theirs = await Promise.all(Array.from({ length: 6 }, (_, i) => note(strangerSigner, i)));
      const outcomes = await Promise.allSettled(theirs.map((e) => stranger.publish(e)));
      const refused = outcomes.filter((o) => o.status === 'rejected');
      assert.ok(refused.length >= 3, `${refused.length} of 6 refused`);
      for (const r of refused) assert.match(String(r.reason), /rate-limited: /);
    } finally {
      own.close();
      stranger.close();
    }
  });
});
