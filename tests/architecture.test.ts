import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';

/**
 * The direction of imports, as docs/ARCHITECTURE.md states it: its folder table (a folder imports only the
 * folders above it), its rules within a folder, and that production code never reaches into test code.
 * Every import of every source file is read, so a new file or folder cannot slip past.
 */

const ROOT = new URL('..', import.meta.url).pathname;
const DOC = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
// tmp/ is git-ignored scratch space (screenshots, bundled test entries), never source.
const SKIP = new Set(['node_modules', '.git', '.timmy', 'coverage', 'docs', 'deploy', 'tmp']);
/** Where test code lives, besides `*.test.ts` files next to the code they test. */
const TEST_ONLY = ['tests', 'testkit', 'bench'];

/** The folders of the table under "Folders and the direction of imports", top first. */
function folderOrder(doc: string): string[] {
  const section = doc.split('## Folders and the direction of imports')[1]?.split('\n## ')[0] ?? '';
  const folders: string[] = [];
  for (const line of section.split('\n')) {
    const m = /^\| `([a-z0-9-]+)\/` \|/.exec(line);
    if (m?.[1]) folders.push(m[1]);
  }
  return folders;
}

/** The "these | never import" rows under the table. */
function forbiddenPairs(doc: string): [string, string][] {
  const section = doc.split('**Rules within a folder**')[1]?.split('\n\n')[1] ?? '';
  const pairs: [string, string][] = [];
  for (const line of section.split('\n')) {
    const m = /^\| `([a-z0-9/-]+?)\/?` \| `([a-z0-9/-]+?)\/?` \|$/.exec(line);
    if (m?.[1] && m[2]) pairs.push([m[1], m[2]]);
  }
  return pairs;
}

function sourceFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(d.name) || d.name.startsWith('.')) continue;
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mjs|js)$/.test(d.name) && !d.name.endsWith('.d.ts')) out.push(relative(ROOT, p));
  }
  return out;
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The specifiers a file imports (comments left out, so a path in a doc comment is not an import). */
function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of code.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec) out.push(spec);
  }
  return out;
}

const topOf = (file: string): string => file.split('/')[0] ?? '';
const isTestCode = (file: string): boolean =>
  file.endsWith('.test.ts') || TEST_ONLY.includes(topOf(file)) || file.startsWith('llm/testing/');

test('docs/ARCHITECTURE.md states the order of every top-level source folder', () => {
  const order = folderOrder(DOC);
  assert.ok(order.length >= 10, `the folder table was not found (${order.join(', ')})`);
  const tops = new Set(
    sourceFiles()
      .map(topOf)
      .filter((t) => !t.includes('.')),
  );
  const missing = [...tops].filter((t) => !order.includes(t));
  assert.deepEqual(missing, [], `folders with code that the table does not list: ${missing.join(', ')}`);
});

test('production code imports only folders above it, never test code, never node:test', () => {
  const order = folderOrder(DOC);
  const rank = new Map(order.map((f, i) => [f, i]));
  const pairs = forbiddenPairs(DOC);
  assert.ok(pairs.length > 0, 'the rules within a folder were not found');
  const problems: string[] = [];
  for (const file of sourceFiles()) {
    const from = topOf(file);
    const test = isTestCode(file);
    for (const spec of importsOf(readFileSync(join(ROOT, file), 'utf8'))) {
      if (!test && (spec === 'node:test' || spec.startsWith('node:assert')))
        problems.push(`${file} imports ${spec} (test code) from production code`);
      if (!spec.startsWith('.')) continue;
      const target = normalize(join(dirname(file), spec));
      const to = topOf(target);
      if (target.startsWith('..')) {
        problems.push(`${file} imports ${spec}, outside the project`);
        continue;
      }
      if (!test && TEST_ONLY.includes(to))
        problems.push(`${file} (production) imports ${target} (test code)`);
      if (from === 'bench' && to === 'tests')
        problems.push(`${file} imports ${target}: bench/ shares testkit/, not tests/`);
      for (const [these, never] of pairs)
        if (file.startsWith(`${these}/`) && target.startsWith(`${never}/`))
          problems.push(`${file} imports ${target}: ${these}/ never imports ${never}/`);
      if (test || from === to) continue;
      const a = rank.get(from);
      const b = rank.get(to);
      if (a === undefined || b === undefined) continue; // the first test reports unlisted folders
      if (b > a) problems.push(`${file} imports ${target}: ${from}/ is above ${to}/ in docs/ARCHITECTURE.md`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the import reader sees every form of import, and no comment', () => {
  const src = [
    "import { a } from '../core/a.ts';",
    "import type { B } from './b.ts';",
    "export { c } from '../dvm/c.ts';",
    "import '../side-effect.ts';",
    "const d = await import('../cli/d.ts');",
    'import {',
    '  e,',
    "} from '../relay/e.ts';",
    "// import { x } from '../tests/x.ts';",
    "/** (agents/desk/coordinator.ts) import { y } from '../bench/y.ts' */",
    "const url = 'https://example.com/x'; // not an import",
  ].join('\n');
  assert.deepEqual(importsOf(src), [
    '../core/a.ts',
    './b.ts',
    '../dvm/c.ts',
    '../side-effect.ts',
    '../cli/d.ts',
    '../relay/e.ts',
  ]);
});
