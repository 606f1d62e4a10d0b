import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TimmyMetrics } from '../../observability/metrics.ts';

const DASHBOARD = join(import.meta.dirname, '..', '..', 'deploy', 'grafana', 'dashboards', 'timmy.json');

/** Every query of the provisioned dashboard names only metrics the registry really exports. */
test('the Grafana dashboard queries only metrics the registry exports', async () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const exported = new Set((await new TimmyMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ title: p.title, expr: t.expr })));
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
