import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TimmyMetrics } from '../../observability/metrics.ts';

const DEPLOY = join(import.meta.dirname, '..', '..', 'deploy');
const DASHBOARD = join(DEPLOY, 'grafana', 'dashboards', 'timmy.json');

interface Panel {
  title: string;
  datasource: { type: string; uid: string };
  targets: { expr: string; datasource: { type: string; uid: string } }[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
const panelsOf = (type: string) => dashboard.panels.filter((p) => p.datasource.type === type);

/** Every Prometheus query of the provisioned dashboard names only metrics the registry really exports. */
test('the Grafana dashboard queries only metrics the registry exports', async () => {
  const exported = new Set((await new TimmyMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
  const exprs = panelsOf('prometheus').flatMap((p) =>
    p.targets.map((t) => ({ title: p.title, expr: t.expr })),
  );
  assert.ok(exprs.length >= 6);
  for (const { title, expr } of exprs) {
    const names = expr.match(/\btimmy_[a-z_]+/g) ?? [];
    assert.ok(names.length > 0, `${title}: ${expr} names no timmy metric`);
    for (const name of names) {
      const base = name.replace(/_(bucket|count|sum)$/, '');
      assert.ok(exported.has(name) || exported.has(base), `${title}: ${name} is not exported`);
    }
  }
});

/** Every panel uses a provisioned data source, and the Loki panels select only labels Alloy attaches. */
test('the dashboard uses provisioned data sources, and its log queries only the labels Alloy sets', () => {
  const dir = join(DEPLOY, 'grafana', 'provisioning', 'datasources');
  const provisioned = readdirSync(dir).flatMap((f) =>
    [...readFileSync(join(dir, f), 'utf8').matchAll(/^\s+uid: (\S+)\n\s+type: (\S+)$/gm)].map(
      (m) => `${m[2]}/${m[1]}`,
    ),
  );
  for (const p of dashboard.panels) {
    assert.ok(provisioned.includes(`${p.datasource.type}/${p.datasource.uid}`), `${p.title}: data source`);
    for (const t of p.targets) assert.deepEqual(t.datasource, p.datasource, p.title);
  }
  // deploy/alloy.alloy: service_name from the compose service, level and module from each JSON line.
  const labels = new Set(['service_name', 'level', 'module']);
  const lokiPanels = panelsOf('loki');
  assert.ok(lokiPanels.length >= 1);
  for (const p of lokiPanels) {
    for (const { expr } of p.targets) {
      const selectors = [...expr.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '');
      assert.ok(selectors.length > 0, `${p.title}: ${expr} has a stream selector`);
      for (const selector of selectors) {
        for (const [, label] of selector.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) {
          assert.ok(labels.has(label ?? ''), `${p.title}: ${label} is not a label Alloy sets`);
        }
      }
    }
  }
});
