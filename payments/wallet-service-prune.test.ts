import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { matchFilters } from 'nostr-tools/filter';
import { ManualClock } from '../core/clock.ts';
import { MemoryLogger } from '../core/logger.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import type { Publish, Subscribe, SubscriptionHandlers } from '../core/transport.ts';
import { generateLocalSigner, type LocalSigner } from '../identity/signer.ts';
import { paymentHashOf } from './bolt11.ts';
import { type Nip47ResponseBody, NWC_REQUEST_KIND, NWC_RESPONSE_KIND } from './nip47.ts';
import { EmbeddedWalletService, PRUNE_BATCH_ROWS } from './wallet-service.ts';
import { openWalletDatabase } from './wallet-service-store.ts';

const W = 3600;
const T0 = 1_750_000_000_000;
const dir = mkdtempSync(join(tmpdir(), 'timmy-wallet-prune-'));
let files = 0;
const hex32 = (): string => randomBytes(32).toString('hex');
after(() => rmSync(dir, { recursive: true, force: true }));

async function waitFor<T>(what: string, get: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A relay that keeps every event and serves it to new subscriptions (filters applied, `since` included). */
class StoringRelay implements Publish, Subscribe {
  readonly events: NostrEvent[] = [];
  private readonly subs = new Set<{ filters: Filter[]; handlers: SubscriptionHandlers }>();

  async publish(event: NostrEvent): Promise<void> {
    this.events.push(event);
    for (const s of this.subs) if (matchFilters(s.filters, event)) s.handlers.onEvent(event);
  }

  subscribe(filters: Filter[], handlers: SubscriptionHandlers) {
    const sub = { filters, handlers };
    queueMicrotask(() => {
      for (const e of [...this.events]) if (matchFilters(filters, e)) handlers.onEvent(e);
      handlers.onEose?.();
      this.subs.add(sub);
    });
    return { close: () => this.subs.delete(sub) };
  }

  async query(filters: Filter[]): Promise<NostrEvent[]> {
    return this.events.filter((e) => matchFilters(filters, e));
  }

  responsesTo(id: string): NostrEvent[] {
    return this.events.filter(
      (e) => e.kind === NWC_RESPONSE_KIND && e.tags.some((t) => t[0] === 'e' && t[1] === id),
    );
  }
}

/** A wallet service on a StoringRelay and a ManualClock, with connections alice (funded) and bob. */
async function setup() {
  const path = join(dir, `wallet-${files++}.sqlite`);
  const relay = new StoringRelay();
  const clock = new ManualClock(T0);
  const logger = new MemoryLogger();
  const signer = generateLocalSigner();
  const nodeSecretKey = hex32();
  const alice = generateLocalSigner();
  const bob = generateLocalSigner();
  const open = async () => {
    const s = await EmbeddedWalletService.open({
      relay,
      signer,
      relayUrl: 'ws://127.0.0.1:1/',
      path,
      nodeSecretKey,
      logger,
      clock,
      sweepIntervalMs: 5,
      eoseTimeoutMs: 1000,
    });
    await s.start();
    return s;
  };
  const service = await open();
  const side = new Database(path);
  const w = {
    path,
    relay,
    clock,
    logger,
    alice,
    bob,
    service,
    nowS: () => Math.floor(clock.now() / 1000),
    async restart(): Promise<void> {
      await w.service.stop();
      w.service = await open();
    },
    async request(from: LocalSigner, method: string, params: Record<string, unknown>, createdAt: number) {
      const e = await from.signEvent({
        kind: NWC_REQUEST_KIND,
        created_at: createdAt,
        tags: [
          ['p', signer.pubkey],
          ['encryption', 'nip44_v2'],
        ],
        content: await from.nip44.encrypt(signer.pubkey, JSON.stringify({ method, params })),
      });
      await relay.publish(e);
      return e;
    },
    /** The n-th response (1-based) to a request, decrypted. */
    async answer(from: LocalSigner, id: string, n = 1): Promise<Nip47ResponseBody> {
      const r = await waitFor(`response ${n} to ${id}`, () => relay.responsesTo(id)[n - 1]);
      return JSON.parse(await from.nip44.decrypt(signer.pubkey, r.content)) as Nip47ResponseBody;
    },
    count: (table: string): number =>
      (side.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n,
    recorded: (id: string): boolean =>
      side.prepare('SELECT 1 FROM wallet_requests WHERE id = ?').get(id) !== undefined,
    async close(): Promise<void> {
      await w.service.stop();
      side.close();
    },
  };
  w.service.addConnection({ name: 'alice', clientPubkey: alice.pubkey, balanceMsats: 100_000 });
  w.service.addConnection({ name: 'bob', clientPubkey: bob.pubkey });
  // The subscription reads from now − W: moving on by W lets requests dated W before now through `since`.
  clock.advance(W * 1000);
  return w;
}

type Wallet = Awaited<ReturnType<typeof setup>>;

async function withWallet(test: (w: Wallet) => Promise<void>): Promise<void> {
  const w = await setup();
  try {
    await test(w);
  } finally {
    await w.close();
  }
}

/** Writes request records straight into a wallet file (as an older service, or a long history, left them). */
function insertRequests(
  db: Database.Database,
  n: number,
  row: { receivedAt: number; createdAt: number; response?: string | null; responseEvent?: string | null },
): string[] {
  const insert = db.prepare(
    `INSERT INTO wallet_requests (id, client_pubkey, method, encryption, created_at, received_at, response,
       response_event) VALUES (?, ?, 'get_balance', 'nip44_v2', ?, ?, ?, ?)`,
  );
  const ids = Array.from({ length: n }, hex32);
  db.transaction(() => {
    for (const id of ids) {
      const response = row.response === undefined ? '{}' : row.response;
      const event = row.responseEvent === undefined ? '{}' : row.responseEvent;
      insert.run(id, 'ab'.repeat(32), row.createdAt, row.receivedAt, response, event);
    }
  })();
  return ids;
}

describe('EmbeddedWalletService request window', () => {
  it('refuses a request dated more than W before its clock with OTHER, and does not execute it', () =>
    withWallet(async (w) => {
      const stale = await w.request(w.bob, 'make_invoice', { amount: 1_000 }, w.nowS() - W - 10);
      const r = await w.answer(w.bob, stale.id);
      assert.equal(r.result_type, 'make_invoice');
      assert.equal(r.error?.code, 'OTHER');
      assert.match(
        r.error?.message ?? '',
        /^the request is dated 20\d\d-.*Z, more than 3600 s from the wallet's clock$/,
      );
      assert.equal(w.count('wallet_invoices'), 0, 'no invoice was made');
      assert.equal(w.recorded(stale.id), false, 'the refusal is not recorded');
      assert.ok(
        w.logger.records.some(
          (l) => l.level === 'debug' && l.fields.request === stale.id && /time window/.test(l.msg),
        ),
      );
    }));

  it('refuses a request dated more than W after its clock', () =>
    withWallet(async (w) => {
      const future = await w.request(w.bob, 'make_invoice', { amount: 1_000 }, w.nowS() + W + 10);
      assert.equal((await w.answer(w.bob, future.id)).error?.code, 'OTHER');
      assert.equal(w.count('wallet_invoices'), 0);
      assert.equal(w.count('wallet_requests'), 0);
      // A far-future request can no longer push the resubscribe `since` (from MAX(created_at)) ahead.
      await w.service.stop();
      const far = await w.request(w.bob, 'get_balance', {}, w.nowS() + 100 * W);
      await w.restart();
      assert.equal((await w.answer(w.bob, far.id)).error?.code, 'OTHER');
      const started = w.logger.records.filter((l) => l.msg === 'embedded test-sats wallet service started');
      assert.equal(started.at(-1)?.fields.since, w.nowS() - W, 'empty table: from the start of the window');
    }));

  it('executes requests dated exactly W before and after its clock', () =>
    withWallet(async (w) => {
      const early = await w.request(w.bob, 'make_invoice', { amount: 1_000 }, w.nowS() - W);
      const late = await w.request(w.bob, 'make_invoice', { amount: 2_000 }, w.nowS() + W);
      assert.equal((await w.answer(w.bob, early.id)).error, null);
      assert.equal((await w.answer(w.bob, late.id)).error, null);
      assert.equal(w.count('wallet_invoices'), 2);
      assert.ok(w.recorded(early.id) && w.recorded(late.id));
    }));

  it('a resubscribe never starts in the future, even when an old record is dated there', () =>
    withWallet(async (w) => {
      await w.service.stop();
      const db = new Database(w.path);
      insertRequests(db, 1, { receivedAt: w.clock.now(), createdAt: w.nowS() + 100 * W });
      db.close();
      await w.restart();
      const started = w.logger.records.filter((l) => l.msg === 'embedded test-sats wallet service started');
      assert.equal(started.at(-1)?.fields.since, w.nowS() - 600);
    }));
});

describe('EmbeddedWalletService pruning of request records', () => {
  it('prunes answered requests 2·W after receipt; a replay after that is refused as stale, not executed', () =>
    withWallet(async (w) => {
      const make = await w.request(w.bob, 'make_invoice', { amount: 3_000 }, w.nowS());
      const made = await w.answer(w.bob, make.id);
      assert.equal(made.error, null);
      const balance = await w.request(w.alice, 'get_balance', {}, w.nowS());
      await w.answer(w.alice, balance.id);
      await waitFor('the outbox published', () => w.count('wallet_outbox') === 0);
      assert.equal(w.count('wallet_requests'), 2);

      w.clock.advance(2 * W * 1000); // exactly 2·W after receipt: still kept
      assert.equal(await w.service.pruneRequests(), 0);
      assert.equal(w.count('wallet_requests'), 2);
      await w.relay.publish(make); // recorded: the stored response again, although it is stale by now
      await waitFor('the replayed response', () => w.relay.responsesTo(make.id).length === 2);
      const [first, second] = w.relay.responsesTo(make.id);
      assert.equal(second?.id, first?.id, 'the stored response event');

      w.clock.advance(1);
      await w.service.pruneRequests(); // (or the sweep did it already)
      assert.equal(w.count('wallet_requests'), 0);
      await w.relay.publish(make); // pruned: refused as stale, not a second invoice
      const again = await w.answer(w.bob, make.id, 3);
      assert.equal(again.error?.code, 'OTHER');
      assert.match(again.error?.message ?? '', /more than 3600 s from the wallet's clock/);
      assert.equal(w.count('wallet_invoices'), 1);
      assert.equal(w.recorded(make.id), false);
      assert.deepEqual(w.service.balances().connections, { alice: 100_000, bob: 0 });
    }));

  it('keeps an unanswered hold payment through pruning; settling it still answers the payer', () =>
    withWallet(async (w) => {
      const preimage = hex32();
      const hold = await w.request(
        w.bob,
        'make_hold_invoice',
        { amount: 4_000, payment_hash: paymentHashOf(preimage) },
        w.nowS(),
      );
      const invoice = ((await w.answer(w.bob, hold.id)).result as { invoice: string }).invoice;
      const pay = await w.request(w.alice, 'pay_invoice', { invoice }, w.nowS());
      await waitFor('the held payment', () => w.service.balances().holdMsats === 4_000);
      await waitFor('the outbox published', () => w.count('wallet_outbox') === 0);

      w.clock.advance((2 * W + 1) * 1000);
      while ((await w.service.pruneRequests()) > 0);
      assert.equal(w.recorded(hold.id), false, 'the answered request is pruned');
      assert.equal(w.recorded(pay.id), true, 'the waiting pay_invoice is kept');
      assert.equal(w.relay.responsesTo(pay.id).length, 0);

      const settle = await w.request(w.bob, 'settle_hold_invoice', { preimage }, w.nowS());
      assert.equal((await w.answer(w.bob, settle.id)).error, null);
      assert.deepEqual((await w.answer(w.alice, pay.id)).result, { preimage, fees_paid: 0 });
      await waitFor('the outbox published', () => w.count('wallet_outbox') === 0);
      w.clock.advance((2 * W + 1) * 1000);
      while ((await w.service.pruneRequests()) > 0);
      assert.equal(w.count('wallet_requests'), 0, 'answered now: pruned in turn');
      assert.deepEqual(w.service.checkInvariants(), { ok: true, totalMsats: 0, holdMsats: 0, problems: [] });
    }));

  it('prunes in batches: at start, a backlog goes through the queue; by hand, one batch a call', async () => {
    const path = join(dir, `wallet-${files++}.sqlite`);
    const db = openWalletDatabase(path, new MemoryLogger());
    const old = { receivedAt: T0 - (2 * W + 1) * 1000, createdAt: T0 / 1000 - 2 * W };
    const backlog = PRUNE_BATCH_ROWS * 2 + 500;
    insertRequests(db, backlog, old);
    const kept = [
      ...insertRequests(db, 1, { ...old, response: null, responseEvent: null }), // a hold payment waiting
      ...insertRequests(db, 1, { ...old, responseEvent: null }), // answered, not published yet
      ...insertRequests(db, 1, { receivedAt: T0 - 2 * W * 1000, createdAt: T0 / 1000 }), // not old enough
    ];
    db.close();
    const logger = new MemoryLogger();
    const clock = new ManualClock(T0);
    const service = await EmbeddedWalletService.open({
      relay: new StoringRelay(),
      signer: generateLocalSigner(),
      relayUrl: 'ws://127.0.0.1:1/',
      path,
      nodeSecretKey: hex32(),
      logger,
      clock,
      sweepIntervalMs: 5,
    });
    const side = new Database(path);
    const ids = () =>
      (side.prepare('SELECT id FROM wallet_requests').all() as { id: string }[]).map((r) => r.id);
    try {
      await service.start();
      const pruned = await waitFor('the pruning at start', () =>
        logger.records.find((l) => l.msg === 'pruned the records of old NIP-47 requests'),
      );
      assert.equal(pruned.fields.count, backlog, 'one run, in batches through the queue');
      assert.deepEqual(ids().sort(), [...kept].sort());

      // By hand: one batch a call. The clock has not moved, so the sweep does not prune in between.
      insertRequests(side, PRUNE_BATCH_ROWS + 500, old);
      const queued = insertRequests(side, 1, old)[0] as string;
      side
        .prepare(
          `INSERT INTO wallet_outbox (kind, request_id, client_pubkey, body, created_at)
           VALUES ('response', ?, ?, NULL, ?)`,
        )
        .run(queued, 'ab'.repeat(32), T0);
      assert.equal(await service.pruneRequests(), PRUNE_BATCH_ROWS);
      assert.equal(await service.pruneRequests(), 500);
      assert.equal(await service.pruneRequests(), 0);
      assert.deepEqual(ids().sort(), [...kept, queued].sort(), 'the outbox still holds its response');
      side.prepare('DELETE FROM wallet_outbox WHERE request_id = ?').run(queued);
      assert.equal(await service.pruneRequests(), 1);
      assert.deepEqual(ids().sort(), [...kept].sort());
    } finally {
      await service.stop();
      side.close();
    }
  });
});
