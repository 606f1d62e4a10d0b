import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { JobLog } from '../dvm/job-log.ts';
import { ScriptedProvider } from '../llm/scripted.ts';
import type { TimmyReply } from '../voice/pipeline-timmy.ts';
import type { InstanceView } from '../web/instance-view.ts';
import { instanceTimmy, type TimmySources } from './compose-talk.ts';

const agent = (
  name: string,
  role: string,
  kinds: number[],
  alive: boolean,
): InstanceView['agents'][number] => ({
  name,
  displayName: name,
  role,
  pubkey: name.padEnd(64, '0'),
  npub: `npub-${name}`,
  about: '',
  kinds,
  local: true,
  alive,
  load: 0,
  lastBeatAt: undefined,
  score: 50,
  scores: {},
});

const view = (): InstanceView => ({
  name: 'Timmy Time',
  version: 'test',
  startedAt: 0,
  relayUrl: 'ws://127.0.0.1:1',
  httpUrl: 'http://127.0.0.1:2',
  domain: 'localhost',
  agents: [
    agent('timmy', 'coordinator', [], true),
    agent('echo', 'worker', [5700], true),
    agent('scribe', 'worker', [5001, 5000], false),
  ],
  peers: [],
  llm: [],
});

async function text(r: TimmyReply): Promise<string> {
  if (typeof r.text === 'string') return r.text;
  let all = '';
  for await (const p of r.text) all += p;
  return all;
}

const owner = { ok: true as const, pubkey: 'b'.repeat(64), owner: true };
const guest = { ok: true as const, pubkey: 'c'.repeat(64), owner: false };
const signal = new AbortController().signal;

describe('instanceTimmy: the answers from the running instance', () => {
  let dir: string;
  let log: JobLog;
  let sources: TimmySources;
  let waiting: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'timmy-talk-'));
    log = JobLog.open({ path: join(dir, 'jobs.sqlite') });
    const key = generateSecretKey();
    for (const content of ['a', 'b']) {
      const request = finalizeEvent({ kind: 5001, created_at: 1, tags: [], content }, key);
      log.append(request.id, { type: 'posted', request });
      if (content === 'b') {
        log.append(request.id, { type: 'approval-required', reason: 'over the limit' });
        waiting = request.id;
      }
    }
    sources = { view, log };
  });
  after(async () => {
    log.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('status counts the live agents and the jobs in flight and waiting', async () => {
    assert.equal(
      await text(await instanceTimmy(sources, guest).status(signal)),
      '1 of 2 agents are alive. 1 job in progress, 1 waiting for your approval.',
    );
  });

  test('balance and approve are for owners; approve takes the job waiting longest', async () => {
    assert.match(await text(await instanceTimmy(sources, guest).balance(signal)), /Only the owners/);
    assert.match(
      await text(await instanceTimmy(sources, guest).approve(undefined, signal)),
      /Only the owners/,
    );
    assert.match(await text(await instanceTimmy(sources, owner).balance(signal)), /Payments are off/);
    assert.match(
      await text(await instanceTimmy(sources, owner).approve('ffffff', signal)),
      /No job starting ffffff/,
    );
    const approved = await text(await instanceTimmy(sources, owner).approve(waiting.slice(0, 8), signal));
    assert.equal(approved, `Approved job ${waiting.slice(0, 6).split('').join(' ')}, kind 5001.`);
    assert.equal(log.get(waiting)?.state, 'posted');
    assert.equal(
      await text(await instanceTimmy(sources, owner).approve(undefined, signal)),
      'No job is waiting for approval.',
    );
  });

  test('a job of a served kind becomes an action for the page; an unserved kind is said so', async () => {
    const timmy = instanceTimmy(sources, guest);
    const job = {
      type: 'submit' as const,
      kind: 5001,
      label: 'a summary',
      input: { data: 'https://example.com/x', type: 'url' as const },
    };
    const r = await timmy.submit(job, signal);
    assert.equal(
      await text(r),
      'Sending a summary job for example.com. Its answer will appear on the chat page.',
    );
    assert.deepEqual(r.action, { type: 'submit-job', kind: 5001, label: 'a summary', input: job.input });
    const no = await timmy.submit({ ...job, kind: 5002, label: 'a translation' }, signal);
    assert.equal(await text(no), 'No agent here does a translation right now.');
    assert.equal(no.action, undefined);
  });

  test('ask: the model streams its answer; without one, Timmy says what it can do', async () => {
    assert.match(await text(await instanceTimmy(sources, guest).ask('why', signal)), /No language model/);
    const llm = new ScriptedProvider().queue({ chunks: ['Because ', 'of physics.'] });
    const r = await instanceTimmy({ ...sources, llm }, guest).ask('why is the sky blue', signal);
    assert.notEqual(typeof r.text, 'string');
    assert.equal(await text(r), 'Because of physics.');
    assert.equal(llm.calls[0]?.messages.at(-1)?.content, 'why is the sky blue');
  });
});
