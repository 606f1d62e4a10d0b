import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import type { Publish } from '../core/transport.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import { RelayClient } from '../relay/client.ts';
import { startTestRelay, type TestRelay } from '../testkit/relay.ts';
import {
  backupDTag,
  backupMemories,
  MEMORY_BACKUP_KIND,
  MemoryBackupError,
  restoreMemories,
  splitUtf8,
} from './backup.ts';
import { FakeEmbedder } from './fake-embedder.ts';
import { Memories } from './memories.ts';
import { VectorStore } from './vector-store.ts';

function openMemories(): Memories {
  const store = VectorStore.open({ path: ':memory:', logger: silentLogger });
  return new Memories({ store, embedder: new FakeEmbedder(), logger: silentLogger });
}

/** Agent, kind, content hash, creation time, importance and meta of every memory, sorted. */
function snapshot(m: Memories, agent: string): string[] {
  return [...m.store.iterate({ agent })]
    .map(
      (r) => `${r.agent}|${r.kind}|${r.contentHash}|${r.createdAt}|${r.importance}|${JSON.stringify(r.meta)}`,
    )
    .sort();
}

const TEXTS = [
  'Alice always wants her poems as haiku about the sea.',
  'Bob pays in sats over Lightning, never late.',
  'Summaries work best in three short sentences with the key number first.',
  'Carol asked for a translation of her menu into Spanish — ¡olé! 🌶️',
];

/** Passes events on to a relay, except those whose `d` tag is in `drop`. */
class DroppingPublish implements Publish {
  constructor(
    private readonly inner: Publish,
    private readonly drop: Set<string>,
  ) {}
  async publish(event: NostrEvent): Promise<void> {
    const d = event.tags.find((t) => t[0] === 'd')?.[1] ?? '';
    if (!this.drop.has(d)) await this.inner.publish(event);
  }
}

