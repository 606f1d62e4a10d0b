import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { encodeNpub } from '../../identity/nip19.ts';
import { FakeEmbedder } from '../../memory/fake-embedder.ts';
import { Memories } from '../../memory/memories.ts';
import { VectorStore } from '../../memory/vector-store.ts';
import { CustomerMemory, customerFilter } from './customer-memory.ts';

const hex = (n: number, width = 64): string => n.toString(16).padStart(width, '0');
const ALICE = hex(0xa11ce);
const BOB = hex(0xb0b);
const QUILL = hex(0x9111);
const PEER = hex(0xfee7);

let ids = 0;
function request(customer: string, kind: number, tags: string[][], content = ''): NostrEvent {
  return {
    id: hex(++ids),
    pubkey: customer,
    created_at: 1_700_000_000,
    kind,
    tags,
    content,
    sig: hex(5, 128),
  };
}
function result(req: NostrEvent, agent: string): NostrEvent {
  return { ...request(agent, req.kind + 1000, [['e', req.id]], 'the answer'), pubkey: agent };
}

function setup() {
  const clock = new ManualClock(Date.parse('2026-12-01T10:00:00Z'));
  const log = JobLog.open({ path: ':memory:', clock, groupCommit: false }); // told at each append, not at the turn's end
  const memories = new Memories({
    store: VectorStore.open({ path: ':memory:', logger: silentLogger }),
    embedder: new FakeEmbedder(),
    logger: silentLogger,
    clock,
  });
  const names: Record<string, string> = { [ALICE]: 'Alice' };
  const desk = new CustomerMemory({
    memories,
    agent: 'timmy',
    agentName: (pk) => (pk === QUILL ? 'quill' : undefined),
    nameOf: async (pk) => names[pk],
    logger: silentLogger,
    clock,
  });
  const stop = log.onAppend(desk.appended);
  return {
    clock,
    log,
    memories,
    desk,
    close: async () => {
      stop();
      await desk.stop();
      await memories.close();
      log.close();
    },
  };
}

test('a finished job is remembered in the desk namespace, and one summary per customer kept up to date', async () => {
  const { log, memories, desk, clock, close } = setup();
  // Alice: a plaintext job, paid, done by quill.
  const one = request(ALICE, 5050, [['i', 'Write a haiku about the ocean at low tide', 'text']]);
  log.append(one.id, { type: 'posted', request: one });
  log.append(one.id, { type: 'assigned', agent: QUILL, attempt: 1 });
  log.append(one.id, { type: 'payment-required', amountMsats: 21_000, bolt11: 'lnbc210n1x' });
  log.append(one.id, { type: 'paid' });
  log.append(one.id, { type: 'completed', result: result(one, QUILL), agent: QUILL });
  // A record after the end changes nothing.
  log.append(one.id, { type: 'note', text: 'settled' });
  // Alice again: encrypted, failed at a peer's agent; its ciphertext is never stored.
  clock.advance(86_400_000);
  const two = request(ALICE, 5002, [['p', PEER], ['encrypted']], 'SEALED-CIPHERTEXT-SECRET');
  log.append(two.id, { type: 'posted', request: two });
  log.append(two.id, { type: 'assigned', agent: PEER, attempt: 1 });
  log.append(two.id, { type: 'failed', reason: 'the model timed out' });
  // Bob: cancelled before anyone took it; no payment.
  const three = request(BOB, 5050, [['i', 'Bob secret plan', 'text']]);
  log.append(three.id, { type: 'posted', request: three });
  log.append(three.id, { type: 'cancelled', reason: 'expired' });
  // Not ended: not remembered.
  const four = request(BOB, 5050, [['i', 'still running', 'text']]);
  log.append(four.id, { type: 'posted', request: four });
  await desk.stop();

  const alice = memories.find(customerFilter('timmy', ALICE, 'episodic'));
  assert.equal(alice.length, 2);
  const [enc, plain] = alice;
  assert.match(plain?.content ?? '', /Job of kind 5050 \(text generation\) for customer Alice \(npub1/);
  assert.match(
    plain?.content ?? '',
    /asked "Write a haiku about the ocean at low tide"; done by quill; paid 21 sats\./,
  );
  assert.deepEqual(plain?.meta, {
    customer: ALICE,
    job: one.id,
    kind: 5050,
    outcome: 'completed',
    agent: 'quill',
    sats: 21,
  });
  assert.match(
    enc?.content ?? '',
    /an encrypted request \(its text stays private\); failed by a peer's agent npub1/,
  );
  assert.match(enc?.content ?? '', /no payment asked/);
  for (const m of [...memories.store.iterate()]) assert.doesNotMatch(m.content, /SEALED|CIPHERTEXT/);

  const summaries = memories.find({ agent: 'timmy', kinds: ['semantic'] });
  assert.equal(summaries.length, 2, 'one summary per customer');
  const aliceSummary = memories.find(customerFilter('timmy', ALICE, 'semantic'));
  assert.equal(aliceSummary.length, 1);
  assert.equal(
    aliceSummary[0]?.content,
    `Customer Alice (${encodeNpub(ALICE)}): 2 jobs with this desk since 2026-12-01 (1 completed, 1 failed); kinds 5002 (translation) ×1, 5050 (text generation) ×1; pays by Lightning (21 sats over 1 paid job), 1 job without payment; last seen 2026-12-02. 1 request encrypted.`,
  );
  const bob = memories.find({ agent: 'timmy', meta: { customer: BOB } });
  assert.deepEqual(
    bob.map((m) => m.kind),
    ['semantic', 'episodic'],
  );
  assert.match(
    bob[1]?.content ?? '',
    new RegExp(
      `for customer ${encodeNpub(BOB)} on 2026-12-02: asked "Bob secret plan"; cancelled: expired; no payment asked`,
    ),
  );

  // The same job again (a replayed append, a second listener) is not remembered twice.
  const again = log.get(one.id);
  assert.ok(again);
  await desk.remember(again);
  assert.equal(memories.find(customerFilter('timmy', ALICE, 'episodic')).length, 2);
  assert.match(memories.find(customerFilter('timmy', ALICE, 'semantic'))[0]?.content ?? '', /: 2 jobs/);
  await close();
});

test('a memory that cannot be written is logged; the job log goes on', async () => {
  const { log, memories, desk, close } = setup();
  (memories.embedder as FakeEmbedder).failNext();
  const one = request(ALICE, 5050, [['i', 'hello', 'text']]);
  log.append(one.id, { type: 'posted', request: one });
  log.append(one.id, { type: 'cancelled', reason: 'no agent' });
  await desk.stop();
  assert.equal(log.get(one.id)?.state, 'cancelled');
  assert.equal(memories.stats().pending, 1, 'the episode waits for its embedding; written on the next one');
  await close();
});
