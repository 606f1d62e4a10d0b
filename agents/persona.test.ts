import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPersonaFile, PersonaFileError, parsePersonaFile } from './persona.ts';

test('the shipped persona file is valid and has one coordinator named timmy', async () => {
  const { personas } = await loadPersonaFile();
  assert.ok(personas.length >= 3);
  assert.deepEqual(
    personas.filter((p) => p.role === 'coordinator').map((p) => p.name),
    ['timmy'],
  );
});

test('defaults are filled in', () => {
  const f = parsePersonaFile({ agents: [{ name: 'solo', displayName: 'Solo', role: 'coordinator' }] });
  assert.equal(f.agents[0]?.about, '');
  assert.deepEqual(f.agents[0]?.identities, []);
});

test('bad persona files are rejected with the field named', () => {
  const cases: [unknown, RegExp][] = [
    [{}, /agents/],
    [{ agents: [] }, /agents/],
    [{ agents: [{ name: 'Bad Name', displayName: 'x', role: 'coordinator' }] }, /agents\.0\.name/],
    [{ agents: [{ name: 'a', displayName: 'A' }] }, /exactly one coordinator/],
    [
      {
        agents: [
          { name: 'a', displayName: 'A', role: 'coordinator' },
          { name: 'a', displayName: 'B' },
        ],
      },
      /duplicate name/,
    ],
    [{ agents: [{ name: 'a', displayName: 'A', role: 'coordinator', extra: 1 }] }, /agents\.0/],
  ];
  for (const [input, re] of cases) {
    assert.throws(
      () => parsePersonaFile(input, 'p.json'),
      (e: unknown) => e instanceof PersonaFileError && re.test(e.message),
    );
  }
});

test('unreadable and non-JSON files give a clear error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'persona-'));
  await assert.rejects(loadPersonaFile(join(dir, 'missing.json')), /cannot read/);
  const bad = join(dir, 'bad.json');
  await writeFile(bad, '{ nope');
  await assert.rejects(loadPersonaFile(bad), /not valid JSON/);
});
