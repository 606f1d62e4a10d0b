import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import { RelayClient } from '../relay/client.ts';
import { buildLabel, type LabelInput } from '../reputation/labels.ts';
import { buildRevocation } from '../reputation/revocation.ts';
import { TestKey } from '../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../testkit/relay.ts';
import { loadReputation, readPaged } from './reputation-view.ts';

const NOW = Math.floor(Date.now() / 1000);
const desk = new TestKey();
const agent = new TestKey();
const stranger = new TestKey();

function label(by: TestKey, input: Omit<LabelInput, 'createdAt'> & { createdAt?: number }): NostrEvent {
  return by.sign(buildLabel({ createdAt: NOW - 60, ...input }));
}

describe('reading the reputation from a relay', () => {
  let relay: TestRelay;
  let client: RelayClient;

  before(async () => {
    // A relay that answers at most 5 events a query: the reading must page.
    relay = await startTestRelay({ limits: { maxLimit: 5 } });
    client = new RelayClient({ url: relay.url, logger: silentLogger });
  });
  after(async () => {
    client.close();
    await relay.close();
  });

  test('pages by until: 23 labels, several in the same second, all read once; a bound cuts and says so', async () => {
    const others = Array.from({ length: 23 }, () => new TestKey());
    // Seconds holding 1 to 4 labels each, so that page boundaries fall inside a second.
    const events = others.map((k, i) =>
      label(k, { subject: agent.pubkey, type: 'work-completed', createdAt: NOW - 1000 + Math.floor(i / 3) }),
    );
    for (const e of events) await client.publish(e);
    const filter: Filter = { kinds: [1985], '#L': ['ai.wot'], authors: others.map((k) => k.pubkey) };
    const all = await readPaged(client, filter, 1000, 10);
    assert.equal(all.truncated, false);
    assert.deepEqual(all.events.map((e) => e.id).sort(), events.map((e) => e.id).sort());

    const cut = await readPaged(client, filter, 7, 10);
    assert.equal(cut.truncated, true);
    assert.equal(cut.events.length, 7);
    // The newest first: the cut keeps the latest labels.
    const newest = [...events].sort((a, b) => b.created_at - a.created_at);
    assert.ok(cut.events.every((e) => e.created_at >= (newest[6]?.created_at ?? 0)));
  });

  test('a relay that ignores until cannot keep the reading going', async () => {
    const events = [1, 2, 3].map(() =>
      label(new TestKey(), { subject: agent.pubkey, type: 'warning', createdAt: NOW - 5 }),
    );
    let queries = 0;
    const deaf = {
      query: async (): Promise<NostrEvent[]> => {
        queries++;
        return events;
      },
    };
    const r = await readPaged(deaf, {}, 100, 3);
    assert.equal(r.events.length, 3);
    assert.ok(queries <= 4, `${queries} queries`);
  });

  test('the book: seeds, score options, a revoked label gone, rejected labels kept per subject with the reason', async () => {
    const good = label(desk, { subject: agent.pubkey, type: 'service-quality', quality: 1, jobKind: 5050 });
    const revoked = label(desk, { subject: agent.pubkey, type: 'dispute' });
    const self = label(agent, { subject: agent.pubkey, type: 'general-trust' });
    const badQuality = stranger.sign({
      kind: 1985,
      created_at: NOW - 30,
      tags: [
        ['L', 'ai.wot'],
        ['l', 'service-quality', 'ai.wot'],
        ['p', agent.pubkey],
        ['quality', '7'],
      ],
      content: '',
    });
    const noP = stranger.sign({
      kind: 1985,
      created_at: NOW - 30,
      tags: [
        ['L', 'ai.wot'],
        ['l', 'warning', 'ai.wot'],
      ],
      content: '',
    });
    const deletion = desk.sign(buildRevocation([revoked.id], NOW - 10));
    for (const e of [good, revoked, self, badQuality, noP, deletion]) await client.publish(e);

    const view = await loadReputation(client, { seeds: [desk.pubkey], score: { halfLifeDays: 30 } });
    assert.deepEqual(view.seeds, [desk.pubkey]);
    assert.equal(view.read.deletions, 1);
    assert.equal(view.read.truncated, false);
    const overall = view.book.score(agent.pubkey);
    assert.ok(overall.score > 50, `${overall.score}`);
    assert.equal(overall.explanation.options.halfLifeDays, 30);
    assert.ok(overall.explanation.counted.some((c) => c.id === good.id));
    // The embedded relay applies NIP-09 itself: the revoked label is gone, and never counts.
    assert.ok(!overall.explanation.counted.some((c) => c.id === revoked.id));
    assert.ok(view.book.score(agent.pubkey, 5050).score > 50);
    const codes = (view.rejections.get(agent.pubkey) ?? []).map((r) => [r.id, r.code]);
    assert.deepEqual(
      codes.sort(),
      [
        [self.id, 'self-label'],
        [badQuality.id, 'bad-quality'],
      ].sort(),
    );
    assert.deepEqual(
      (view.rejections.get('') ?? []).map((r) => [r.id, r.code]),
      [[noP.id, 'missing-p']],
    );
  });

  test("a relay that keeps revoked labels: the book applies the author's deletion, not another key's", async () => {
    const kept = label(desk, { subject: stranger.pubkey, type: 'work-completed' });
    const revoked = label(desk, { subject: stranger.pubkey, type: 'dispute' });
    const events = [
      kept,
      revoked,
      desk.sign(buildRevocation([revoked.id], NOW)),
      agent.sign(buildRevocation([kept.id], NOW)),
    ];
    // Answers by kind and `#k`/`#L`, newest first, honouring until and limit; deletes nothing.
    const keeper = {
      query: async ([f]: Filter[]): Promise<NostrEvent[]> =>
        events
          .filter((e) => f?.kinds?.includes(e.kind) && (f.until === undefined || e.created_at <= f.until))
          .sort((a, b) => b.created_at - a.created_at)
          .slice(0, f?.limit),
    };
    const view = await loadReputation(keeper, { seeds: [desk.pubkey] });
    assert.deepEqual(view.read, { labels: 2, deletions: 2, truncated: false });
    const e = view.book.score(stranger.pubkey).explanation;
    assert.deepEqual(
      e.counted.map((c) => c.id),
      [kept.id],
    );
    assert.deepEqual(
      e.ignored.map((i) => [i.id, i.reason]),
      [[revoked.id, 'revoked']],
    );
  });
});
