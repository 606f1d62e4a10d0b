import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { contentHash } from '../../memory/vector-store.ts';
import { runTimmy, tempDataDir } from '../cli/harness.ts';

/**
 * `timmy memory …` through the real binary, with the real offline embedder (each command loads it once in
 * its worker): import, add, search (vector, filtered, hybrid), stats, export and import elsewhere, prune.
 */

interface SearchJson {
  query: string;
  searchMs: number;
  memories: number;
  results: { id: number; agent: string; kind: string; content: string; textRank: number | null }[];
}

const FACTS: [string, string, string][] = [
  ['quill', 'semantic', 'Alice always wants her poems as haiku about the sea.'],
  ['quill', 'episodic', 'Wrote a limerick about a cat for Bob.'],
  ['quill', 'episodic', 'Wrote a limerick about a cat for Bob, second version.'],
  ['seer', 'procedural', 'Summaries work best in three short sentences with the key number first.'],
  ['seer', 'episodic', 'Summarized a quarterly earnings report for Carol.'],
];

function line(agent: string, kind: string, content: string, i: number): string {
  return JSON.stringify({
    v: 1,
    agent,
    kind,
    content,
    contentHash: contentHash(content),
    importance: 0.5,
    createdAt: 1_700_000_000_000 + i,
    accessedAt: 1_700_000_000_000 + i,
    accessCount: 0,
    meta: {},
    model: null,
    dimension: null,
    embedding: null,
  });
}

describe('timmy memory', () => {
  let dataDir = '';
  let env: Record<string, string> = {};
  const timmy = (...args: string[]) => runTimmy(args, env);

  before(async () => {
    dataDir = await tempDataDir();
    env = { TIMMY_DATA_DIR: dataDir, TIMMY_LOG_LEVEL: 'error' };
    const file = join(dataDir, 'seed.jsonl');
    await writeFile(file, `${FACTS.map(([a, k, c], i) => line(a, k, c, i)).join('\n')}\n`);
    const r = await timmy('memory', 'import', file, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { imported: 5, skipped: 0, keptVectors: 0 });
  });

  test('add, then search by meaning (filtered by agent and kind) and hybrid; stats', async () => {
    const add = await timmy(
      'memory',
      'add',
      'Dave pays in sats over Lightning',
      '--agent',
      'timmy',
      '--importance',
      '0.9',
      '--json',
    );
    assert.equal(add.code, 0, add.stderr);
    assert.equal(JSON.parse(add.stdout).kind, 'semantic');
    const [byMeaning, filtered, hybrid, stats] = await Promise.all([
      timmy('memory', 'search', 'what kind of poetry does Alice like', '--json', '-k', '3'),
      timmy('memory', 'search', 'poems', '--agent', 'seer', '--kind', 'episodic', '--json'),
      timmy('memory', 'search', 'limerick', '--hybrid', '--json'),
      timmy('memory', 'stats', '--json'),
    ]);
    for (const r of [byMeaning, filtered, hybrid, stats]) assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(byMeaning.stdout) as SearchJson;
    assert.equal(a.results.length, 3);
    assert.equal(a.results[0]?.content, FACTS[0]?.[2]);
    assert.equal(a.memories, 6);
    assert.ok(a.searchMs < 1000);
    const f = JSON.parse(filtered.stdout) as SearchJson;
    assert.deepEqual(
      f.results.map((r) => [r.agent, r.kind]),
      [['seer', 'episodic']],
    );
    const h = JSON.parse(hybrid.stdout) as SearchJson;
    assert.ok(h.results.slice(0, 2).every((r) => r.content.includes('limerick') && r.textRank !== null));
    const s = JSON.parse(stats.stdout) as {
      total: number;
      pending: number;
      model: string;
      dimension: number;
    };
    assert.deepEqual([s.total, s.pending, s.model, s.dimension], [6, 0, 'use-lite/512', 512]);
  });

  test('export, import into another data directory: the same memories with their vectors; prune to a budget', async () => {
    const out = join(dataDir, 'out.jsonl');
    const exp = await timmy('memory', 'export', '--out', out);
    assert.equal(exp.code, 0, exp.stderr);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 6);
    const other = await tempDataDir();
    const imp = await runTimmy(['memory', 'import', out, '--json'], {
      TIMMY_DATA_DIR: other,
      TIMMY_LOG_LEVEL: 'error',
    });
    assert.equal(imp.code, 0, imp.stderr);
    assert.deepEqual(JSON.parse(imp.stdout), { imported: 6, skipped: 0, keptVectors: 6 });
    const prune = await timmy('memory', 'prune', '--budget', '2', '--agent', 'quill', '--json');
    assert.equal(prune.code, 0, prune.stderr);
    const p = JSON.parse(prune.stdout) as { merged: number; removed: number; kept: Record<string, number> };
    assert.deepEqual(p.kept, { quill: 2 });
    assert.equal(p.removed, 1);
  });

  test('clear errors: a bad kind, a bad budget, a missing or malformed import file', async () => {
    const bad = join(dataDir, 'bad.jsonl');
    await writeFile(bad, '{"v":1,"agent":"x"}\n');
    const [kind, budget, missing, malformed] = await Promise.all([
      timmy('memory', 'add', 'x', '--kind', 'dream'),
      timmy('memory', 'prune', '--budget', '0'),
      timmy('memory', 'import', join(dataDir, 'nope.jsonl')),
      timmy('memory', 'import', bad),
    ]);
    assert.equal(kind.code, 2);
    assert.match(kind.stderr, /--kind: dream is not one of episodic, semantic, procedural/);
    assert.equal(budget.code, 2);
    assert.match(missing.stderr, /no such file/);
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /bad.jsonl: line 1: /);
  });
});
