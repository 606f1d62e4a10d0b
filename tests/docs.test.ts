import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../cli/main.ts';
import { configFields } from '../core/config.ts';

const root = new URL('..', import.meta.url);
const read = (p: string): string => readFileSync(new URL(p, root), 'utf8');

test('every configuration field and its environment variable is documented', () => {
  const doc = read('docs/CONFIGURATION.md');
  for (const f of configFields()) {
    assert.ok(doc.includes(`\`${f.path}\``), `docs/CONFIGURATION.md lacks field ${f.path}`);
    assert.ok(doc.includes(`\`${f.env}\``), `docs/CONFIGURATION.md lacks variable ${f.env}`);
  }
});

function commands(cmd: Command, prefix: string): { path: string; cmd: Command }[] {
  const out: { path: string; cmd: Command }[] = [];
  for (const sub of cmd.commands) {
    const path = `${prefix} ${sub.name()}`;
    if (sub.commands.length === 0) out.push({ path, cmd: sub });
    out.push(...commands(sub, path));
  }
  return out;
}

test('every CLI command and option is documented in docs/CLI.md', () => {
  const doc = read('docs/CLI.md');
  const io = {
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    env: {},
    cwd: process.cwd(),
    waitForStop: () => new Promise<string>(() => {}),
  };
  const program = buildProgram(io, { code: 0 });
  const all = commands(program, 'timmy');
  assert.ok(all.length >= 6);
  for (const { path, cmd } of all) {
    const args = cmd.registeredArguments.map((a) => `<${a.name()}>`).join(' ');
    const heading = `## \`${[path, args].filter(Boolean).join(' ')}\``;
    assert.ok(doc.includes(heading), `docs/CLI.md lacks the heading ${heading}`);
    const section = doc.slice(doc.indexOf(heading)).split('\n## ')[0] ?? '';
    for (const opt of cmd.options)
      assert.ok(section.includes(opt.long ?? opt.flags), `${path}: option ${opt.flags} undocumented`);
  }
  for (const opt of program.options)
    assert.ok(doc.includes(opt.long ?? opt.flags), `global option ${opt.flags} undocumented`);
});
