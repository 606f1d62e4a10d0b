import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLogger } from '../../core/logger.ts';
import { encodeNpub } from '../../identity/nip19.ts';
import {
  type AgentMemory,
  jobMemory,
  RECALL_HEADING,
  recallQuery,
  recallSafely,
  withRecalled,
} from './agent-memory.ts';

const request = {
  messages: [
    { role: 'system' as const, content: 'You are Quill.' },
    { role: 'user' as const, content: 'Write a haiku about the sea' },
  ],
};

test('recalled memories go in as a second system message; none: the request unchanged', () => {
  const out = withRecalled(request, ['Alice likes haiku', 'Bob  pays\nin sats']);
  assert.equal(out.messages[0]?.content, 'You are Quill.');
  assert.equal(out.messages[1]?.role, 'system');
  assert.equal(out.messages[1]?.content, `${RECALL_HEADING}\n- Alice likes haiku\n- Bob pays in sats`);
  assert.equal(out.messages[2]?.content, 'Write a haiku about the sea');
  assert.equal(withRecalled(request, []), request);
  const bare = withRecalled({ messages: [{ role: 'user', content: 'hi' }] }, ['x']);
  assert.deepEqual(
    bare.messages.map((m) => m.role),
    ['system', 'user'],
  );
  assert.equal(recallQuery(request), 'Write a haiku about the sea');
});

test('a finished job as an episodic memory; an encrypted one without its text', () => {
  const ev = {
    id: 'a'.repeat(64),
    pubkey: 'b'.repeat(64),
    kind: 5050,
    created_at: 0,
    tags: [],
    content: '',
    sig: '',
  };
  const m = jobMemory({ request: ev, prompt: 'Write a haiku', answer: 'Waves fold', encrypted: false });
  assert.equal(
    m.content,
    `Job of kind 5050 for customer ${encodeNpub(ev.pubkey)}. Asked: Write a haiku Answered: Waves fold`,
  );
  assert.deepEqual(m.meta, { job: ev.id, kind: 5050, customer: ev.pubkey });
  const secret = jobMemory({ request: ev, prompt: 'secret words', answer: 'secret answer', encrypted: true });
  assert.ok(!secret.content.includes('secret'));
});

test('a failing memory never fails the job: the prompt goes without, with a warning', async () => {
  const logger = new MemoryLogger();
  const broken: AgentMemory = {
    recall: async () => {
      throw new Error('disk gone');
    },
    remember: async () => {},
    search: async () => [],
  };
  assert.equal(await recallSafely(broken, 'quill', request, logger), request);
  assert.ok(logger.records.some((e) => e.level === 'warn'));
});
