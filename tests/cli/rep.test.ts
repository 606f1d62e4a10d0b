import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { encodeNpub } from '../../identity/nip19.ts';
import { mintInvoice, paymentHashOf } from '../../payments/bolt11.ts';
import { RelayClient } from '../../relay/client.ts';
import { buildLabel } from '../../reputation/labels.ts';
import { FakePeer } from '../../testkit/fake-peer.ts';
import { TestKey } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { FAST_KEYS, firstJson, type Running, runTimmy, spawnTimmy, tempDataDir } from './harness.ts';

/**
 * `timmy label` and `timmy rep` as an operator runs them, through the real binary against a real relay: a
 * label signed with the desk's key moves the score and names itself in the explanation, a revocation takes
 * it back, bad labels published by hand are shown with their reasons; then the scores in `timmy agents` and
 * `timmy peers` of a running instance.
 */

interface RepJson {
  subject: string;
  npub: string;
  name: string | null;
  kind: number | null;
  score: number;
  rank: number;
  version: string;
  labels: number;
  kinds: { kind: number; score: number; rank: number; labels: number }[];
  rejected: { id: string; rater: string; code: string; reason: string; createdAt: number }[];
  seeds: string[];
  read: { labels: number; deletions: number; truncated: boolean };
  explanation: {
    counted: { id: string; type: string; notes: string[] }[];
    ignored: { id: string; reason: string; detail: string }[];
  };
}

const NOW = Math.floor(Date.now() / 1000);

