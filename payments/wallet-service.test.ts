import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NWCClient } from '@getalby/sdk';
import Database from 'better-sqlite3';
import { matchFilters } from 'nostr-tools/filter';
import { type Clock, ManualClock } from '../core/clock.ts';
import { MemoryLogger } from '../core/logger.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import type { Publish, Subscribe, SubscriptionHandlers } from '../core/transport.ts';
import { generateLocalSigner, LocalSigner } from '../identity/signer.ts';
import { RelayClient } from '../relay/client.ts';
import { startTestRelay, type TestRelay } from '../testkit/relay.ts';
import { decodeInvoice, mintInvoice, nodePublicKey, paymentHashOf } from './bolt11.ts';
import { type Nip47ResponseBody, NWC_REQUEST_KIND, NWC_RESPONSE_KIND } from './nip47.ts';
import { EmbeddedWalletService } from './wallet-service.ts';
import { WalletAccounts } from './wallet-service-accounts.ts';
import { WalletMethods } from './wallet-service-methods.ts';
import { openWalletDatabase } from './wallet-service-store.ts';
import { ensureGlobalWebSocket } from './websocket-global.ts';

ensureGlobalWebSocket();

type Notification = Parameters<Parameters<NWCClient['subscribeNotifications']>[0]>[0];

const dir = mkdtempSync(join(tmpdir(), 'timmy-wallet-'));
const hex32 = (): string => randomBytes(32).toString('hex');
const nowS = (): number => Math.floor(Date.now() / 1000);

async function waitFor<T>(what: string, get: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The promise, marked handled: a payment that fails before the test awaits it is no unhandled rejection. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Rejects with a NIP-47 wallet error of this code (and message). */
async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    const e = err as { code?: string; message?: string };
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message ?? '', message);
    return true;
  });
}

/** A wallet service with its own keys and relay connection, and NWC clients for its connections. */
class Harness {
  readonly signer = generateLocalSigner();
  readonly nodeSecretKey = hex32();
  readonly logger = new MemoryLogger();
  readonly clients = new Map<string, NWCClient>();
  readonly secrets = new Map<string, string>();
  readonly notes = new Map<string, Notification[]>();
  private readonly unsubscribe: (() => void)[] = [];
  relayClient: RelayClient;
  service!: EmbeddedWalletService;

  constructor(
    private readonly relay: TestRelay,
    private readonly options: { path: string; clock?: Clock; holdTimeoutSeconds?: number },
  ) {
    this.relayClient = new RelayClient({ url: relay.url, logger: this.logger, authSigner: this.signer });
  }

  async open(): Promise<void> {
    this.service = await EmbeddedWalletService.open({
      relay: this.relayClient,
      signer: this.signer,
      relayUrl: this.relay.url,
      path: this.options.path,
      nodeSecretKey: this.nodeSecretKey,
      logger: this.logger,
      sweepIntervalMs: 50,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      ...(this.options.holdTimeoutSeconds ? { holdTimeoutSeconds: this.options.holdTimeoutSeconds } : {}),
    });
    await this.service.start();
  }

  /** Adds a funded connection and an NWC client for it, subscribed to its notifications. */
  async connect(name: string, balanceMsats: number): Promise<NWCClient> {
    const secret = hex32();
    const clientPubkey = new LocalSigner(Buffer.from(secret, 'hex')).pubkey;
    this.service.addConnection({ name, clientPubkey, balanceMsats });
    const client = new NWCClient({ nostrWalletConnectUrl: this.service.connectionUri(secret) });
    this.clients.set(name, client);
    this.secrets.set(name, secret);
    const notes: Notification[] = [];
    this.notes.set(name, notes);
    const subscriptions = this.relay.server.stats().subscriptions;
    this.unsubscribe.push(await client.subscribeNotifications((n) => notes.push(n)));
    await waitFor(
      'the notification subscription',
      () => this.relay.server.stats().subscriptions > subscriptions,
    );
    return client;
  }

  note(name: string, type: string, paymentHash: string): Promise<Notification> {
    return waitFor(`${type} for ${name}`, () =>
      this.notes
        .get(name)
        ?.find((n) => n.notification_type === type && n.notification.payment_hash === paymentHash),
    );
  }

  balance(name: string): number {
    return this.service.balances().connections[name] ?? Number.NaN;
  }

