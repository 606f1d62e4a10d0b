#!/usr/bin/env node
// Runs every *.test.ts file of the project with node's test runner (tsx loader, network guard).
// Usage: node scripts/test.mjs [path-substring ...]   (no argument: the whole suite)
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const skip = new Set(['node_modules', '.git', '.timmy', 'coverage']);
const files = [];
(function walk(dir) {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(d.name) || d.name.startsWith('.')) continue;
    const p = join(dir, d.name);
    if (d.isDirectory()) walk(p);
    else if (d.name.endsWith('.test.ts')) files.push(relative(root, p));
  }
})(root);
const wanted = process.argv.slice(2);
const selected = files.sort().filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)));
if (selected.length === 0) {
  console.error(`no test files match ${wanted.join(' ')}`);
  process.exit(1);
}
const args = [
  '--import',
  'tsx',
  '--import',
  './tests/setup/network-guard.ts',
  '--test',
  '--test-concurrency=2',
  // A bound, not a wait: generous, so a file of real processes holds on a machine at load 15 (measured: the CLI start
  // and voice files ran 100-120 s there); a test stuck on a condition still fails.
  '--test-timeout=300000',
  ...selected,
];
const r = spawnSync(process.execPath, args, {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, TIMMY_TEST: '1' },
});
process.exit(r.status ?? 1);