describe('timmy label and timmy rep', () => {
  let relay: TestRelay;
  let dataDir = '';
  let env: Record<string, string> = {};
  let desk = '';
  let quill = '';

  const timmy = (...args: string[]) => runTimmy([...args, '--relay', relay.url], env);
  const repJson = async (...args: string[]): Promise<RepJson> => {
    const r = await timmy('rep', ...args, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as RepJson;
  };

  before(async () => {
    relay = await startTestRelay();
    dataDir = await tempDataDir();
    env = { ...FAST_KEYS, TIMMY_DATA_DIR: dataDir, TIMMY_LOG_LEVEL: 'error' };
    const keys = await Promise.all(
      ['timmy', 'quill'].map((name) => runTimmy(['keys', 'new', name, '--json'], env)),
    );
    [desk, quill] = keys.map((k) => {
      assert.equal(k.code, 0, k.stderr);
      return String((JSON.parse(k.stdout) as { pubkey: string }).pubkey);
    }) as [string, string];
  });
  after(async () => {
    await relay.close();
  });

  test('an npub nobody rated: the prior, 50, with "no labels"', async () => {
    const npub = encodeNpub(new TestKey().pubkey);
    const [out, text] = await Promise.all([repJson(npub), timmy('rep', npub)]);
    assert.equal(out.score, 50);
    assert.equal(out.labels, 0);
    assert.deepEqual(out.kinds, []);
    assert.deepEqual(out.rejected, []);
    assert.equal(out.version, 'timmy-rep/1');
    assert.deepEqual(out.seeds, [encodeNpub(desk)], "the desk's key is the seed");
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^${npub} overall: 50 / 100 \\(timmy-rep/1\\), no labels`));
  });

  test('label, then rep: the score rises above the prior, per kind too; a revocation brings it back', async () => {
    const labelled = await timmy('label', 'quill', 'work-completed', '--kind', '5050', '--comment', 'good');
    assert.equal(labelled.code, 0, labelled.stderr);
    const id = labelled.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const [out, text] = await Promise.all([repJson('quill'), timmy('rep', encodeNpub(quill))]);
    assert.equal(out.subject, quill);
    assert.equal(out.name, 'quill');
    assert.ok(out.score > 50, `score ${out.score}`);
    assert.equal(out.labels, 1);
    assert.equal(out.explanation.counted[0]?.id, id);
    assert.equal(out.explanation.counted[0]?.type, 'work-completed');
    assert.deepEqual(
      out.kinds.map((k) => [k.kind, k.labels]),
      [[5050, 1]],
    );

    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^quill \\(${encodeNpub(quill)}\\) overall: ${out.score} / 100`));
    assert.match(text.stdout, /by kind: 5050 \d/);
    assert.match(
      text.stdout,
      new RegExp(`\\+[\\d.]+ work-completed kind 5050 from ${desk.slice(0, 8)}…: .*seed`),
    );
    assert.match(
      text.stdout,
      new RegExp(`the desk's labels counted here .*\\n  ${id} work-completed kind 5050`),
    );

    const [k5050, k5001, kindText] = await Promise.all([
      repJson('quill', '--kind', '5050'),
      repJson(quill, '--kind', '5001'),
      timmy('rep', 'quill', '--kind', '5050'),
    ]);
    assert.equal(k5050.kind, 5050);
    assert.ok(k5050.score > 50, `kind 5050: ${k5050.score}`);
    assert.equal(k5001.score, 50, 'no label for kind 5001');
    assert.match(
      kindText.stdout,
      /quill \(npub1\w+\) for kind 5050: [\d.]+ \/ 100 \(timmy-rep\/1\), 1 label/,
    );

    const revoked = await timmy('label', 'quill', '--revoke', id);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`^revoked label ${id}: deletion [0-9a-f]{64}`));
    const back = await repJson('quill');
    assert.equal(back.score, 50);
    assert.equal(back.labels, 0);
    assert.equal(back.read.deletions, 1);
  });

  test('bad input about an npub: malformed tags, a self-label and an unproven payment, each with its reason', async () => {
    const target = new TestKey();
    const rater = new TestKey();
    const tags = (extra: string[][]) => [
      ['L', 'ai.wot'],
      ['l', 'work-completed', 'ai.wot'],
      ['p', target.pubkey],
      ...extra,
    ];
    const badQuality = new TestKey().sign({ kind: 1985, tags: tags([['quality', '2']]), content: '' });
    const badKind = new TestKey().sign({ kind: 1985, tags: tags([['k', '42']]), content: '' });
    const self = target.sign(buildLabel({ subject: target.pubkey, type: 'general-trust', createdAt: NOW }));
    const invoice = mintInvoice({
      nodeSecretKey: '11'.repeat(32),
      amountMsats: 21_000,
      description: 'job',
      paymentHash: paymentHashOf('ab'.repeat(32)),
      expirySeconds: 3600,
      timestamp: NOW,
    });
    const unpaid = rater.sign(
      buildLabel({
        subject: target.pubkey,
        type: 'work-completed',
        createdAt: NOW,
        payment: { invoice, preimage: 'cd'.repeat(32) },
      }),
    );
    await publish(relay.url, [badQuality, badKind, self, unpaid]);

    const [out, text] = await Promise.all([repJson(target.pubkey), timmy('rep', encodeNpub(target.pubkey))]);
    assert.deepEqual(
      out.rejected.map((r) => [r.id, r.code]).sort(),
      [
        [badQuality.id, 'bad-quality'],
        [badKind.id, 'bad-job-kind'],
        [self.id, 'self-label'],
      ].sort(),
    );
    const counted = out.explanation.counted.find((c) => c.id === unpaid.id);
    assert.ok(counted, 'the label that claims a payment still counts, as unpaid');
    assert.ok(
      counted.notes.some((n) => /payment claimed but not proven: the preimage does not hash/.test(n)),
    );
    assert.ok(out.score > 50 && out.score < 52, `a stranger's unpaid label is worth little: ${out.score}`);

    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /rejected labels about this npub: 3/);
    assert.match(text.stdout, /ignored: self-label: a label about its own author is ignored/);
    assert.match(text.stdout, /ignored: bad-quality: quality "2" is not a number within 0..1/);
    assert.match(text.stdout, /ignored: bad-job-kind: k "42" is not a job kind/);
    assert.match(text.stdout, /payment claimed but not proven: the preimage does not hash/);
    assert.match(text.stdout, /rater is a stranger/);
  });

  test("clear errors: an unknown type, a bad npub, a self-label, a revocation of a label not the desk's", async () => {
    const foreign = new TestKey().sign(buildLabel({ subject: quill, type: 'dispute', createdAt: NOW }));
    await publish(relay.url, [foreign]);
    // Each refused with exit code 2 (usage) or 1 (the relay's label is not the desk's), and why.
    const cases: [string[], number, RegExp][] = [
      [['label', 'quill', 'superb'], 2, /unknown label type "superb" \(service-quality, work-completed,/],
      [['label', 'npub1notanpub', 'warning'], 2, /npub1notanpub is not an npub or a hex pubkey/],
      [['rep', 'nobody-here'], 2, /neither an npub, a hex pubkey nor an agent name/],
      [['label', 'timmy', 'general-trust'], 2, /the desk's own key: a self-label is ignored/],
      [['label', 'quill', 'warning', '--kind', '42'], 2, /between 5000 and 5999/],
      [
        ['label', 'quill', 'service-quality', '--quality', '1.5'],
        2,
        /--quality 1.5 is not a number from 0 to 1/,
      ],
      [['label', 'quill', '--revoke', foreign.id], 1, /only its author can revoke it/],
      [['rep', 'quill', '--kind', '42'], 2, /--kind 42 is not a job kind/],
    ];
    const results = await Promise.all(cases.map(([args]) => timmy(...args)));
    cases.forEach(([args, code, message], i) => {
      const r = results[i];
      assert.equal(r?.code, code, `${args.join(' ')}: ${r?.stderr}`);
      assert.match(r?.stderr ?? '', message, args.join(' '));
    });
  });
});