  assertInvariants(holdMsats = 0): void {
    const inv = this.service.checkInvariants();
    assert.deepEqual(inv, { ok: true, totalMsats: 0, holdMsats, problems: [] });
  }

  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    for (const c of this.clients.values()) c.close();
    await this.service?.stop();
    this.relayClient.close();
  }
}

describe('EmbeddedWalletService over the relay, with @getalby/sdk clients', () => {
  let relay: TestRelay;
  let h: Harness;
  let alice: NWCClient;
  let bob: NWCClient;
  /** Every event the relay accepted (stored or ephemeral), in order. */
  const seen: NostrEvent[] = [];
  let raw: RelayClient;

  before(async () => {
    relay = await startTestRelay();
    relay.server.on('event', (e) => seen.push(e));
    raw = new RelayClient({ url: relay.url, logger: new MemoryLogger() });
    h = new Harness(relay, { path: join(dir, 'wallet.sqlite') });
    await h.open();
    alice = await h.connect('alice', 100_000);
    bob = await h.connect('bob', 50_000);
  });

  after(async () => {
    await h?.close();
    raw?.close();
    await relay?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes its info event and says it is a regtest test-sats wallet', async () => {
    const info = await alice.getWalletServiceInfo();
    assert.deepEqual(info.encryptions, ['nip44_v2', 'nip04']);
    assert.ok(info.capabilities.includes('make_hold_invoice'));
    assert.ok(info.capabilities.includes('notifications'));
    assert.deepEqual(info.notifications, ['payment_received', 'payment_sent', 'hold_invoice_accepted']);
    const r = await alice.getInfo();
    assert.match(r.alias, /test sats/);
    assert.equal(r.network, 'regtest');
    assert.equal(r.pubkey, h.service.nodePubkey);
    assert.ok(r.methods.includes('settle_hold_invoice'));
    assert.deepEqual(r.notifications, ['payment_received', 'payment_sent', 'hold_invoice_accepted']);
    assert.equal(alice.encryptionType, 'nip44_v2');
  });

  it('addConnection is idempotent and mints the initial sats once', async () => {
    const pubkey = new LocalSigner(Buffer.from(h.secrets.get('alice') as string, 'hex')).pubkey;
    assert.deepEqual(
      h.service.addConnection({ name: 'alice', clientPubkey: pubkey, balanceMsats: 100_000 }),
      {
        created: false,
        balanceMsats: 100_000,
      },
    );
    assert.throws(
      () => h.service.addConnection({ name: 'alice', clientPubkey: 'ab'.repeat(32) }),
      /another client/,
    );
    assert.throws(
      () => h.service.addConnection({ name: 'alias', clientPubkey: pubkey }),
      /already connection/,
    );
    assert.deepEqual((await alice.getBalance()).balance, 100_000);
    assert.deepEqual((await bob.getBalance()).balance, 50_000);
    h.assertInvariants();
  });

  it('makeInvoice + payInvoice between two connections: balances move, both are notified', async () => {
    const inv = await bob.makeInvoice({ amount: 21_000, description: 'a haiku' });
    assert.equal(inv.type, 'incoming');
    assert.equal(inv.state, 'pending');
    assert.match(inv.invoice, /^lnbcrt210n1/);
    const d = decodeInvoice(inv.invoice);
    assert.equal(d.payeeNodeKey, h.service.nodePubkey);
    assert.equal(d.paymentHash, inv.payment_hash);
    assert.equal(paymentHashOf(inv.preimage), inv.payment_hash, 'the payee knows the preimage');
    const paid = await alice.payInvoice({ invoice: inv.invoice });
    assert.deepEqual(paid, { preimage: inv.preimage, fees_paid: 0 });
    assert.equal((await alice.getBalance()).balance, 79_000);
    assert.equal((await bob.getBalance()).balance, 71_000);
    const received = await h.note('bob', 'payment_received', inv.payment_hash);
    assert.equal(received.notification.type, 'incoming');
    assert.equal(received.notification.state, 'settled');
    assert.equal(received.notification.amount, 21_000);
    const sent = await h.note('alice', 'payment_sent', inv.payment_hash);
    assert.equal(sent.notification.type, 'outgoing');
    assert.equal(sent.notification.preimage, inv.preimage);
    // Both encryptions went out: kind 23197 (NIP-44) and 23196 (NIP-04).
    const kinds = seen.filter((e) => e.pubkey === h.service.pubkey && e.kind >= 23196).map((e) => e.kind);
    assert.ok(kinds.includes(23196) && kinds.includes(23197));
    h.assertInvariants();
  });

  it('lookupInvoice and listTransactions show each side its view', async () => {
    const inv = await bob.makeInvoice({ amount: 1_000, description: 'coffee' });
    await alice.payInvoice({ invoice: inv.invoice });
    const mine = await bob.lookupInvoice({ payment_hash: inv.payment_hash });
    assert.equal(mine.type, 'incoming');
    assert.equal(mine.state, 'settled');
    assert.ok(mine.settled_at > 0);
    const theirs = await alice.lookupInvoice({ invoice: inv.invoice });
    assert.equal(theirs.type, 'outgoing');
    assert.equal(theirs.state, 'settled');
    assert.equal(theirs.preimage, inv.preimage);
    await rejectsWith(
      alice.lookupInvoice({ payment_hash: 'ab'.repeat(32) }),
      'NOT_FOUND',
      /no invoice or payment of this connection/,
    );
    const unpaid = await bob.makeInvoice({ amount: 5_000, description: 'unpaid' });
    const paidOnly = await bob.listTransactions({});
    assert.ok(paidOnly.transactions.every((t) => t.state === 'settled' || t.state === 'accepted'));
    assert.ok(!paidOnly.transactions.some((t) => t.payment_hash === unpaid.payment_hash));
    const all = await bob.listTransactions({ unpaid: true, limit: 2 });
    assert.equal(all.transactions.length, 2);
    assert.equal(all.transactions[0]?.payment_hash, unpaid.payment_hash, 'newest first');
    assert.equal(all.total_count, 3);
    const outgoing = await alice.listTransactions({ type: 'outgoing' });
    assert.equal(outgoing.transactions.length, 2);
    assert.ok(outgoing.transactions.every((t) => t.type === 'outgoing'));
    assert.deepEqual((await alice.listTransactions({ type: 'incoming' })).transactions, []);
    const later = await bob.listTransactions({ from: nowS() + 3600, unpaid: true });
    assert.deepEqual(later.transactions, []);
    h.assertInvariants();
  });

  it('hold invoice: payment held until the payee settles with the preimage', async () => {
    const preimage = hex32();
    const hash = paymentHashOf(preimage);
    const hold = await bob.makeHoldInvoice({ amount: 7_000, description: 'escrow', payment_hash: hash });
    assert.equal(hold.state, 'pending');
    assert.equal(hold.preimage, undefined, 'the wallet does not know the preimage');
    const [a0, b0] = [h.balance('alice'), h.balance('bob')];
    let resolved = false;
    const paying = alice.payInvoice({ invoice: hold.invoice }).finally(() => {
      resolved = true;
    });
    const accepted = await h.note('bob', 'hold_invoice_accepted', hash);
    assert.equal(accepted.notification.state, 'accepted');
    assert.ok((accepted.notification.settle_deadline ?? 0) > nowS() + 80_000);
    assert.equal(h.balance('alice'), a0 - 7_000);
    assert.equal(h.balance('bob'), b0);
    h.assertInvariants(7_000);
    assert.equal((await bob.lookupInvoice({ payment_hash: hash })).state, 'accepted');
    assert.equal((await alice.lookupInvoice({ payment_hash: hash })).state, 'pending');
    assert.equal(resolved, false, 'pay_invoice waits for the settle');
    assert.deepEqual(await bob.settleHoldInvoice({ preimage }), {});
    assert.deepEqual(await paying, { preimage, fees_paid: 0 });
    assert.equal(h.balance('bob'), b0 + 7_000);
    await h.note('bob', 'payment_received', hash);
    await h.note('alice', 'payment_sent', hash);
    assert.equal((await bob.lookupInvoice({ payment_hash: hash })).preimage, preimage);
    assert.deepEqual(await bob.settleHoldInvoice({ preimage }), {}, 'settling again changes nothing');
    h.assertInvariants();
  });

  it('cancelHoldInvoice refunds the payer, whose payment fails', async () => {
    const preimage = hex32();
    const hash = paymentHashOf(preimage);
    const hold = await bob.makeHoldInvoice({ amount: 3_000, description: 'refund me', payment_hash: hash });
    const a0 = h.balance('alice');
    const paying = handled(alice.payInvoice({ invoice: hold.invoice }));
    await h.note('bob', 'hold_invoice_accepted', hash);
    h.assertInvariants(3_000);
    await bob.cancelHoldInvoice({ payment_hash: hash });
    await rejectsWith(paying, 'PAYMENT_FAILED', /cancelled/);
    assert.equal(h.balance('alice'), a0);
    assert.equal((await bob.lookupInvoice({ payment_hash: hash })).state, 'failed');
    assert.equal((await alice.lookupInvoice({ payment_hash: hash })).state, 'failed');
    await rejectsWith(bob.settleHoldInvoice({ preimage }), 'OTHER', /cancelled/);
    // An unpaid hold invoice is just cancelled; paying it afterwards fails.
    const other = await bob.makeHoldInvoice({ amount: 1_000, payment_hash: hex32() });
    await bob.cancelHoldInvoice({ payment_hash: other.payment_hash });
    await rejectsWith(alice.payInvoice({ invoice: other.invoice }), 'PAYMENT_FAILED', /cancelled/);
    await rejectsWith(alice.cancelHoldInvoice({ payment_hash: hash }), 'NOT_FOUND', /no hold invoice/);
    h.assertInvariants();
  });

  describe('faults (the ledger stays balanced after each)', () => {
    after(() => h.assertInvariants());

    it('malformed bolt11', async () => {
      await rejectsWith(alice.payInvoice({ invoice: 'lnbcrt1garbage' }), 'OTHER', /invalid invoice/);
      await rejectsWith(alice.payInvoice({ invoice: 'not an invoice' }), 'OTHER', /not bolt11/);
      h.assertInvariants();
    });

    it('an invoice of another node', async () => {
      const foreign = mintInvoice({
        nodeSecretKey: hex32(),
        amountMsats: 1000,
        description: 'elsewhere',
        paymentHash: hex32(),
        expirySeconds: 600,
        timestamp: nowS(),
      });
      await rejectsWith(
        alice.payInvoice({ invoice: foreign }),
        'PAYMENT_FAILED',
        /the embedded test-sats wallet can only pay its own invoices/,
      );
      h.assertInvariants();
    });

    it('amount mismatch', async () => {
      const inv = await bob.makeInvoice({ amount: 2_000 });
      await rejectsWith(
        alice.payInvoice({ invoice: inv.invoice, amount: 2_001 }),
        'OTHER',
        /amount mismatch/,
      );
      assert.deepEqual(await alice.payInvoice({ invoice: inv.invoice, amount: 2_000 }), {
        preimage: inv.preimage,
        fees_paid: 0,
      });
      h.assertInvariants();
    });

    it('insufficient balance', async () => {
      const inv = await bob.makeInvoice({ amount: 10_000_000 });
      const a0 = h.balance('alice');
      await rejectsWith(alice.payInvoice({ invoice: inv.invoice }), 'INSUFFICIENT_BALANCE');
      assert.equal(h.balance('alice'), a0);
      assert.equal((await bob.lookupInvoice({ payment_hash: inv.payment_hash })).state, 'pending');
      h.assertInvariants();
    });

    it('paying twice: the second is PAYMENT_FAILED, debited once', async () => {
      const inv = await bob.makeInvoice({ amount: 4_000 });
      const [a0, b0] = [h.balance('alice'), h.balance('bob')];
      await alice.payInvoice({ invoice: inv.invoice });
      await rejectsWith(alice.payInvoice({ invoice: inv.invoice }), 'PAYMENT_FAILED', /already paid/);
      await rejectsWith(alice.payInvoice({ invoice: inv.invoice }), 'PAYMENT_FAILED', /already paid/);
      assert.equal(h.balance('alice'), a0 - 4_000);
      assert.equal(h.balance('bob'), b0 + 4_000);
      await rejectsWith(
        bob.payInvoice({ invoice: (await bob.makeInvoice({ amount: 1 })).invoice }),
        'PAYMENT_FAILED',
      );
      h.assertInvariants();
    });

    it('a preimage that does not match is refused; the payment stays held', async () => {
      const preimage = hex32();
      const hash = paymentHashOf(preimage);
      const hold = await bob.makeHoldInvoice({ amount: 1_500, payment_hash: hash });
      await rejectsWith(bob.settleHoldInvoice({ preimage }), 'OTHER', /not paid yet/);
      const paying = handled(alice.payInvoice({ invoice: hold.invoice }));
      await h.note('bob', 'hold_invoice_accepted', hash);
      await rejectsWith(bob.settleHoldInvoice({ preimage: hex32() }), 'NOT_FOUND');
      await rejectsWith(
        alice.settleHoldInvoice({ preimage }),
        'NOT_FOUND',
        /no hold invoice of this connection/,
      );
      await rejectsWith(bob.settleHoldInvoice({ preimage: 'zz' }), 'OTHER', /preimage/);
      h.assertInvariants(1_500);
      await bob.cancelHoldInvoice({ payment_hash: hash });
      await rejectsWith(paying, 'PAYMENT_FAILED');
      h.assertInvariants();
    });

    it('an unknown client key is UNAUTHORIZED', async () => {
      const stranger = new NWCClient({ nostrWalletConnectUrl: h.service.connectionUri(hex32()) });
      try {
        await rejectsWith(stranger.getBalance(), 'UNAUTHORIZED');
      } finally {
        stranger.close();
      }
      h.assertInvariants();
    });

    it('a replayed request event is answered again with the same response and executed once', async () => {
      const inv = await bob.makeInvoice({ amount: 900 });
      const from = seen.length;
      await alice.payInvoice({ invoice: inv.invoice });
      const request = seen.slice(from).find((e) => e.kind === NWC_REQUEST_KIND) as NostrEvent;
      const response = await waitFor('the first response', () =>
        seen.find(
          (e) => e.kind === NWC_RESPONSE_KIND && e.tags.some((t) => t[0] === 'e' && t[1] === request.id),
        ),
      );
      const [a0, b0] = [h.balance('alice'), h.balance('bob')];
      const again = seen.length;
      await raw.publish(request);
      const replayed = await waitFor('the replayed response', () =>
        seen
          .slice(again)
          .find((e) => e.kind === NWC_RESPONSE_KIND && e.tags.some((t) => t[1] === request.id)),
      );
      assert.equal(replayed.id, response.id, 'the stored response, not a new one');
      assert.equal(h.balance('alice'), a0);
      assert.equal(h.balance('bob'), b0);
      h.assertInvariants();
    });

    it('raw requests: NIP-04, unknown method, garbage, malformed JSON, bad params', async () => {
      const signer = new LocalSigner(Buffer.from(h.secrets.get('alice') as string, 'hex'));
      const send = async (
        content: string,
        encryption: 'nip44_v2' | 'nip04' | 'none',
        tags: string[][] = [],
      ): Promise<NostrEvent> => {
        const e = await signer.signEvent({
          kind: NWC_REQUEST_KIND,
          created_at: nowS(),
          tags: [
            ['p', h.service.pubkey],
            ...(encryption === 'none' ? [] : [['encryption', encryption]]),
            ...tags,
          ],
          content,
        });
        await raw.publish(e);
        return e;
      };
      const answer = async (e: NostrEvent, encryption: 'nip44_v2' | 'nip04') => {
        const r = await waitFor('a response', () =>
          seen.find((x) => x.kind === NWC_RESPONSE_KIND && x.tags.some((t) => t[0] === 'e' && t[1] === e.id)),
        );
        const cipher = encryption === 'nip44_v2' ? signer.nip44 : signer.nip04;
        return JSON.parse(await cipher.decrypt(h.service.pubkey, r.content));
      };
      const getBalance = JSON.stringify({ method: 'get_balance', params: {} });
      const nip04 = await send(await signer.nip04.encrypt(h.service.pubkey, getBalance), 'none');
      assert.deepEqual(await answer(nip04, 'nip04'), {
        result_type: 'get_balance',
        result: { balance: h.balance('alice') },
        error: null,
      });
      const unknown = await send(
        await signer.nip44.encrypt(h.service.pubkey, JSON.stringify({ method: 'pay_keysend', params: {} })),
        'nip44_v2',
      );
      assert.deepEqual((await answer(unknown, 'nip44_v2')).error.code, 'NOT_IMPLEMENTED');
      const malformed = await send(await signer.nip44.encrypt(h.service.pubkey, '{oops'), 'nip44_v2');
      assert.deepEqual((await answer(malformed, 'nip44_v2')).error.code, 'OTHER');
      const badParams = await send(
        await signer.nip44.encrypt(
          h.service.pubkey,
          JSON.stringify({ method: 'make_invoice', params: { amount: -1 } }),
        ),
        'nip44_v2',
      );
      assert.match((await answer(badParams, 'nip44_v2')).error.message, /amount/);
      const garbage = await send('garbage', 'nip44_v2');
      await waitFor('the dropped garbage', () =>
        h.logger.records.find((r) => r.msg === 'NIP-47 request dropped' && r.fields.request === garbage.id),
      );
      for (const e of [garbage]) {
        assert.ok(!seen.some((x) => x.kind === NWC_RESPONSE_KIND && x.tags.some((t) => t[1] === e.id)));
      }
      h.assertInvariants();
    });

    it('a failure half-way through a payment (after the debit) leaves nothing behind', async () => {
      const inv = await bob.makeInvoice({ amount: 3_000 });
      const [a0, b0] = [h.balance('alice'), h.balance('bob')];
      // Another connection to the file makes the invoice update fail after the transfer was written.
      const side = new Database(join(dir, 'wallet.sqlite'));
      side.exec(`CREATE TRIGGER boom BEFORE UPDATE OF state ON wallet_invoices
                 WHEN NEW.payment_hash = '${inv.payment_hash}' BEGIN SELECT RAISE(ABORT, 'simulated crash'); END`);
      try {
        await rejectsWith(alice.payInvoice({ invoice: inv.invoice }), 'INTERNAL');
      } finally {
        side.exec('DROP TRIGGER boom');
        side.close();
      }
      assert.equal(h.balance('alice'), a0);
      assert.equal(h.balance('bob'), b0);
      assert.equal((await bob.lookupInvoice({ payment_hash: inv.payment_hash })).state, 'pending');
      assert.ok(h.logger.records.some((r) => r.level === 'error' && r.msg === 'wallet method failed'));
      h.assertInvariants();
      await alice.payInvoice({ invoice: inv.invoice }); // a new request: it works now
      assert.equal(h.balance('alice'), a0 - 3_000);
      h.assertInvariants();
    });

    it('a restart mid-hold: the held payment and the waiting pay_invoice survive in SQLite', async () => {
      const preimage = hex32();
      const hash = paymentHashOf(preimage);
      const hold = await bob.makeHoldInvoice({ amount: 2_500, payment_hash: hash });
      const [a0, b0] = [h.balance('alice'), h.balance('bob')];
      const paying = handled(alice.payInvoice({ invoice: hold.invoice }));
      await h.note('bob', 'hold_invoice_accepted', hash);
      await h.service.stop();
      await h.open(); // the same file, a new service instance
      h.assertInvariants(2_500);
      assert.equal((await bob.lookupInvoice({ payment_hash: hash })).state, 'accepted');
      await bob.settleHoldInvoice({ preimage });
      assert.deepEqual(await paying, { preimage, fees_paid: 0 });
      assert.equal(h.balance('alice'), a0 - 2_500);
      assert.equal(h.balance('bob'), b0 + 2_500);
      h.assertInvariants();
    });
  });
});

