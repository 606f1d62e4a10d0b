import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

/**
 * The guard against forgotten promises: every test file runs under node's test runner (scripts/test.mjs),
 * which fails a file on any unhandled rejection or uncaught exception, during a test or after the last one.
 * Nothing in the project may install a handler that swallows them; these runs keep that holding.
 */
const ROOT = new URL('../..', import.meta.url).pathname;

/** This process's environment without the test runner's marks (a nested run must be a run of its own). */
function runnerEnv(): Record<string, string> {
  const env: Record<string, string> = { TIMMY_TEST: '1' };
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('NODE_TEST')) env[k] = v;
  return env;
}

function runFixture(name: string): { status: number | null; output: string } {
  // The flags scripts/test.mjs gives every test process.
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './tests/setup/network-guard.ts',
      '--test',
      join('tests/fixtures/unhandled', name),
    ],
    { cwd: ROOT, encoding: 'utf8', env: runnerEnv(), timeout: 60_000 },
  );
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

for (const [name, message] of [
  ['rejection-in-test.fixture.ts', /forgotten rejection/],
  ['rejection-after-tests.fixture.ts', /late rejection/],
  ['throw-in-timer.fixture.ts', /uncaught in a timer/],
] as const) {
  test(`a run fails on ${name.replace('.fixture.ts', '').replaceAll('-', ' ')}`, () => {
    const r = runFixture(name);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /# fail [1-9]/);
    assert.match(r.output, message);
  });
}