describe('scores in timmy agents and timmy peers of a running instance', () => {
  let instance: Running;
  let dataDir = '';
  let env: Record<string, string> = {};
  let peerRelay: TestRelay;
  let peer: FakePeer;

  before(async () => {
    peerRelay = await startTestRelay();
    peer = new FakePeer(peerRelay.url, [{ name: 'seer', kinds: [5001] }]);
    await peer.announce();
    dataDir = await tempDataDir();
    env = { ...FAST_KEYS, TIMMY_DATA_DIR: dataDir, TIMMY_LOG_LEVEL: 'error' };
    instance = spawnTimmy(['start', '--json'], {
      ...env,
      TIMMY_RELAY_PORT: '0',
      TIMMY_HTTP_PORT: '0',
      TIMMY_PAYMENTS_ENABLED: 'false',
    });
    await firstJson(instance);
  });
  after(async () => {
    if (instance.child.exitCode === null) {
      instance.child.kill('SIGTERM');
      await instance.exited;
    }
    peer.close();
    await peerRelay.close();
  });

  test("a label on the instance's relay (no --relay) shows in timmy agents and timmy peers", async () => {
    const labelled = await runTimmy(['label', 'echo', 'service-quality', '--quality', '1'], env);
    assert.equal(labelled.code, 0, labelled.stderr);
    const seer = peer.pubkeyOf('seer');
    const peerLabel = await runTimmy(['label', encodeNpub(seer), 'work-completed', '--kind', '5001'], env);
    assert.equal(peerLabel.code, 0, peerLabel.stderr);

    const agents = await runTimmy(['agents', '--json'], env);
    const rows = (JSON.parse(agents.stdout) as { agents: { name: string; score: number | null }[] }).agents;
    const score = (name: string) => rows.find((a) => a.name === name)?.score;
    assert.ok((score('echo') ?? 0) > 50, `echo ${score('echo')}`);
    assert.equal(score('quill'), 50);
    const text = await runTimmy(['agents'], env);
    assert.match(text.stdout, /echo +alive, load \d+ +score [\d.]+ +npub1/);

    const peers = await runTimmy(['peers', '--peer', peerRelay.url, '--wait', '3000', '--json'], env);
    assert.equal(peers.code, 0, peers.stderr);
    const found = (JSON.parse(peers.stdout) as { agents: { pubkey: string; score: number | null }[] }).agents;
    const seerRow = found.find((a) => a.pubkey === seer);
    assert.ok((seerRow?.score ?? 0) > 50, `seer ${seerRow?.score}`);
  });
});

async function publish(url: string, events: NostrEvent[]): Promise<void> {
  const client = new RelayClient({ url, logger: silentLogger });
  try {
    for (const e of events) await client.publish(e);
  } finally {
    client.close();
  }
}
