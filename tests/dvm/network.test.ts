import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dataFile } from '../../core/data-dir.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { parseHandlerInfo } from '../../dvm/announcement.ts';
import { JobLog } from '../../dvm/job-log.ts';
import { transitions } from '../../dvm/job-state.ts';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { buildEncryptedJobRequest, buildJobRequest } from '../../dvm/request.ts';
import { ScriptedProvider } from '../../llm/scripted.ts';
import { Customer } from '../../testkit/customer.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';

const text = (data: string) => ({ data, type: 'text' as const });

describe('the DVM network over a real relay', () => {
  let relay: TestRelay;
  let net: TestNetwork;
  let customer: Customer;
  const llm = new ScriptedProvider({ name: 'scripted' });

  before(async () => {
    relay = await startTestRelay();
    net = await startTestNetwork({
      relayUrl: relay.url,
      agents: personas([
        { name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo' }] },
        {
          name: 'seer',
          serves: [
            { kind: 5001, handler: 'extractive-summary' },
            { kind: 5000, handler: 'text-extraction' },
          ],
        },
        {
          name: 'quill',
          serves: [{ kind: 5050, handler: 'text-generation' }],
          systemPrompt: 'You are Quill.',
        },
        {
          name: 'forge',
          serves: [{ kind: 5050, handler: 'text-generation' }],
          systemPrompt: 'You are Forge.',
        },
      ]),
      providers: [{ provider: llm, timeoutMs: 2000 }],
      dvm: { maxInputBytes: 4096 },
    });
    customer = new Customer(relay.url);
  });
  after(async () => {
    customer.close();
    await net.stop();
    await relay.close();
    await removeDir(net.dataDir);
  });

  test('each worker announces its kinds and price hints (NIP-89, kind 31990)', async () => {
    const infos = await customer.client.query([{ kinds: [31990], authors: [net.pubkeyOf('seer')] }]);
    assert.equal(infos.length, 1);
    const info = parseHandlerInfo(infos[0] as NostrEvent);
    assert.deepEqual([...info.kinds].sort(), [5000, 5001]);
    assert.equal(info.metadata.name, 'seer');
    assert.deepEqual(info.pricing.map((p) => p.kind).sort(), [5000, 5001]);
  });

  test('an echo job: processing feedback, then the result, and the job log tells the story', async () => {
    const out = await customer.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('hello, network')] }));
    assert.equal(out.error, undefined);
    assert.equal(out.result?.content, 'hello, network');
    assert.equal(out.result?.kind, ECHO_KIND + 1000);
    assert.equal(out.result?.pubkey, net.pubkeyOf('echo'));
    assert.ok(out.result?.tags.some((t) => t[0] === 'p' && t[1] === customer.signer.pubkey));
    await until(() => net.network.log.get(out.request.id)?.state === 'completed', 5000, 'completed');
    const view = net.network.log.get(out.request.id);
    assert.deepEqual(view && transitions(view), ['posted', 'assigned', 'executing', 'completed']);
  });

  test('an extractive summary (kind 5001) needs no model', async () => {
    const long =
      'Timmy Time is a network of agents. Each agent is an npub with a persona. Agents serve NIP-90 jobs. ' +
      'The coordinator assigns each job to one live agent. Results go back to the customer over the relay. ' +
      'Reputation follows the npub from relay to relay. Payments use Lightning.';
    const out = await customer.submit(
      buildJobRequest({ kind: 5001, inputs: [text(long)], params: { length: '2' } }),
    );
    assert.equal(out.error, undefined, out.error);
    assert.ok(out.result && out.result.content.length > 0 && out.result.content.length < long.length);
  });

  test('malformed requests get an error feedback from Timmy, never silence', async () => {
    const bad = await customer.submit({
      kind: 5001,
      created_at: Math.floor(Date.now() / 1000),
      tags: [
        ['i', 'x', 'carrier-pigeon'],
        ['p', net.pubkeyOf('timmy')],
      ],
      content: '',
    });
    assert.ok(bad.error, 'an error feedback');
    assert.equal(bad.feedback.at(-1)?.pubkey, net.pubkeyOf('timmy'));
    assert.match(bad.error ?? '', /carrier-pigeon/);
    await until(() => net.network.log.get(bad.request.id)?.state === 'failed', 5000, 'failed');
  });

  test('a kind nobody here serves, addressed to us, is answered with what is served', async () => {
    const out = await customer.submit(
      buildJobRequest({ kind: 5999, inputs: [text('x')], providers: [net.pubkeyOf('timmy')] }),
    );
    assert.match(
      out.error ?? '',
      /no agent on this instance serves kind 5999 \(served here: 5000, 5001, 5050, 5700\)/,
    );
  });

  test('a request for someone else, or an unserved kind without p tag, is left alone', async () => {
    const other = await customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [text('x')], providers: ['ab'.repeat(32)] }),
      800,
    );
    const unserved = await customer.submit(buildJobRequest({ kind: 5998, inputs: [text('x')] }), 800);
    for (const o of [other, unserved]) {
      assert.equal(o.feedback.length, 0);
      assert.equal(o.result, undefined);
      assert.equal(net.network.log.get(o.request.id), undefined);
    }
  });

  test('oversized inputs and inputs pointing at missing events are refused with the reason', async () => {
    const big = await customer.submit(buildJobRequest({ kind: ECHO_KIND, inputs: [text('x'.repeat(5000))] }));
    assert.match(big.error ?? '', /4096/);
    const missing = 'a'.repeat(64);
    const ghost = await customer.submit(
      buildJobRequest({ kind: ECHO_KIND, inputs: [{ data: missing, type: 'event' }] }),
    );
    assert.match(ghost.error ?? '', new RegExp(`input event ${missing} was not found`));
    assert.equal(ghost.feedback.at(-1)?.pubkey, net.pubkeyOf('echo'), 'the agent explains');
    await until(() => net.network.log.get(ghost.request.id)?.state === 'failed', 5000, 'failed');
  });

  test('job chaining: a summary of an earlier echo job', async () => {
    const first = await customer.submit(
      buildJobRequest({
        kind: ECHO_KIND,
        inputs: [text('First sentence here. Second sentence there. Third one.')],
      }),
    );
    const second = await customer.submit(
      buildJobRequest({
        kind: 5001,
        inputs: [{ data: first.request.id, type: 'job' }],
        params: { length: '1' },
      }),
    );
    assert.equal(second.error, undefined, second.error);
    assert.ok(second.result?.content.includes('sentence'));
  });

  test('two agents serve 5050: every job is executed exactly once, and work is shared', async () => {
    const n = 8;
    for (let i = 0; i < n; i++) llm.queue({ text: `answer ${i}`, delayMs: 50 });
    const callsBefore = llm.calls.length;
    const outs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        customer.submit(buildJobRequest({ kind: 5050, inputs: [text(`prompt ${i}`)] })),
      ),
    );
    for (const o of outs) assert.equal(o.error, undefined, o.error);
    assert.equal(llm.calls.length - callsBefore, n, 'one model call per job');
    const results = await customer.client.query([{ kinds: [6050], '#e': outs.map((o) => o.request.id) }]);
    assert.equal(results.length, n, 'one result per job');
    const authors = new Set(results.map((r) => r.pubkey));
    assert.deepEqual([...authors].sort(), [net.pubkeyOf('quill'), net.pubkeyOf('forge')].sort());
    const prompts = llm.calls.slice(callsBefore).map((c) => c.messages[0]?.content ?? '');
    assert.ok(
      prompts.every((p) => p === 'You are Quill.' || p === 'You are Forge.'),
      'persona system prompts',
    );
  });

  test('a model that fails is reported to the customer, with the provider named', async () => {
    llm.queue({ garbage: true });
    const out = await customer.submit(buildJobRequest({ kind: 5050, inputs: [text('hi')] }));
    assert.match(out.error ?? '', /scripted/);
  });

  test('encrypted params (NIP-44) to one agent: it decrypts them and answers encrypted', async () => {
    const template = await buildEncryptedJobRequest(
      { kind: ECHO_KIND, inputs: [text('a secret')], provider: net.pubkeyOf('echo') },
      customer.signer,
    );
    assert.ok(!JSON.stringify(template).includes('a secret'));
    const out = await customer.submit(template);
    assert.equal(out.error, undefined, out.error);
    assert.ok(out.result?.tags.some((t) => t[0] === 'encrypted'));
    assert.ok(!out.result?.content.includes('a secret'), 'the result is not in the clear');
    const plain = await customer.signer.nip44.decrypt(net.pubkeyOf('echo'), out.result?.content ?? '');
    assert.equal(plain, 'a secret');
  });

  test('the job log is readable by a second process (the CLI) while the instance runs', () => {
    const reader = JobLog.open({ path: dataFile(net.dataDir, 'jobs'), readonly: true });
    try {
      assert.ok(reader.list({ limit: 100 }).length >= 8);
    } finally {
      reader.close();
    }
  });
});