describe('memory backup to Nostr', () => {
  let relay: TestRelay;
  let client: RelayClient;

  before(async () => {
    relay = await startTestRelay();
    client = new RelayClient({ url: relay.url, logger: silentLogger });
  });
  after(async () => {
    client.close();
    await relay.close();
  });

  async function seeded(agent: string, extra: string[] = []): Promise<Memories> {
    const m = openMemories();
    await m.rememberMany(
      [...TEXTS, ...extra].map((content, i) => ({
        agent,
        kind: i % 2 === 0 ? ('semantic' as const) : ('episodic' as const),
        content,
        importance: (i % 5) / 4,
        meta: { n: i, customer: `npub-${i}` },
      })),
    );
    await m.remember({ agent: 'other', kind: 'semantic', content: 'not this agent' });
    return m;
  }

  test('round trip: nothing lost, nothing in plaintext on the relay, restoring twice adds nothing', async () => {
    const signer = generateLocalSigner();
    const source = await seeded('quill');
    const progress: number[] = [];
    const report = await backupMemories({
      memories: source,
      agent: 'quill',
      signer,
      publish: client,
      subscribe: client,
      chunkBytes: 300,
      onProgress: (p) => progress.push(p.done),
    });
    assert.equal(report.memories, TEXTS.length);
    assert.ok(report.chunks > 1, `${report.chunks} chunks`);
    assert.deepEqual(
      progress,
      Array.from({ length: report.chunks }, (_, i) => i + 1),
    );

    const events = await client.query([{ authors: [signer.pubkey], kinds: [MEMORY_BACKUP_KIND] }]);
    assert.equal(events.length, report.chunks + 1);
    const ds = new Set(events.map((e) => e.tags.find((t) => t[0] === 'd')?.[1]));
    assert.ok(ds.has(backupDTag('quill', 'manifest')));
    for (const e of events) {
      for (const text of TEXTS)
        for (const word of text.split(' ').filter((w) => w.length > 4))
          assert.ok(!JSON.stringify(e).includes(word), `"${word}" in plaintext on the relay`);
      assert.ok(!JSON.stringify(e).includes('semantic'));
    }

    const target = openMemories();
    const first = await restoreMemories({ memories: target, agent: 'quill', signer, subscribe: client });
    assert.equal(first.imported, TEXTS.length);
    assert.equal(first.skipped, 0);
    assert.deepEqual(snapshot(target, 'quill'), snapshot(source, 'quill'));
    assert.equal(target.store.count({ agent: 'other' }), 0);
    assert.equal(target.store.indexedCount(), TEXTS.length, 're-embedded on restore');
    const hits = await target.search('haiku poems about the sea', { k: 1 });
    assert.equal(hits[0]?.memory.content, TEXTS[0]);

    const second = await restoreMemories({ memories: target, agent: 'quill', signer, subscribe: client });
    assert.equal(second.imported, 0);
    assert.equal(second.skipped, TEXTS.length);
    assert.equal(target.store.count(), TEXTS.length);
    await Promise.all([source.close(), target.close()]);
  });

  test('another key cannot decrypt the events, nor find a backup of its own', async () => {
    const signer = generateLocalSigner();
    const other = generateLocalSigner();
    const source = await seeded('seer');
    await backupMemories({ memories: source, agent: 'seer', signer, publish: client, subscribe: client });
    const events = await client.query([{ authors: [signer.pubkey], kinds: [MEMORY_BACKUP_KIND] }]);
    assert.ok(events.length >= 2);
    for (const e of events) {
      assert.equal(await signer.nip44.decrypt(signer.pubkey, e.content).then(() => 'ok'), 'ok');
      await assert.rejects(other.nip44.decrypt(signer.pubkey, e.content));
    }
    const target = openMemories();
    await assert.rejects(
      restoreMemories({ memories: target, agent: 'seer', signer: other, subscribe: client }),
      (err: Error) => err instanceof MemoryBackupError && /no memory backup of seer/.test(err.message),
    );
    await Promise.all([source.close(), target.close()]);
  });

  test('a missing chunk is named; a chunk left from an older backup is caught by the manifest', async () => {
    const signer = generateLocalSigner();
    const source = await seeded('scribe');
    const dropping = new DroppingPublish(client, new Set([backupDTag('scribe', 1), backupDTag('scribe', 3)]));
    const report = await backupMemories({
      memories: source,
      agent: 'scribe',
      signer,
      publish: dropping,
      subscribe: client,
      chunkBytes: 200,
    });
    assert.ok(report.chunks >= 4);
    const target = openMemories();
    await assert.rejects(
      restoreMemories({ memories: target, agent: 'scribe', signer, subscribe: client }),
      (err: Error) =>
        err instanceof MemoryBackupError &&
        err.message.includes(`lacks chunks 1, 3 of ${report.chunks}`) &&
        err.message.includes(backupDTag('scribe', 1)),
    );
    assert.equal(target.store.count(), 0, 'nothing imported from an incomplete backup');

    // A later backup, cut differently, whose chunk 0 never arrived: the relay still holds the older chunk 0.
    await source.remember({
      agent: 'scribe',
      kind: 'semantic',
      content: 'One more fact.',
    });
    await backupMemories({
      memories: source,
      agent: 'scribe',
      signer,
      publish: new DroppingPublish(client, new Set([backupDTag('scribe', 0)])),
      subscribe: client,
      chunkBytes: 250,
    });
    await assert.rejects(
      restoreMemories({ memories: target, agent: 'scribe', signer, subscribe: client }),
      (err: Error) =>
        err instanceof MemoryBackupError && /chunk 0 of \d+ do not match the manifest/.test(err.message),
    );
    await Promise.all([source.close(), target.close()]);
  });

  test('a memory bigger than a chunk spans several chunks, multibyte characters intact', async () => {
    assert.deepEqual(splitUtf8(Buffer.from('aé🌶\uFE0Fb'), 4), ['aé', '🌶', '\uFE0Fb']);
    assert.deepEqual(splitUtf8(Buffer.from('🌶🌶'), 2), ['🌶', '🌶']);
    const big = `${'Ünïcödé memory 🌶️ '.repeat(6000)}end.`;
    assert.ok(Buffer.byteLength(big) > 2 * 48 * 1024);
    const signer = generateLocalSigner();
    const source = await seeded('echo', [big]);
    const report = await backupMemories({
      memories: source,
      agent: 'echo',
      signer,
      publish: client,
      subscribe: client,
    });
    assert.ok(report.chunks >= 3, `${report.chunks} chunks`);
    const target = openMemories();
    const restored = await restoreMemories({ memories: target, agent: 'echo', signer, subscribe: client });
    assert.equal(restored.imported, TEXTS.length + 1);
    assert.deepEqual(snapshot(target, 'echo'), snapshot(source, 'echo'));
    await Promise.all([source.close(), target.close()]);
  });

  test("the relay's refusal (content over its limit) is the error, with the relay's reason", async () => {
    const small = await startTestRelay({ limits: { maxContentBytes: 2000 } });
    const smallClient = new RelayClient({ url: small.url, logger: silentLogger });
    const signer = generateLocalSigner();
    const source = await seeded('tiny', ['x'.repeat(5000)]);
    try {
      await assert.rejects(
        backupMemories({
          memories: source,
          agent: 'tiny',
          signer,
          publish: smallClient,
          subscribe: smallClient,
        }),
        (err: Error) => {
          assert.ok(err instanceof MemoryBackupError);
          assert.match(
            err.message,
            /the relay refused chunk 0 of 1 \(\d+ bytes of content\): invalid: .*content/,
          );
          return true;
        },
      );
    } finally {
      smallClient.close();
      await small.close();
      await source.close();
    }
  });

  test('a backup made twice within a second replaces the first (the manifest is newer)', async () => {
    const signer = generateLocalSigner();
    const source = await seeded('twice');
    await backupMemories({ memories: source, agent: 'twice', signer, publish: client, subscribe: client });
    await source.remember({ agent: 'twice', kind: 'semantic', content: 'One more fact.' });
    const report = await backupMemories({
      memories: source,
      agent: 'twice',
      signer,
      publish: client,
      subscribe: client,
    });
    assert.equal(report.memories, TEXTS.length + 1);
    const target = openMemories();
    const restored = await restoreMemories({ memories: target, agent: 'twice', signer, subscribe: client });
    assert.equal(restored.imported, TEXTS.length + 1);
    await Promise.all([source.close(), target.close()]);
  });
});