describe('EmbeddedWalletService with a test clock: expiry and hold timeout', () => {
  let relay: TestRelay;
  let h: Harness;
  let carol: NWCClient;
  let dave: NWCClient;
  const clock = new ManualClock(Date.now());

  before(async () => {
    relay = await startTestRelay();
    h = new Harness(relay, { path: ':memory:', clock, holdTimeoutSeconds: 30 });
    await h.open();
    carol = await h.connect('carol', 10_000);
    dave = await h.connect('dave', 0);
  });

  after(async () => {
    await h?.close();
    await relay?.close();
  });

  it('an expired invoice cannot be paid and reads as failed', async () => {
    const inv = await dave.makeInvoice({ amount: 1_000, expiry: 10 });
    clock.advance(11_000);
    await rejectsWith(carol.payInvoice({ invoice: inv.invoice }), 'PAYMENT_FAILED', /expired/);
    assert.equal((await dave.lookupInvoice({ payment_hash: inv.payment_hash })).state, 'failed');
    assert.equal(h.balance('carol'), 10_000);
    h.assertInvariants();
  });

  it('an accepted hold payment not settled in time is cancelled and refunded', async () => {
    const hash = paymentHashOf(hex32());
    const hold = await dave.makeHoldInvoice({ amount: 4_000, payment_hash: hash, expiry: 600 });
    const paying = handled(carol.payInvoice({ invoice: hold.invoice }));
    const accepted = await h.note('dave', 'hold_invoice_accepted', hash);
    assert.equal(accepted.notification.settle_deadline, Math.floor(clock.now() / 1000) + 30);
    const listed = await dave.listTransactions({ unpaid: true });
    assert.equal(listed.transactions[0]?.settle_deadline, accepted.notification.settle_deadline);
    assert.equal(h.balance('carol'), 6_000);
    h.assertInvariants(4_000);
    clock.advance(29_000);
    assert.equal(await h.service.expireHolds(), 0);
    clock.advance(2_000); // past the deadline: the sweep timer cancels it
    await rejectsWith(paying, 'PAYMENT_FAILED', /hold timed out/);
    assert.equal(h.balance('carol'), 10_000);
    assert.equal(h.balance('dave'), 0);
    assert.equal((await dave.lookupInvoice({ payment_hash: hash })).state, 'failed');
    h.assertInvariants();
  });

  it('a request past its NIP-47 expiration tag is ignored', async () => {
    // The service clock runs ahead of the relay's: the relay still takes the event, the service ignores it.
    const signer = new LocalSigner(Buffer.from(h.secrets.get('carol') as string, 'hex'));
    const e = await signer.signEvent({
      kind: NWC_REQUEST_KIND,
      created_at: nowS(),
      tags: [
        ['p', h.service.pubkey],
        ['encryption', 'nip44_v2'],
        ['expiration', String(nowS() + 5)],
      ],
      content: await signer.nip44.encrypt(
        h.service.pubkey,
        JSON.stringify({ method: 'get_balance', params: {} }),
      ),
    });
    const raw = new RelayClient({ url: relay.url, logger: new MemoryLogger() });
    try {
      await raw.publish(e);
    } finally {
      raw.close();
    }
    await waitFor('the ignored expired request', () =>
      h.logger.records.find((r) => r.msg === 'NIP-47 request dropped' && r.fields.request === e.id),
    );
    h.assertInvariants();
  });
});

