import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobLogEntry, JobView } from '../../dvm/job-state.ts';
import { approvalReason, chooseAgent, type LocalAgent } from './dispatch.ts';

const agent = (name: string, c: string): LocalAgent => ({ name, pubkey: c.repeat(64), kinds: [5050] });
const a = agent('a', 'a');
const b = agent('b', 'b');
const c = agent('c', 'c');
const view = (id: string, agentKey?: string) => ({ id, agent: agentKey }) as unknown as JobView;

function deps(o: { tried?: string[]; active?: JobView[]; load?: Record<string, number> } = {}) {
  return {
    log: {
      entries: (): JobLogEntry[] =>
        (o.tried ?? []).map((agentKey, i) => ({
          seq: i,
          at: 0,
          entry: { type: 'assigned', agent: agentKey, attempt: i + 1 },
        })),
      active: () => o.active ?? [],
    },
    liveness: { load: (pk: string) => o.load?.[pk] ?? 0 },
  };
}

test('the least loaded agent gets the job: jobs in hand plus reported load', () => {
  const busy = deps({ active: [view('1'.repeat(64), a.pubkey)], load: { [b.pubkey]: 2 } });
  assert.equal(chooseAgent(view('f'.repeat(64)), [a, b, c], busy), c);
});

test('a reassignment prefers an agent that has not had the job, unless none is left', () => {
  assert.equal(chooseAgent(view('f'.repeat(64)), [a, b], deps({ tried: [a.pubkey] })), b);
  assert.equal(chooseAgent(view('f'.repeat(64)), [a], deps({ tried: [a.pubkey] })), a);
});

test('equal agents share the work: the choice depends on the job, and is stable for a job', () => {
  const ids = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(2, '0').padEnd(64, '7'));
  const picks = ids.map((id) => chooseAgent(view(id), [a, b, c], deps()).name);
  assert.ok(new Set(picks).size > 1, 'not always the same agent');
  assert.deepEqual(
    ids.map((id) => chooseAgent(view(id), [a, b, c], deps()).name),
    picks,
  );
  assert.throws(() => chooseAgent(view(ids[0] as string), [], deps()), /at least one live agent/);
});

test('approval: by kind, or when an agent that needs approval may get the job', () => {
  const dvm = { approvalKinds: [5050], approvalAgents: ['forge'] };
  assert.match(approvalReason(dvm, 5050, ['quill']) ?? '', /kind 5050/);
  assert.match(approvalReason(dvm, 5001, ['quill', 'forge']) ?? '', /may go to forge/);
  assert.equal(approvalReason(dvm, 5001, ['quill']), undefined);
});