describe('EmbeddedWalletService and a relay that refuses a response', () => {
  let relay: TestRelay;
  let h: Harness;

  before(async () => {
    relay = await startTestRelay({ limits: { maxContentBytes: 3000 } });
    h = new Harness(relay, { path: ':memory:' });
    await h.open();
  });

  after(async () => {
    await h?.close();
    await relay?.close();
  });

  it('a response too large for the relay becomes an INTERNAL error, and the outbox moves on', async () => {
    const gina = await h.connect('gina', 0);
    for (let i = 0; i < 8; i++) await gina.makeInvoice({ amount: 1_000 + i, description: `invoice ${i}` });
    await rejectsWith(
      gina.listTransactions({ unpaid: true }),
      'INTERNAL',
      /could not be delivered.*invalid:/,
    );
    assert.equal((await gina.listTransactions({ unpaid: true, limit: 2 })).transactions.length, 2);
    assert.ok(h.logger.records.some((r) => r.msg === 'outbox item undeliverable'));
    h.assertInvariants();
  });
});

describe('WalletMethods without a relay', () => {
  it('list_transactions stays under ~40 kB a response and pages on with offset', () => {
    const logger = new MemoryLogger();
    const db = openWalletDatabase(':memory:', logger);
    const clock = new ManualClock(Date.now());
    const accounts = new WalletAccounts(db, clock);
    const nodeSecretKey = hex32();
    const methods = new WalletMethods({
      db,
      accounts,
      nodeSecretKey,
      nodePubkey: nodePublicKey(nodeSecretKey),
      clock,
      logger,
      holdTimeoutSeconds: 60,
      defaultExpirySeconds: 3600,
    });
    const clientPubkey = generateLocalSigner().pubkey;
    accounts.addConnection({ name: 'hal', clientPubkey });
    const conn = accounts.connectionByName('hal') as NonNullable<
      ReturnType<typeof accounts.connectionByName>
    >;
    const run = (method: string, params: Record<string, unknown>) => {
      const id = hex32();
      const req = { id, clientPubkey, encryption: 'nip44_v2' as const, createdAt: nowS(), method, params };
      assert.deepEqual(methods.execute(conn, req), { duplicate: false });
      assert.deepEqual(methods.execute(conn, req), { duplicate: true });
      return JSON.parse(accounts.stmt.request.get(id)?.response ?? 'null') as {
        result: { transactions: unknown[]; total_count: number };
      };
    };
    for (let i = 0; i < 80; i++) {
      clock.advance(1000);
      run('make_invoice', { amount: 1000 + i, description: `${i} ${'x'.repeat(600)}` });
    }
    const first = run('list_transactions', { unpaid: true, limit: 1000 });
    const n = first.result.transactions.length;
    assert.equal(first.result.total_count, 80);
    assert.ok(n > 10 && n < 80, `${n} transactions`);
    assert.ok(JSON.stringify(first).length < 45_000);
    const next = run('list_transactions', { unpaid: true, limit: 1000, offset: n });
    assert.notDeepEqual(next.result.transactions[0], first.result.transactions[0]);
    assert.equal(accounts.checkInvariants().ok, true);
    db.close();
  });
});

/** A relay that keeps every event (as strfry keeps ephemeral ones for a while) and serves them to new REQs. */
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

describe('EmbeddedWalletService restart catch-up (a relay that keeps requests)', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'timmy-wallet-catchup-')), 'wallet.sqlite');
  const relay = new StoringRelay();
  const signer = generateLocalSigner();
  const nodeSecretKey = hex32();
  const erin = generateLocalSigner();
  const fred = generateLocalSigner();
  const open = () =>
    EmbeddedWalletService.open({
      relay,
      signer,
      relayUrl: 'ws://127.0.0.1:1/',
      path,
      nodeSecretKey,
      logger: new MemoryLogger(),
    });
  const request = async (from: LocalSigner, method: string, params: Record<string, unknown>) =>
    from.signEvent({
      kind: NWC_REQUEST_KIND,
      created_at: nowS(),
      tags: [
        ['p', signer.pubkey],
        ['encryption', 'nip44_v2'],
      ],
      content: await from.nip44.encrypt(signer.pubkey, JSON.stringify({ method, params })),
    });
  const answer = async (from: LocalSigner, id: string): Promise<Nip47ResponseBody> => {
    const r = await waitFor('a response', () => relay.responsesTo(id)[0]);
    return JSON.parse(await from.nip44.decrypt(signer.pubkey, r.content)) as Nip47ResponseBody;
  };

  after(() => rmSync(join(path, '..'), { recursive: true, force: true }));

  it('requests that arrived while stopped are executed on start; old ones are not executed twice', async () => {
    let service = await open();
    await service.start();
    service.addConnection({ name: 'erin', clientPubkey: erin.pubkey, balanceMsats: 10_000 });
    service.addConnection({ name: 'fred', clientPubkey: fred.pubkey });
    const make = await request(fred, 'make_invoice', { amount: 2_000, description: 'while you were out' });
    await relay.publish(make);
    const made = await answer(fred, make.id);
    const invoice = (made.result as { invoice: string }).invoice;
    const firstResponse = relay.responsesTo(make.id)[0]?.id;
    await service.stop();

    const pay = await request(erin, 'pay_invoice', { invoice });
    await relay.publish(pay); // nobody listening

    service = await open();
    await service.start(); // reads again from shortly before the last request: make (again) and pay
    try {
      const paid = await answer(erin, pay.id);
      assert.equal(paid.error, null);
      await waitFor('the repeated response', () => relay.responsesTo(make.id).length === 2);
      assert.deepEqual(
        relay.responsesTo(make.id).map((e) => e.id),
        [firstResponse, firstResponse],
        'the stored response, published again',
      );
      assert.deepEqual(service.balances().connections, { erin: 8_000, fred: 2_000 });
      assert.deepEqual(service.checkInvariants(), { ok: true, totalMsats: 0, holdMsats: 0, problems: [] });
    } finally {
      await service.stop();
    }
  });
});
